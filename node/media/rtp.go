package media

import (
	"fmt"
	"time"

	"github.com/pion/rtp"
)

// The audio format of calls.
const (
	SampleRate    = 48000
	FrameDuration = 20 * time.Millisecond
	// FrameSamples is one frame of mono audio, and one frame's step of the
	// RTP timestamp (RFC 7587: Opus's RTP clock is always 48 kHz).
	FrameSamples = SampleRate / 50
	// MaxPayload bounds a payload taken from the network: one 20 ms Opus
	// frame is at most 1275 bytes (RFC 6716, 3.2.1), and a packet must fit
	// an Ethernet MTU anyway.
	MaxPayload = 1500
)

// Packet is what the jitter buffer needs of one received RTP packet.
type Packet struct {
	SSRC      uint32
	Seq       uint16
	Timestamp uint32
	Payload   []byte
}

// ParsePacket reads raw bytes from the network as an RTP packet of one
// 20 ms Opus frame of payload type pt. Payload aliases raw.
func ParsePacket(raw []byte, pt uint8) (Packet, error) {
	var p rtp.Packet
	if err := p.Unmarshal(raw); err != nil {
		return Packet{}, fmt.Errorf("%w: %v", ErrBadPacket, err)
	}
	return FromRTP(&p, pt)
}

// FromRTP checks an RTP packet parsed elsewhere (by a WebRTC track) as one
// 20 ms Opus frame of payload type pt.
func FromRTP(p *rtp.Packet, pt uint8) (Packet, error) {
	switch {
	case p.Version != 2:
		return Packet{}, fmt.Errorf("%w: RTP version %d", ErrBadPacket, p.Version)
	case p.PayloadType != pt:
		return Packet{}, fmt.Errorf("%w: payload type %d, want %d", ErrBadPacket, p.PayloadType, pt)
	case len(p.Payload) > MaxPayload:
		return Packet{}, fmt.Errorf("%w: payload of %d bytes", ErrBadPacket, len(p.Payload))
	}
	n, err := OpusPacketSamples(p.Payload)
	if err != nil {
		return Packet{}, err
	}
	if n != FrameSamples {
		return Packet{}, fmt.Errorf("%w: %d samples, want %d", ErrBadPacket, n, FrameSamples)
	}
	return Packet{SSRC: p.SSRC, Seq: p.SequenceNumber, Timestamp: p.Timestamp, Payload: p.Payload}, nil
}

// OpusPacketSamples is the duration of an Opus packet in samples at
// 48 kHz, from its TOC byte (RFC 6716, 3.1), with the checks of libopus's
// opus_packet_get_nb_samples, so a packet is judged here as the decoder
// will judge it, without cgo.
func OpusPacketSamples(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: empty Opus packet", ErrBadPacket)
	}
	config := int(b[0] >> 3)
	var perFrame int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		perFrame = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		perFrame = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		perFrame = []int{120, 240, 480, 960}[config%4]
	}
	frames := 1
	switch b[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(b) < 2 {
			return 0, fmt.Errorf("%w: Opus packet without a frame count", ErrBadPacket)
		}
		frames = int(b[1] & 0x3f)
	}
	n := frames * perFrame
	if n*25 > SampleRate*3 { // over 120 ms
		return 0, fmt.Errorf("%w: Opus packet of %d samples", ErrBadPacket, n)
	}
	return n, nil
}

// Packetizer numbers the RTP packets of one sender's Opus frames.
type Packetizer struct {
	ssrc        uint32
	payloadType uint8
	seq         uint16
	ts          uint32
	silent      bool
}

// NewPacketizer starts a stream; seq and ts should be random (RFC 3550).
func NewPacketizer(ssrc uint32, pt uint8, seq uint16, ts uint32) *Packetizer {
	return &Packetizer{ssrc: ssrc, payloadType: pt, seq: seq, ts: ts, silent: true}
}

// Frame takes the encoder's output for the next 20 ms frame and returns the
// packet to send, or false when the encoder had nothing to send (DTX): the
// timestamp still moves on a frame but the sequence number does not, which
// is how the receiver tells silence from loss. The first packet after
// silence carries the marker bit (RFC 7587, 4.2).
func (z *Packetizer) Frame(payload []byte) (*rtp.Packet, bool) {
	defer func() { z.ts += FrameSamples }()
	if payload == nil {
		z.silent = true
		return nil, false
	}
	p := &rtp.Packet{
		Header: rtp.Header{
			Version:        2,
			Marker:         z.silent,
			PayloadType:    z.payloadType,
			SequenceNumber: z.seq,
			Timestamp:      z.ts,
			SSRC:           z.ssrc,
		},
		Payload: payload,
	}
	z.seq++
	z.silent = false
	return p, true
}
