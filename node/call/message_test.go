package call

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
)

func testCommunity(t testing.TB) crdt.ID {
	t.Helper()
	d := sha256.Sum256([]byte(t.Name()))
	id, err := crdt.IDFromDigest(d[:])
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMessageRoundTrip(t *testing.T) {
	d := crdttest.NewDevice(t)
	now := time.Now()
	for _, m := range []Message{
		{Kind: KindInitiate},
		{Kind: KindOffer, Payload: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"},
		{Kind: KindAnswer, Payload: strings.Repeat("a", MaxSDP)},
		{Kind: KindCandidate, Payload: strings.Repeat("c", MaxCandidate)},
		{Kind: KindEnd, Reason: ReasonAnsweredElsewhere},
		{Kind: KindReject, Reason: ReasonBusy},
	} {
		m.Call, m.Community, m.Time = NewID(), testCommunity(t), now
		b, err := Sign(d, m)
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		got, err := Decode(b, now)
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		if got.Kind != m.Kind || got.Call != m.Call || got.Community != m.Community || got.Payload != m.Payload ||
			got.Reason != m.Reason || got.Author != d.ID() || got.User() != d.User() || got.Time.UnixMilli() != now.UnixMilli() {
			t.Errorf("%s: decoded %+v", m.Kind, got)
		}
	}
}

func TestMessageRefused(t *testing.T) {
	d, other := crdttest.NewDevice(t), crdttest.NewDevice(t)
	now := time.Now()
	base := Message{Kind: KindOffer, Call: NewID(), Community: testCommunity(t), Time: now, Payload: "v=0"}
	for _, c := range []struct {
		what string
		m    Message
		want error
	}{
		{"SDP over the cap", Message{Kind: KindOffer, Payload: strings.Repeat("a", MaxSDP+1)}, ErrTooLarge},
		{"candidate over the cap", Message{Kind: KindCandidate, Payload: strings.Repeat("c", MaxCandidate+1)}, ErrTooLarge},
		{"offer without SDP", Message{Kind: KindOffer}, ErrMalformed},
		{"initiate with a payload", Message{Kind: KindInitiate, Payload: "x"}, ErrMalformed},
		{"unknown kind", Message{Kind: 9}, ErrMalformed},
		{"reason on an offer", Message{Kind: KindOffer, Payload: "v=0", Reason: "x"}, ErrMalformed},
	} {
		c.m.Call, c.m.Community, c.m.Time = base.Call, base.Community, now
		if _, err := Sign(d, c.m); !errors.Is(err, c.want) {
			t.Errorf("%s: Sign: %v, want %v", c.what, err, c.want)
		}
	}
	b, err := Sign(d, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b, now.Add(MaxAge+time.Second)); !errors.Is(err, ErrStale) {
		t.Errorf("stale: %v", err)
	}
	if _, err := Decode(b, now.Add(-crdt.MaxClockSkew-time.Second)); !errors.Is(err, ErrStale) {
		t.Errorf("from the future: %v", err)
	}
	// A signature by another device under d's certificate, and d's
	// message claiming another user.
	w := base
	w.Author, w.Cert = d.ID(), d.Cert()
	wire := w.wire()
	forged := wire
	sig, err := Sign(other, base)
	if err != nil {
		t.Fatal(err)
	}
	ws := decodeWire(t, sig)
	forged.Sig = ws.Sig
	if _, err := Decode(encode(t, forged), now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("forged signature: %v", err)
	}
	wd := decodeWire(t, b)
	wd.User = ws.User
	if _, err := Decode(encode(t, wd), now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another user's certificate: %v", err)
	}
	big := make([]byte, MaxMessageSize+1)
	if _, err := Decode(big, now); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the message cap: %v", err)
	}
	// Non-canonical: a definite-length array re-encoded with a wider head.
	if _, err := Decode(append([]byte{0x98, 0x0c}, b[1:]...), now); !errors.Is(err, ErrMalformed) {
		t.Errorf("non-canonical: %v", err)
	}
}

func decodeWire(t *testing.T, b []byte) wireMessage {
	t.Helper()
	var w wireMessage
	if err := decMode.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func encode(t *testing.T, w wireMessage) []byte {
	t.Helper()
	b, err := encMode.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzDecode(f *testing.F) {
	d := crdttest.NewDevice(f)
	now := time.UnixMilli(1_700_000_000_000)
	for _, m := range []Message{
		{Kind: KindInitiate},
		{Kind: KindOffer, Payload: "v=0"},
		{Kind: KindCandidate, Payload: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"},
		{Kind: KindEnd, Reason: ReasonHangup},
	} {
		m.Call, m.Community, m.Time = NewID(), testCommunity(f), now
		b, err := Sign(d, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b, now)
		if err != nil {
			return
		}
		// What decodes verifies, and encodes back to the same bytes.
		again := m.wire()
		w := decodeWire(t, b)
		again.Sig = w.Sig
		if string(encode(t, again)) != string(b) {
			t.Fatalf("decoded %x, re-encoded differently", b)
		}
		if err := m.check(); err != nil {
			t.Fatalf("decoded a message that does not check: %v", err)
		}
	})
}
