// Package device is a call's sound on this machine: capture from a
// microphone and playback to a speaker through miniaudio (malgo, which
// loads PulseAudio, PipeWire's Pulse server or ALSA at run time), as the
// media.Source and media.Sink of node/media: 48 kHz mono, signed 16-bit,
// 20 ms frames.
//
// The device's callback never waits for the call: captured samples go
// into a small bounded ring that drops its oldest samples when the
// session falls behind, and playback takes frames from a bounded queue,
// playing silence (and counting an underrun) when it is empty.
//
// When no real device opens (no sound server, a headless machine) a
// direction falls back to miniaudio's null backend, whose clock runs like
// a device's with silence in and nothing out: the call still connects,
// and Devices.Silent says it has no sound. malgo is cgo, so the devices
// exist only with the build tag media; without it Open and List return
// media.ErrUnavailable and the package is pure Go.
package device

import "errors"

// The errors of this package, checked with errors.Is.
var (
	// ErrClosed: the device was closed while a call read from it.
	ErrClosed = errors.New("audio device closed")
	// ErrNoSoundSystem: none of the machine's sound systems could be
	// started (no PulseAudio, PipeWire or ALSA), so there is no device to
	// list.
	ErrNoSoundSystem = errors.New("no sound system")
)

// Config says which devices to open.
type Config struct {
	// Capture and Playback are device IDs from List; empty means the
	// system's default device.
	Capture, Playback string
}

// Info describes one device, for a settings screen.
type Info struct {
	ID      string // what Config takes
	Name    string // as the sound system names it
	Default bool   // the system's default device of its kind
}

// Lists are the machine's devices of each kind.
type Lists struct {
	Capture, Playback []Info
}

// Stats count what a pair of devices did, in 20 ms frames.
type Stats struct {
	Captured  uint64 // frames captured
	Dropped   uint64 // captured frames dropped because the call did not take them in time
	Played    uint64 // frames played
	Overflows uint64 // frames dropped before playing because the queue was full
	Underruns uint64 // device periods that found too little to play and played silence
}
