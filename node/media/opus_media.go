//go:build media

package media

/*
#cgo LDFLAGS: -lopus
#include <opus/opus.h>

// The encoder's controls are variadic macros, which cgo cannot call.
static int ancore_encoder_setup(OpusEncoder *e, int bitrate, int loss) {
	int err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(loss))) != OPUS_OK) return err;
	return opus_encoder_ctl(e, OPUS_SET_DTX(1));
}

static int ancore_encoder_set_loss(OpusEncoder *e, int loss) {
	return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(loss));
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Encoder encodes 20 ms frames of 48 kHz mono PCM to Opus. Not safe for
// concurrent use.
type Encoder struct {
	enc *C.OpusEncoder
}

// NewEncoder returns an encoder for voice (OPUS_APPLICATION_VOIP) with
// in-band FEC and DTX on.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	cfg = cfg.withDefaults()
	var errno C.int
	enc := C.opus_encoder_create(SampleRate, 1, C.OPUS_APPLICATION_VOIP, &errno)
	if errno != C.OPUS_OK {
		return nil, opusError("create encoder", errno)
	}
	if errno := C.ancore_encoder_setup(enc, C.int(cfg.Bitrate), C.int(cfg.LossPercent)); errno != C.OPUS_OK {
		C.opus_encoder_destroy(enc)
		return nil, opusError("configure encoder", errno)
	}
	return &Encoder{enc: enc}, nil
}

// Encode encodes one frame of FrameSamples samples into buf (MaxPayload
// bytes is always enough) and returns the packet, or nil when DTX says
// there is nothing to send for this frame.
func (e *Encoder) Encode(pcm []int16, buf []byte) ([]byte, error) {
	if len(pcm) != FrameSamples {
		return nil, fmt.Errorf("%w: encode %d samples, want %d", ErrCodec, len(pcm), FrameSamples)
	}
	if len(buf) == 0 {
		return nil, fmt.Errorf("%w: encode into an empty buffer", ErrCodec)
	}
	n := C.opus_encode(e.enc, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), FrameSamples,
		(*C.uchar)(unsafe.Pointer(&buf[0])), C.opus_int32(len(buf)))
	if n < 0 {
		return nil, opusError("encode", n)
	}
	// "If the return value is 2 bytes or less, then the packet does not
	// need to be transmitted (DTX)" (opus_encode's documentation).
	if n <= 2 {
		return nil, nil
	}
	return buf[:n], nil
}

// SetLossPercent tells the encoder the loss the receiver reports, which
// sets how much of the bitrate its FEC gets.
func (e *Encoder) SetLossPercent(p int) error {
	if errno := C.ancore_encoder_set_loss(e.enc, C.int(p)); errno != C.OPUS_OK {
		return opusError("set packet loss", errno)
	}
	return nil
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

// Close frees the encoder.
func (e *Encoder) Close() {
	if e.enc != nil {
		C.opus_encoder_destroy(e.enc)
		e.enc = nil
	}
}

// Decoder decodes Opus packets to 48 kHz mono PCM, and conceals frames it
// did not get. Not safe for concurrent use.
type Decoder struct {
	dec *C.OpusDecoder
}

// NewDecoder returns a decoder.
func NewDecoder() (*Decoder, error) {
	var errno C.int
	dec := C.opus_decoder_create(SampleRate, 1, &errno)
	if errno != C.OPUS_OK {
		return nil, opusError("create decoder", errno)
	}
	return &Decoder{dec: dec}, nil
}

// Decode decodes a packet into pcm and returns the number of samples; a
// nil packet conceals one frame (libopus's PLC, which is also how it
// renders a DTX gap). pcm must hold FrameSamples.
func (d *Decoder) Decode(packet []byte, pcm []int16) (int, error) {
	return d.decode(packet, pcm, 0)
}

// DecodeFEC recovers the frame before next from next's in-band FEC, into
// pcm (FrameSamples). libopus conceals the frame when next carries no FEC.
func (d *Decoder) DecodeFEC(next []byte, pcm []int16) (int, error) {
	return d.decode(next, pcm, 1)
}

func (d *Decoder) decode(packet []byte, pcm []int16, fec C.int) (int, error) {
	if len(pcm) < FrameSamples {
		return 0, fmt.Errorf("%w: decode into %d samples, want %d", ErrCodec, len(pcm), FrameSamples)
	}
	var data *C.uchar
	if len(packet) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&packet[0]))
	}
	// With FEC or concealment, frame_size must be the missing duration
	// exactly; with a packet, it is the room in pcm.
	n := C.opus_decode(d.dec, data, C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&pcm[0])), FrameSamples, fec)
	if n < 0 {
		return 0, opusError("decode", n)
	}
	return int(n), nil
}

// Close frees the decoder.
func (d *Decoder) Close() {
	if d.dec != nil {
		C.opus_decoder_destroy(d.dec)
		d.dec = nil
	}
}

func opusError(what string, errno C.int) error {
	return fmt.Errorf("%w: %s: %s", ErrCodec, what, C.GoString(C.opus_strerror(errno)))
}
