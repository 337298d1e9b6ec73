package crdt

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// testNow is the receive time every test decodes at; HLCs are built from it
// with MakeHLC so that no test depends on the wall clock.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

var (
	testCommunity    = IDOf([]byte("community"))
	testChannel      = IDOf([]byte("channel"))
	testOtherChannel = IDOf([]byte("other channel"))
)

// decodeErrors are the sentinels Decode documents; every failure wraps one.
var decodeErrors = []error{
	ErrTooLarge, ErrMalformed, ErrNonCanonical, ErrUnknownVersion,
	ErrUnknownKind, ErrBadSignature, ErrFromFuture,
}

// isDecodeError reports whether err wraps one of decodeErrors.
func isDecodeError(err error) bool {
	return slices.ContainsFunc(decodeErrors, func(s error) bool { return errors.Is(err, s) })
}

// testIDs returns n distinct, valid IDs.
func testIDs(n int) []ID {
	ids := make([]ID, n)
	for i := range ids {
		ids[i] = IDOf(fmt.Appendf(nil, "test id %d", i))
	}
	return ids
}

// hlcAt is a timestamp offset from testNow.
func hlcAt(d time.Duration, counter uint16) HLC {
	return MakeHLC(testNow.Add(d), counter)
}

func newTestUser(t testing.TB) *User {
	t.Helper()
	u, err := NewUser()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newTestDevice(t testing.TB, u *User) *Device {
	t.Helper()
	d, err := NewDevice(u)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newTestKey(t testing.TB) *EpochKey {
	t.Helper()
	k, err := NewEpochKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSign(t testing.TB, d *Device, dr Draft, key *EpochKey) *Op {
	t.Helper()
	op, err := d.Sign(dr, key)
	if err != nil {
		t.Fatalf("sign %s: %v", dr.Kind, err)
	}
	return op
}

// mustOpen signs dr and returns the op with its opened body, as a view gets it.
func mustOpen(t testing.TB, d *Device, dr Draft, key *EpochKey) Opened {
	t.Helper()
	op := mustSign(t, d, dr, key)
	body, err := op.Open(Keyring{key.ID(): key})
	if err != nil {
		t.Fatalf("open %s: %v", dr.Kind, err)
	}
	return Opened{Op: op, Body: body}
}

// channelDraft is a draft in testChannel.
func channelDraft(kind Kind, h HLC, target ID, body Body) Draft {
	return Draft{Community: testCommunity, Channel: testChannel, Kind: kind, HLC: h, Target: target, Body: body}
}

// signWire encodes an op from a hand-made header and body, signed by d, so
// tests can build ops that Sign refuses to make.
func signWire(t testing.TB, d *Device, h wireHeader, body []byte) []byte {
	t.Helper()
	header, err := encMode.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(d.priv, signingInput(header, sha256.Sum256(body)))
	return encodeWire(t, Version, header, body, sig)
}

// encodeWire encodes the outer op array as given, valid or not.
func encodeWire(t testing.TB, version uint64, header, body, sig []byte) []byte {
	t.Helper()
	b, err := encMode.Marshal(wireOp{Version: version, Header: header, Body: body, Sig: sig})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normalized returns a copy of m with empty slices as nil, so that rows that
// went through different paths (or storage) compare with reflect.DeepEqual.
func normalized(m *Message) Message {
	c := *m
	if len(c.Mentions) == 0 {
		c.Mentions = nil
	}
	if len(c.Reactions) == 0 {
		c.Reactions = nil
	}
	return c
}

func normalizedAll(ms []*Message) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = normalized(m)
	}
	return out
}
