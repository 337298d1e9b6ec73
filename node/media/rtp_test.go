package media

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"
)

const testPT = 111

func marshal(t testing.TB, p *rtp.Packet) []byte {
	t.Helper()
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestOpusPacketSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		packet []byte
		want   int // -1: invalid
	}{
		{[]byte{1 << 3}, 960},              // SILK NB 20 ms
		{[]byte{9 << 3, 0xaa}, 960},        // SILK WB 20 ms
		{[]byte{11 << 3}, 2880},            // SILK WB 60 ms
		{[]byte{13 << 3}, 960},             // hybrid SWB 20 ms
		{[]byte{31 << 3}, 960},             // CELT FB 20 ms
		{[]byte{28 << 3}, 120},             // CELT FB 2.5 ms
		{[]byte{29<<3 | 1, 0, 0}, 480},     // two 5 ms frames
		{[]byte{30<<3 | 3, 2}, 960},        // code 3: two 10 ms frames
		{[]byte{11<<3 | 3, 3}, -1},         // 180 ms: over 120
		{[]byte{31<<3 | 3}, -1},            // code 3 without its count
		{[]byte{}, -1},                     // empty
		{[]byte{28<<3 | 3, 48}, 5760},      // 48 × 2.5 ms = 120 ms
		{[]byte{28<<3 | 3, 49 | 0x40}, -1}, // 49 × 2.5 ms
	} {
		got, err := OpusPacketSamples(tc.packet)
		if tc.want < 0 {
			if !errors.Is(err, ErrBadPacket) {
				t.Errorf("%x: %d, %v; want ErrBadPacket", tc.packet, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%x: %d, %v; want %d", tc.packet, got, err, tc.want)
		}
	}
}

func TestParsePacket(t *testing.T) {
	t.Parallel()
	z := NewPacketizer(0xdecafbad, testPT, 65535, 1<<32-FrameSamples)
	first, ok := z.Frame([]byte{31 << 3, 1, 2, 3})
	if !ok || !first.Marker {
		t.Fatalf("first packet %v, %v: want one with the marker bit", first, ok)
	}
	if _, ok := z.Frame(nil); ok {
		t.Fatal("a DTX frame made a packet")
	}
	third, _ := z.Frame([]byte{31 << 3, 4})
	if third.SequenceNumber != 0 || third.Timestamp != FrameSamples || !third.Marker {
		t.Fatalf("after a DTX frame: seq %d ts %d marker %v; want seq 0 (wrapped, DTX not counted), ts %d, marker",
			third.SequenceNumber, third.Timestamp, third.Marker, FrameSamples)
	}
	p, err := ParsePacket(marshal(t, third), testPT)
	if err != nil {
		t.Fatal(err)
	}
	if p.SSRC != 0xdecafbad || p.Seq != 0 || p.Timestamp != FrameSamples || !bytes.Equal(p.Payload, []byte{31 << 3, 4}) {
		t.Fatalf("parsed %+v", p)
	}
	for name, raw := range map[string][]byte{
		"other payload type": marshal(t, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0}, Payload: []byte{31 << 3}}),
		"10 ms frame":        marshal(t, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: testPT}, Payload: []byte{30 << 3}}),
		"no payload":         marshal(t, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: testPT}}),
		"truncated":          marshal(t, third)[:8],
		"too big":            marshal(t, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: testPT}, Payload: append([]byte{31 << 3}, make([]byte, MaxPayload)...)}),
	} {
		if _, err := ParsePacket(raw, testPT); !errors.Is(err, ErrBadPacket) {
			t.Errorf("%s: %v, want ErrBadPacket", name, err)
		}
	}
}

// Whatever comes off the network: parsing never panics, what it accepts is
// one 20 ms frame that survives a round trip, and the jitter buffer takes
// it and plays it.
func FuzzParsePacket(f *testing.F) {
	z := NewPacketizer(1, testPT, 65535, 0)
	p, _ := z.Frame([]byte{31 << 3, 0xde, 0xad})
	f.Add(marshal(f, p))
	withExtension := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: testPT, Padding: true, CSRC: []uint32{9}},
		Payload: []byte{9<<3 | 3, 1, 7}, PaddingSize: 3}
	if err := withExtension.SetExtension(1, []byte{0x30}); err != nil {
		f.Fatal(err)
	}
	f.Add(marshal(f, withExtension))
	f.Add([]byte{0x80, testPT})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParsePacket(raw, testPT)
		if err != nil {
			if !errors.Is(err, ErrBadPacket) {
				t.Fatalf("error %v is not ErrBadPacket", err)
			}
			return
		}
		if n, err := OpusPacketSamples(p.Payload); err != nil || n != FrameSamples {
			t.Fatalf("accepted a payload of %d samples (%v)", n, err)
		}
		again, err := ParsePacket(marshal(t, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: testPT,
			SequenceNumber: p.Seq, Timestamp: p.Timestamp, SSRC: p.SSRC}, Payload: p.Payload}), testPT)
		if err != nil || again.Seq != p.Seq || again.Timestamp != p.Timestamp || again.SSRC != p.SSRC || !bytes.Equal(again.Payload, p.Payload) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, p)
		}
		b := NewJitterBuffer(JitterConfig{})
		t0 := time.Unix(0, 0)
		if r := b.Push(p, t0); r != Accepted {
			t.Fatalf("buffer refused a parsed packet: %v", r)
		}
		fr, ok := b.Pop(t0.Add(time.Second))
		if !ok || fr.Timestamp != p.Timestamp || !bytes.Equal(fr.Payload, p.Payload) {
			t.Fatalf("played %+v, %v; want the packet", fr, ok)
		}
	})
}
