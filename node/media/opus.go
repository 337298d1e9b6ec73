package media

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

func (c EncoderConfig) withDefaults() EncoderConfig {
	if c.Bitrate <= 0 {
		c.Bitrate = 32000
	}
	if c.LossPercent <= 0 {
		c.LossPercent = 10
	}
	return c
}

// DecodeFrame decodes a frame from a JitterBuffer into pcm: from its
// packet, from the next packet's FEC, or by concealment.
func (d *Decoder) DecodeFrame(f Frame, pcm []int16) (int, error) {
	switch {
	case f.Payload != nil:
		return d.Decode(f.Payload, pcm)
	case f.FEC != nil:
		return d.DecodeFEC(f.FEC, pcm)
	default:
		return d.Decode(nil, pcm)
	}
}
