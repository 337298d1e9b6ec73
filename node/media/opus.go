package media

import "fmt"

// EncoderConfig sets up an Encoder; the zero value is the default.
type EncoderConfig struct {
	// Bitrate in bits per second (default 32000: wideband voice with room
	// for FEC).
	Bitrate int
	// LossPercent is the packet loss the encoder expects, which sets how
	// much of the bitrate its in-band FEC gets (default 10; libopus adds no
	// FEC at 0).
	LossPercent int
}

// DecodeFrame decodes a frame from a JitterBuffer into pcm (FrameSamples):
// from its packet, from the next packet's FEC, or by concealment. A packet
// libopus refuses is concealed too, so pcm always holds the frame's audio;
// the error (ErrBadPacket) then only tells the caller.
func (d *Decoder) DecodeFrame(f Frame, pcm []int16) (int, error) {
	var n int
	var err error
	switch {
	case f.Payload != nil:
		n, err = d.Decode(f.Payload, pcm)
	case f.FEC != nil:
		n, err = d.DecodeFEC(f.FEC, pcm)
	default:
		return d.Decode(nil, pcm)
	}
	if err == nil && n == FrameSamples {
		return n, nil
	}
	if n, cerr := d.Decode(nil, pcm); cerr != nil {
		return n, cerr
	}
	if err == nil {
		err = fmt.Errorf("decoded %d samples, want %d", n, FrameSamples)
	}
	return FrameSamples, fmt.Errorf("%w: concealed: %v", ErrBadPacket, err)
}
