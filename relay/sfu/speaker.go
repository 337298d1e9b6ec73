package sfu

import "math/bits"

// Speaker detection reads the audio level that the sender writes into the
// clear RTP header (RFC 6464), so it works on end-to-end encrypted audio.
// Levels are in -dBov, 0 the loudest and 127 silence.
const (
	// loudLevel: a packet at -50 dBov or louder counts as speech. Room
	// noise through a decent microphone stays below it; DTX silence is 127.
	loudLevel = 50
	// speakOn: this many loud packets among the last speakWindow start
	// speech (100 ms of the last 200 ms): one click does not.
	speakOn     = 5
	speakWindow = 10
	// quietPackets: this many packets (500 ms) with none loud end speech,
	// so the indicator does not flicker between words.
	quietPackets = 25
)

// speakerState is one audio track's detector, owned by the track's read
// loop.
type speakerState struct {
	history  uint32 // bit i set: packet i ago was loud
	speaking bool
}

// observe takes the level of the next packet and reports whether the
// speaking state changed.
func (s *speakerState) observe(level uint8) (changed bool) {
	s.history <<= 1
	if level <= loudLevel {
		s.history |= 1
	}
	switch {
	case !s.speaking && bits.OnesCount32(s.history&(1<<speakWindow-1)) >= speakOn:
		s.speaking = true
		return true
	case s.speaking && s.history&(1<<quietPackets-1) == 0:
		s.speaking = false
		return true
	}
	return false
}
