package crdt

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

// signalDecodeErrors are the sentinels DecodeSignal's failures wrap.
var signalDecodeErrors = []error{
	ErrTooLarge, ErrMalformed, ErrNonCanonical, ErrUnknownVersion,
	ErrUnknownKind, ErrBadSignature, ErrFromFuture, ErrStale,
}

func isSignalDecodeError(err error) bool {
	return slices.ContainsFunc(signalDecodeErrors, func(s error) bool { return errors.Is(err, s) })
}

func testPresence(status Status) Signal {
	return Signal{Kind: SignalPresence, Community: testCommunity, Status: status, Time: testNow}
}

func testTyping() Signal {
	return Signal{Kind: SignalTyping, Community: testCommunity, Channel: testChannel, Time: testNow}
}

func mustSignSignal(t testing.TB, d *Device, s Signal) []byte {
	t.Helper()
	b, err := d.SignSignal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signWireSignal signs and encodes w as given, valid or not.
func signWireSignal(t testing.TB, d *Device, w wireSignal) []byte {
	t.Helper()
	w.Sig = ed25519.Sign(d.priv, w.signingInput())
	b, err := encMode.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignalRoundTrip(t *testing.T) {
	u := newTestUser(t)
	d := newTestDevice(t, u)
	v := NewVerifier()
	sent := []Signal{
		testPresence(StatusOnline), testPresence(StatusIdle), testPresence(StatusDND), testPresence(StatusOffline),
		testTyping(),
	}
	for _, s := range sent {
		s.Time = testNow.Add(-1500*time.Millisecond + 789*time.Microsecond) // below ms precision is dropped
		b := mustSignSignal(t, d, s)
		if len(b) > 300 {
			t.Errorf("signal of %d bytes; MaxSignalSize's comment promises under 300", len(b))
		}
		if again := mustSignSignal(t, d, s); !bytes.Equal(again, b) {
			t.Error("signing the same signal twice gave different bytes")
		}
		got, err := v.DecodeSignal(b, testNow)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		want := s
		want.Author, want.Cert, want.Time = d.ID(), d.Cert(), s.Time.Truncate(time.Millisecond)
		if !got.Time.Equal(want.Time) {
			t.Errorf("time %s, want %s", got.Time, want.Time)
		}
		got.Time = want.Time
		if got != want {
			t.Errorf("decoded %+v\nwant %+v", got, want)
		}
		if got.User() != u.ID() {
			t.Errorf("User() = %v, want %v", got.User(), u.ID())
		}
	}
}

func TestSignSignalRejects(t *testing.T) {
	d := newTestDevice(t, newTestUser(t))
	with := func(s Signal, edit func(*Signal)) Signal {
		edit(&s)
		return s
	}
	cases := []struct {
		name   string
		signal Signal
		want   error
	}{
		{"typing without channel", with(testTyping(), func(s *Signal) { s.Channel = ID{} }), ErrMalformed},
		{"typing with status", with(testTyping(), func(s *Signal) { s.Status = StatusOnline }), ErrMalformed},
		{"presence with channel", with(testPresence(StatusOnline), func(s *Signal) { s.Channel = testChannel }), ErrMalformed},
		{"presence without status", testPresence(0), ErrMalformed},
		{"presence with unknown status", testPresence(StatusOffline + 1), ErrMalformed},
		{"no community", with(testTyping(), func(s *Signal) { s.Community = ID{} }), ErrMalformed},
		{"community not an id", with(testTyping(), func(s *Signal) { s.Community[0] ^= 1 }), ErrMalformed},
		{"channel not an id", with(testTyping(), func(s *Signal) { s.Channel[1] ^= 1 }), ErrMalformed},
		{"no time", with(testTyping(), func(s *Signal) { s.Time = time.Time{} }), ErrMalformed},
		{"kind zero", with(testTyping(), func(s *Signal) { s.Kind = 0 }), ErrUnknownKind},
		{"unknown kind", with(testTyping(), func(s *Signal) { s.Kind = 3 }), ErrUnknownKind},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if b, err := d.SignSignal(c.signal); !errors.Is(err, c.want) || b != nil {
				t.Errorf("SignSignal = %x, %v; want error %v", b, err, c.want)
			}
		})
	}
}

func TestDecodeSignalErrors(t *testing.T) {
	u := newTestUser(t)
	d := newTestDevice(t, u)
	other := newTestDevice(t, newTestUser(t))
	typing := testTyping()
	typing.Author, typing.Cert = d.ID(), d.Cert()
	good := typing.wire()
	with := func(edit func(*wireSignal)) []byte {
		w := good
		edit(&w)
		return signWireSignal(t, d, w)
	}
	valid := with(func(*wireSignal) {})
	if valid[0] != 0x8a || valid[1] != signalVersion {
		t.Fatalf("signal does not start with a 10-array and version 1: % x", valid[:2])
	}
	nonMinimal := append([]byte{0x8a, 0x18, 0x01}, valid[2:]...)
	flipped := slices.Clone(valid)
	flipped[len(flipped)-1] ^= 1
	marshal := func(v any) []byte {
		b, err := encMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unsigned := good
	unsigned.Sig = nil
	withoutDomain := good
	withoutDomain.Sig = ed25519.Sign(d.priv, withoutDomain.signingInput()[len(signalDomain):])
	wrongCert := good
	wrongCert.User, wrongCert.CertSig = other.cert.User[:], other.cert.Sig[:]
	byOther := good
	byOther.Sig = ed25519.Sign(other.priv, byOther.signingInput())
	millis := func(d time.Duration) uint64 { return uint64(testNow.Add(d).UnixMilli()) }
	// replaced returns valid with its only occurrence of old replaced.
	replaced := func(old, new []byte) []byte {
		t.Helper()
		if bytes.Count(valid, old) != 1 {
			t.Fatalf("% x is not in the signal exactly once", old)
		}
		return bytes.Replace(valid, old, new, 1)
	}
	timeField := marshal(millis(0))
	// A presence signal whose empty channel is an empty text string.
	textChannel := marshal([]any{
		good.Version, uint64(SignalPresence), good.Community, "", uint64(StatusOnline), good.Time,
		good.Author, good.User, good.CertSig, make([]byte, ed25519.SignatureSize),
	})

	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"too large", make([]byte, MaxSignalSize+1), ErrTooLarge},
		{"empty", nil, ErrMalformed},
		{"garbage", []byte("not a signal"), ErrMalformed},
		{"truncated", valid[:len(valid)-1], ErrMalformed},
		{"trailing byte", append(slices.Clone(valid), 0), ErrMalformed},
		{"an op", signWire(t, d, newOpFixture(t).sign(t, KindDelete).wireHeader(), nil), ErrMalformed},
		{"nine fields", marshal(unsignedSignal{Version: 1, Kind: 2}), ErrMalformed},
		{"negative time", replaced(timeField, append([]byte{0x3b}, timeField[1:]...)), ErrMalformed},
		{"non-minimal integer", nonMinimal, ErrNonCanonical},
		{"text instead of bytes", textChannel, ErrMalformed},
		{"unknown version", with(func(w *wireSignal) { w.Version = 2 }), ErrUnknownVersion},
		{"unknown kind", with(func(w *wireSignal) { w.Kind = 3 }), ErrUnknownKind},
		{"kind zero", with(func(w *wireSignal) { w.Kind = 0 }), ErrUnknownKind},
		{"kind beyond a byte", with(func(w *wireSignal) { w.Kind = 256 + uint64(SignalTyping) }), ErrUnknownKind},
		{"status beyond a byte", with(func(w *wireSignal) { w.Kind, w.Channel, w.Status = 1, nil, 256+1 }), ErrMalformed},
		{"unknown status", with(func(w *wireSignal) { w.Kind, w.Channel, w.Status = 1, nil, 5 }), ErrMalformed},
		{"presence without status", with(func(w *wireSignal) { w.Kind, w.Channel = 1, nil }), ErrMalformed},
		{"presence with channel", with(func(w *wireSignal) { w.Kind, w.Status = 1, 1 }), ErrMalformed},
		{"typing without channel", with(func(w *wireSignal) { w.Channel = nil }), ErrMalformed},
		{"typing with status", with(func(w *wireSignal) { w.Status = 1 }), ErrMalformed},
		{"no community", with(func(w *wireSignal) { w.Community = nil }), ErrMalformed},
		{"community not an id", with(func(w *wireSignal) { w.Community = testIDs(1)[0][1:] }), ErrMalformed},
		{"channel not an id", with(func(w *wireSignal) { w.Channel = make([]byte, IDSize) }), ErrMalformed},
		{"short author", with(func(w *wireSignal) { w.Author = w.Author[1:] }), ErrMalformed},
		{"short user", with(func(w *wireSignal) { w.User = w.User[1:] }), ErrMalformed},
		{"short certificate", with(func(w *wireSignal) { w.CertSig = w.CertSig[1:] }), ErrMalformed},
		{"short signature", marshal(func() wireSignal { w := good; w.Sig = make([]byte, 63); return w }()), ErrMalformed},
		{"no signature", marshal(unsigned), ErrMalformed},
		{"stale", with(func(w *wireSignal) { w.Time = millis(-MaxSignalAge - time.Millisecond) }), ErrStale},
		{"from the future", with(func(w *wireSignal) { w.Time = millis(MaxClockSkew + time.Millisecond) }), ErrFromFuture},
		{"beyond int64 time", with(func(w *wireSignal) { w.Time = math.MaxInt64 + 1 }), ErrFromFuture},
		{"flipped signature", flipped, ErrBadSignature},
		{"signed without the domain", marshal(withoutDomain), ErrBadSignature},
		{"signed by another device", marshal(byOther), ErrBadSignature},
		{"certificate of another user", with(func(w *wireSignal) { w.User, w.CertSig = wrongCert.User, wrongCert.CertSig }), ErrBadSignature},
	}
	// The stale and future cases are validly signed: the clock is checked
	// before the signature, so ErrBadSignature would not show it is checked.
	v := NewVerifier()
	if _, err := v.DecodeSignal(valid, testNow); err != nil {
		t.Fatalf("the unaltered signal: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := v.DecodeSignal(c.b, testNow)
			if !errors.Is(err, c.want) {
				t.Errorf("DecodeSignal = %+v, %v; want error %v", s, err, c.want)
			}
			if err != nil && s != (Signal{}) {
				t.Errorf("DecodeSignal returned %+v with its error", s)
			}
		})
	}
}

func TestDecodeSignalAgeLimits(t *testing.T) {
	d := newTestDevice(t, newTestUser(t))
	v := NewVerifier()
	for _, age := range []time.Duration{MaxSignalAge, 0, -MaxClockSkew} {
		s := testTyping()
		s.Time = testNow.Add(-age)
		if _, err := v.DecodeSignal(mustSignSignal(t, d, s), testNow); err != nil {
			t.Errorf("signal of age %s: %v", age, err)
		}
	}
}

func TestDecodeSignalEverySingleByteFlipFails(t *testing.T) {
	d := newTestDevice(t, newTestUser(t))
	v := NewVerifier()
	for _, s := range []Signal{testPresence(StatusIdle), testTyping()} {
		enc := mustSignSignal(t, d, s)
		for i := range enc {
			for _, mask := range []byte{0x01, 0x20, 0x80, 0xff} {
				b := slices.Clone(enc)
				b[i] ^= mask
				got, err := v.DecodeSignal(b, testNow)
				if err == nil {
					t.Fatalf("kind %d: flipping byte %d with %#x decoded to %+v", s.Kind, i, mask, got)
				}
				// ErrStale and ErrFromFuture are possible: the clock is
				// checked before the signature, and a flip may move it.
				if !isSignalDecodeError(err) {
					t.Fatalf("kind %d: flipping byte %d with %#x: undocumented error %v", s.Kind, i, mask, err)
				}
			}
		}
	}
}

func FuzzDecodeSignal(f *testing.F) {
	d := newTestDevice(f, newTestUser(f))
	for _, s := range []Signal{testPresence(StatusOnline), testPresence(StatusOffline), testTyping()} {
		b := mustSignSignal(f, d, s)
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:len(b)/2])
	}
	typing := testTyping()
	typing.Author, typing.Cert = d.ID(), d.Cert()
	w := typing.wire()
	w.Kind = 3
	f.Add(signWireSignal(f, d, w))
	f.Add([]byte{})
	f.Add([]byte{0x8a, 0x01, 0x01, 0x40, 0x40, 0x00, 0x00, 0x40, 0x40, 0x40, 0x40})
	f.Add([]byte("\x9f\xff not a signal"))

	v := NewVerifier()
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := v.DecodeSignal(b, testNow)
		if err != nil {
			if s != (Signal{}) {
				t.Fatalf("DecodeSignal returned %+v and %v", s, err)
			}
			if !isSignalDecodeError(err) {
				t.Fatalf("DecodeSignal error %v wraps no documented error", err)
			}
			return
		}
		// Re-encode from the decoded fields and the input's signature: the
		// fields must carry everything the signature covers.
		var in wireSignal
		if err := decMode.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		out := s.wire()
		out.Sig = in.Sig
		again, err := encMode.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded % x differs from input % x", again, b)
		}
		if !ed25519.Verify(s.Author[:], out.signingInput(), out.Sig) || !s.Cert.Verify(s.Author) {
			t.Fatal("accepted a signal crypto/ed25519 does not verify")
		}
		if s.Time.Before(testNow.Add(-MaxSignalAge)) || s.Time.After(testNow.Add(MaxClockSkew)) {
			t.Fatalf("accepted a signal sent %s", s.Time)
		}
	})
}
