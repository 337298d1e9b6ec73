//go:build media

package media

import (
	"errors"
	"testing"
)

func newCodec(t testing.TB) (*Encoder, *Decoder) {
	t.Helper()
	enc, err := NewEncoder(EncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enc.Close)
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	return enc, dec
}

// A tone survives encoding and decoding; the packets are 20 ms frames as
// ParsePacket judges them.
func TestOpusRoundTrip(t *testing.T) {
	t.Parallel()
	enc, dec := newCodec(t)
	buf := make([]byte, MaxPayload)
	pcm := make([]int16, FrameSamples)
	var out []int16
	for i := range 50 {
		packet, err := enc.Encode(ToneFrame(440, 0.3, i), buf)
		if err != nil || packet == nil {
			t.Fatalf("frame %d: %d bytes, %v", i, len(packet), err)
		}
		if n, err := OpusPacketSamples(packet); err != nil || n != FrameSamples {
			t.Fatalf("frame %d: packet of %d samples, %v", i, n, err)
		}
		n, err := dec.Decode(packet, pcm)
		if err != nil || n != FrameSamples {
			t.Fatalf("decode frame %d: %d, %v", i, n, err)
		}
		if i >= 10 {
			out = append(out, pcm...)
		}
	}
	if a := ToneLevel(out, 440); a < 0.2 {
		t.Errorf("440 Hz amplitude after the codec %.3f, sent 0.3", a)
	}
	if _, err := enc.Encode(make([]int16, 480), buf); !errors.Is(err, ErrCodec) {
		t.Errorf("encode of 10 ms: %v, want ErrCodec", err)
	}
}

// With DTX, silence stops the packets after a few frames.
func TestOpusDTX(t *testing.T) {
	t.Parallel()
	enc, _ := newCodec(t)
	buf := make([]byte, MaxPayload)
	silence := make([]int16, FrameSamples)
	var skipped int
	for range 50 {
		packet, err := enc.Encode(silence, buf)
		if err != nil {
			t.Fatal(err)
		}
		if packet == nil {
			skipped++
		}
	}
	if skipped < 30 {
		t.Fatalf("%d of 50 silent frames left unsent, want most", skipped)
	}
}

// A lost frame is recovered from the next packet's FEC, where concealment
// can only extrapolate: the tone changes from 440 Hz to 1 kHz at the lost
// frame, which FEC brings and concealment does not.
func TestOpusFEC(t *testing.T) {
	t.Parallel()
	fec, plc := lostFrameRecovery(t, -1)
	t.Logf("1 kHz in the lost frame: %.3f by FEC, %.3f by concealment", fec, plc)
	if fec < 0.05 || fec < 3*plc {
		t.Fatalf("1 kHz in the lost frame: %.3f recovered by FEC, %.3f by concealment; want FEC to bring it", fec, plc)
	}
	// An encoder told of no loss spends nothing on FEC.
	fec0, plc0 := lostFrameRecovery(t, 0)
	t.Logf("with no loss expected: %.3f by FEC, %.3f by concealment", fec0, plc0)
	if fec0 > 2*plc0+0.01 {
		t.Fatalf("with no loss expected, FEC still recovered the lost frame: %.3f, %.3f by concealment", fec0, plc0)
	}
}

// lostFrameRecovery returns the amplitude of the 1 kHz that starts in the
// lost frame as recovered by FEC and by concealment, with the encoder's
// expected loss set to lossPercent (when not negative).
func lostFrameRecovery(t *testing.T, lossPercent int) (fec, plc float64) {
	enc, _ := newCodec(t)
	if lossPercent >= 0 {
		if err := enc.SetLossPercent(lossPercent); err != nil {
			t.Fatal(err)
		}
	}
	const lost = 30
	buf := make([]byte, MaxPayload)
	var packets [][]byte
	for i := range lost + 1 {
		freq := 440.0
		if i >= lost-1 {
			freq = 1000
		}
		packet, err := enc.Encode(ToneFrame(freq, 0.3, i), buf)
		if err != nil || packet == nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		packets = append(packets, append([]byte(nil), packet...))
	}
	recovered := func(useFEC bool) []int16 {
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		pcm := make([]int16, FrameSamples)
		for i := range lost {
			f := Frame{Payload: packets[i]}
			if i == lost-1 {
				f = Frame{}
				if useFEC {
					f.FEC = packets[lost]
				}
			}
			if _, err := dec.DecodeFrame(f, pcm); err != nil {
				t.Fatal(err)
			}
		}
		return pcm
	}
	return ToneLevel(recovered(true), 1000), ToneLevel(recovered(false), 1000)
}

// Whatever bytes arrive as a payload, libopus decodes or refuses them
// without crashing, and a packet it plays as 20 ms is one ParsePacket
// accepts: the Go check of the TOC agrees with the decoder.
func FuzzDecode(f *testing.F) {
	enc, err := NewEncoder(EncoderConfig{})
	if err != nil {
		f.Fatal(err)
	}
	defer enc.Close()
	packet, err := enc.Encode(ToneFrame(440, 0.3, 0), make([]byte, MaxPayload))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(packet)
	f.Add([]byte{30<<3 | 3, 2, 0, 0})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, payload []byte) {
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		pcm := make([]int16, FrameSamples)
		n, decErr := dec.Decode(payload, pcm)
		samples, parseErr := OpusPacketSamples(payload)
		if decErr == nil && len(payload) > 0 && (parseErr != nil || samples != n) {
			t.Fatalf("libopus decoded %d samples, OpusPacketSamples says %d (%v)", n, samples, parseErr)
		}
		if n, err := dec.DecodeFrame(Frame{Payload: payload}, pcm); n != FrameSamples || (err != nil && !errors.Is(err, ErrBadPacket)) {
			t.Fatalf("DecodeFrame: %d samples, %v; want a frame, concealed if need be", n, err)
		}
	})
}
