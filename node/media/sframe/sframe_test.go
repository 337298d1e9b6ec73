package sframe

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"testing"
)

func newKey(t testing.TB, sender string) *Key {
	t.Helper()
	epoch := bytes.Repeat([]byte{7}, 32)
	k, err := SenderKey(epoch, []byte("call-1"), []byte(sender))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHeaderEncoding(t *testing.T) {
	for _, c := range []struct {
		kid, ctr uint64
		want     string
	}{
		{0, 0, "00"},
		{7, 0, "70"},
		{0, 7, "07"},
		{8, 0, "8008"},
		{0, 8, "0808"},
		{0xf, 0xaa, "880faa"},
		{0x1ff, 0xaaaa, "9901ffaaaa"},
		{0xffffffffffffffff, 0xffffffffffffffff, "ffffffffffffffffffffffffffffffffff"},
	} {
		h := appendHeader(nil, c.kid, c.ctr)
		if got := hex.EncodeToString(h); got != c.want {
			t.Errorf("header of KID %#x CTR %#x: %s, want %s", c.kid, c.ctr, got, c.want)
		}
		kid, ctr, n, err := parseHeader(append(h, 0xee))
		if err != nil || kid != c.kid || ctr != c.ctr || n != len(h) {
			t.Errorf("parse %s: KID %#x CTR %#x length %d, %v", c.want, kid, ctr, n, err)
		}
	}
	for name, h := range map[string]string{
		"empty":              "",
		"kid cut short":      "9001",
		"ctr cut short":      "0a0102",
		"long form of 5":     "8005",
		"kid with a zero":    "90000f",
		"ctr with two bytes": "09000f",
	} {
		b, _ := hex.DecodeString(h)
		if _, _, _, err := parseHeader(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s (%s): %v, want ErrMalformed", name, h, err)
		}
	}
}

func TestSealOpen(t *testing.T) {
	alice, bob := newKey(t, "alice"), newKey(t, "bob")
	if alice.KID() == bob.KID() || alice.KID() >= 1<<(8*kidBytes) {
		t.Fatalf("KIDs %#x and %#x", alice.KID(), bob.KID())
	}
	o := NewOpener()
	o.Add(alice)
	o.Add(bob)
	sa, sb := NewSealer(alice), NewSealer(bob)
	for _, size := range []int{0, 1, 80, 1200} {
		payload := make([]byte, size)
		rand.Read(payload)
		for _, s := range []*Sealer{sa, sb} {
			packet := s.Seal(nil, payload)
			if len(packet) > size+MaxOverhead || bytes.Contains(packet, payload) && size > 8 {
				t.Fatalf("sealed %d bytes into %d that hold them in clear", size, len(packet))
			}
			got, k, err := o.Open(nil, packet)
			if err != nil || !bytes.Equal(got, payload) || k != s.key {
				t.Fatalf("opened %x by %v, %v; want %x by %#x", got, k, err, payload, s.key.KID())
			}
		}
	}
	// A key of the same sender and call under another epoch (after a
	// rekey) opens none of it: a member removed at the rekey is locked out.
	next, err := SenderKey(bytes.Repeat([]byte{8}, 32), []byte("call-1"), []byte("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if next.KID() == alice.KID() {
		t.Fatal("the next epoch's key has the same KID")
	}
	old := NewOpener()
	old.Add(alice)
	if _, _, err := old.Open(nil, NewSealer(next).Seal(nil, []byte("after the rekey"))); !errors.Is(err, ErrNoKey) {
		t.Fatalf("the old epoch's opener: %v, want ErrNoKey", err)
	}
	o.Remove(bob)
	if _, _, err := o.Open(nil, sb.Seal(nil, []byte("gone"))); !errors.Is(err, ErrNoKey) {
		t.Fatalf("a removed key: %v, want ErrNoKey", err)
	}
}

// What the SFU could try: alter the clear header or the ciphertext, or
// replay a packet.
func TestOpenRefusesTampering(t *testing.T) {
	k := newKey(t, "alice")
	o := NewOpener()
	o.Add(k)
	s := NewSealer(k)
	for range 9 { // past the one-byte counters
		s.Seal(nil, nil)
	}
	packet := s.Seal(nil, []byte("a secret spoken in a call"))
	_, _, n, err := parseHeader(packet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range packet {
		bad := bytes.Clone(packet)
		bad[i] ^= 0x01
		if _, _, err := o.Open(nil, bad); err == nil {
			t.Fatalf("a packet with byte %d (header %d bytes) flipped opened", i, n)
		}
	}
	if _, _, err := o.Open(nil, packet); err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Open(nil, packet); !errors.Is(err, ErrReplay) {
		t.Fatalf("a replay: %v, want ErrReplay", err)
	}
	if _, _, err := o.Open(nil, packet[:n+tagSize-1]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a packet shorter than a tag: %v, want ErrMalformed", err)
	}
}

// Packets arrive reordered and duplicated: each opens once, in any order,
// as long as it is within the window of the highest counter opened.
func TestOpenReordered(t *testing.T) {
	k := newKey(t, "alice")
	s := NewSealer(k)
	var packets [][]byte
	for i := range 300 {
		packets = append(packets, s.Seal(nil, []byte{byte(i)}))
	}
	o := NewOpener()
	o.Add(k)
	order := mrand.Perm(len(packets))
	// Shuffle only within blocks of 32, as a network reorders.
	for b := 0; b < len(order); b += 32 {
		block := order[b:min(b+32, len(order))]
		for i := range block {
			block[i] = b + i
		}
		mrand.Shuffle(len(block), func(i, j int) { block[i], block[j] = block[j], block[i] })
	}
	opened := map[int]bool{}
	for _, i := range order {
		for range 2 { // every packet twice
			got, _, err := o.Open(nil, packets[i])
			if err == nil {
				if opened[i] || !bytes.Equal(got, []byte{byte(i)}) {
					t.Fatalf("packet %d opened again or wrong: %x", i, got)
				}
				opened[i] = true
			} else if !errors.Is(err, ErrReplay) {
				t.Fatal(err)
			}
		}
	}
	if len(opened) != len(packets) {
		t.Fatalf("%d of %d packets opened", len(opened), len(packets))
	}
	if _, _, err := o.Open(nil, packets[len(packets)-1-replayWindow]); !errors.Is(err, ErrReplay) {
		t.Fatalf("a packet a window behind: %v, want ErrReplay", err)
	}
}

// The window against a model: a set of the counters opened, and a
// counter is fresh when not in it and at most replayWindow-1 behind the
// highest.
func TestWindowProperty(t *testing.T) {
	for seed := range uint64(200) {
		r := mrand.New(mrand.NewPCG(seed, 1))
		var w window
		seen := map[uint64]bool{}
		var top uint64
		for range 500 {
			var ctr uint64
			switch r.IntN(4) {
			case 0:
				ctr = top + uint64(r.IntN(300))
			case 1:
				ctr = top - min(top, uint64(r.IntN(200)))
			default:
				ctr = top + uint64(r.IntN(3)) - min(top, 1)
			}
			want := !seen[ctr] && (len(seen) == 0 || ctr > top || top-ctr < replayWindow)
			if got := w.fresh(ctr); got != want {
				t.Fatalf("seed %d: fresh(%d) = %v with top %d, want %v", seed, ctr, got, top, want)
			}
			if want {
				w.mark(ctr)
				seen[ctr] = true
				top = max(top, ctr)
			}
		}
	}
}

func FuzzOpen(f *testing.F) {
	k := newKey(f, "alice")
	s := NewSealer(k)
	f.Add(s.Seal(nil, []byte("hello")))
	f.Add(s.Seal(nil, nil))
	f.Add([]byte{0x88, 0x0f, 0xaa})
	f.Fuzz(func(t *testing.T, packet []byte) {
		o := NewOpener()
		o.Add(k)
		got, key, err := o.Open(nil, packet)
		if err != nil {
			for _, want := range []error{ErrMalformed, ErrNoKey, ErrDecrypt, ErrReplay} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error %v of no kind", err)
		}
		// Only what the sealer made opens; it opens to what was sealed.
		if key != k || len(got) != len(packet)-tagSize-headerLen(t, packet) {
			t.Fatalf("opened %x", got)
		}
	})
}

func headerLen(t *testing.T, p []byte) int {
	_, _, n, err := parseHeader(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkSFrameAudio seals and opens one Opus-sized payload (80 bytes):
// what end-to-end encryption adds to each 20 ms audio packet.
func BenchmarkSFrameAudio(b *testing.B) {
	k := newKey(b, "alice")
	s, o := NewSealer(k), NewOpener()
	o.Add(k)
	payload := make([]byte, 80)
	buf, out := make([]byte, 0, 80+MaxOverhead), make([]byte, 0, 80)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		p := s.Seal(buf[:0], payload)
		if _, _, err := o.Open(out[:0], p); err != nil {
			b.Fatal(err)
		}
	}
}
