package crdt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// opFixture is one author with a key and a valid draft of every kind.
type opFixture struct {
	user   *User
	device *Device
	key    *EpochKey
	drafts map[Kind]Draft
}

func newOpFixture(t testing.TB) opFixture {
	t.Helper()
	u := newTestUser(t)
	ids := testIDs(4)
	target := ids[0]
	return opFixture{
		user:   u,
		device: newTestDevice(t, u),
		key:    newTestKey(t),
		drafts: map[Kind]Draft{
			KindPost: {
				Community: testCommunity, Channel: testChannel, Kind: KindPost, HLC: hlcAt(0, 1),
				Parents: ids[1:],
				Body:    Body{Text: "hello", ReplyTo: ids[3], Mentions: []UserID{u.ID()}, Everyone: true},
			},
			KindEdit:    channelDraft(KindEdit, hlcAt(time.Second, 0), target, Body{Text: "hello, edited"}),
			KindDelete:  channelDraft(KindDelete, hlcAt(2*time.Second, 0), target, Body{}),
			KindReact:   channelDraft(KindReact, hlcAt(3*time.Second, 7), target, Body{Emoji: "👍"}),
			KindUnreact: channelDraft(KindUnreact, hlcAt(4*time.Second, 0), target, Body{Emoji: "👍"}),
		},
	}
}

func (f opFixture) sign(t testing.TB, k Kind) *Op {
	t.Helper()
	return mustSign(t, f.device, f.drafts[k], f.key)
}

func (f opFixture) keyring() Keyring { return Keyring{f.key.ID(): f.key} }

var allKinds = []Kind{KindPost, KindEdit, KindDelete, KindReact, KindUnreact}

func TestSignDecodeRoundTrip(t *testing.T) {
	f := newOpFixture(t)
	v := NewVerifier()
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			dr := f.drafts[k]
			op := f.sign(t, k)
			if op.ID != IDOf(op.Skeleton()) {
				t.Errorf("signed ID %v, want IDOf(Skeleton()) %v", op.ID, IDOf(op.Skeleton()))
			}
			if !ed25519.Verify(f.device.id[:], op.SigningInput(), op.Sig[:]) {
				t.Error("Sig does not verify over SigningInput()")
			}
			for name, decode := range map[string]func([]byte) (*Op, error){
				"Decode":       func(b []byte) (*Op, error) { return v.Decode(b, testNow) },
				"DecodeStored": DecodeStored,
			} {
				got, err := decode(op.Encoded())
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !bytes.Equal(got.Encoded(), op.Encoded()) {
					t.Errorf("%s: Encoded() differs from input", name)
				}
				checkSameOp(t, got, op)
				if got.Community != dr.Community || got.Channel != dr.Channel || got.Kind != k ||
					got.HLC != dr.HLC || got.Target != dr.Target || got.Author != f.device.ID() ||
					got.User() != f.user.ID() || got.Cert != f.device.Cert() || got.Log() != testChannel {
					t.Errorf("%s: header fields differ from the draft: %+v", name, got)
				}
				if k.Encrypted() != (got.Epoch == f.key.ID()) || k.Encrypted() == got.Epoch.IsZero() {
					t.Errorf("%s: epoch %x for %s", name, got.Epoch, k)
				}
				body, err := got.Open(f.keyring())
				if err != nil {
					t.Fatalf("%s: Open: %v", name, err)
				}
				if !reflect.DeepEqual(body, dr.Body) {
					t.Errorf("%s: Open = %+v, want %+v", name, body, dr.Body)
				}
			}
		})
	}
}

// checkSameOp compares every exported field of two ops; parents compare as
// sets of IDs, since an empty list may be nil on one side.
func checkSameOp(t *testing.T, got, want *Op) {
	t.Helper()
	if got.ID != want.ID || got.Community != want.Community || got.Channel != want.Channel ||
		got.Kind != want.Kind || got.HLC != want.HLC || !slices.Equal(got.Parents, want.Parents) ||
		got.Target != want.Target || got.Epoch != want.Epoch || got.Author != want.Author ||
		got.Cert != want.Cert || !bytes.Equal(got.Body, want.Body) || got.Sig != want.Sig {
		t.Errorf("decoded op differs:\n got %+v\nwant %+v", got, want)
	}
}

func TestSignSortsAndDeduplicatesParents(t *testing.T) {
	f := newOpFixture(t)
	ids := testIDs(3)
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, ID.Compare)
	dr := f.drafts[KindDelete]
	dr.Parents = []ID{sorted[2], sorted[0], sorted[1], sorted[0], sorted[2]}
	op := mustSign(t, f.device, dr, nil)
	if !slices.Equal(op.Parents, sorted) {
		t.Errorf("signed parents %v, want %v", op.Parents, sorted)
	}
	if dr.Parents[0] != sorted[2] {
		t.Error("Sign modified the draft's parents")
	}
	got, err := NewVerifier().Decode(op.Encoded(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Parents, sorted) {
		t.Errorf("decoded parents %v, want %v", got.Parents, sorted)
	}

	// More draft parents than MaxParents are fine when they collapse to few.
	dr.Parents = nil
	for range MaxParents + 8 {
		dr.Parents = append(dr.Parents, ids...)
	}
	mustSign(t, f.device, dr, nil)
}

func TestSignRejects(t *testing.T) {
	f := newOpFixture(t)
	target := f.drafts[KindEdit].Target
	many := testIDs(MaxParents + 1)
	tooManyMentions := make([]UserID, MaxMentions+1)
	for i := range tooManyMentions {
		tooManyMentions[i][0] = byte(i)
	}
	with := func(k Kind, edit func(*Draft)) Draft {
		dr := f.drafts[k]
		edit(&dr)
		return dr
	}
	cases := []struct {
		name  string
		draft Draft
		key   *EpochKey
		want  error
	}{
		{"post with empty text", with(KindPost, func(d *Draft) { d.Body.Text = "" }), f.key, ErrBadBody},
		{"post too long", with(KindPost, func(d *Draft) { d.Body.Text = strings.Repeat("a", MaxTextLen+1) }), f.key, ErrBadBody},
		{"post too long in runes", with(KindPost, func(d *Draft) { d.Body.Text = strings.Repeat("é", MaxTextLen+1) }), f.key, ErrBadBody},
		{"post not UTF-8", with(KindPost, func(d *Draft) { d.Body.Text = "a\xffb" }), f.key, ErrBadBody},
		{"post with too many mentions", with(KindPost, func(d *Draft) { d.Body.Mentions = tooManyMentions }), f.key, ErrBadBody},
		{"edit changing reply-to", with(KindEdit, func(d *Draft) { d.Body.ReplyTo = target }), f.key, ErrBadBody},
		{"edit with empty text", with(KindEdit, func(d *Draft) { d.Body.Text = "" }), f.key, ErrBadBody},
		{"react without emoji", with(KindReact, func(d *Draft) { d.Body.Emoji = "" }), f.key, ErrBadBody},
		{"react emoji too long", with(KindReact, func(d *Draft) { d.Body.Emoji = strings.Repeat("x", MaxEmojiBytes+1) }), f.key, ErrBadBody},
		{"react emoji not UTF-8", with(KindReact, func(d *Draft) { d.Body.Emoji = "\xf0\x9f" }), f.key, ErrBadBody},
		{"react with text", with(KindReact, func(d *Draft) { d.Body.Text = "hi" }), f.key, ErrBadBody},
		{"unreact with everyone", with(KindUnreact, func(d *Draft) { d.Body.Everyone = true }), f.key, ErrBadBody},
		{"delete with text", with(KindDelete, func(d *Draft) { d.Body.Text = "hi" }), nil, ErrBadBody},
		{"post without key", f.drafts[KindPost], nil, ErrNoKey},
		{"react without key", f.drafts[KindReact], nil, ErrNoKey},
		{"unknown kind", with(KindPost, func(d *Draft) { d.Kind = 99 }), f.key, ErrUnknownKind},
		{"no community", with(KindPost, func(d *Draft) { d.Community = ID{} }), f.key, ErrMalformed},
		{"post without channel", with(KindPost, func(d *Draft) { d.Channel = ID{} }), f.key, ErrMalformed},
		{"post with target", with(KindPost, func(d *Draft) { d.Target = target }), f.key, ErrMalformed},
		{"edit without target", with(KindEdit, func(d *Draft) { d.Target = ID{} }), f.key, ErrMalformed},
		{"delete without target", with(KindDelete, func(d *Draft) { d.Target = ID{} }), nil, ErrMalformed},
		{"too many parents", with(KindDelete, func(d *Draft) { d.Parents = many }), nil, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op, err := f.device.Sign(c.draft, c.key)
			if !errors.Is(err, c.want) || op != nil {
				t.Errorf("Sign = %v, %v; want error %v", op, err, c.want)
			}
		})
	}
}

func TestSignLongestMessage(t *testing.T) {
	f := newOpFixture(t)
	dr := f.drafts[KindPost]
	dr.Body.Text = strings.Repeat("😀", MaxTextLen) // MaxTextLen characters, 4 bytes each
	dr.Body.Mentions = make([]UserID, MaxMentions)
	dr.Parents = testIDs(MaxParents)
	op := mustSign(t, f.device, dr, f.key)
	got, err := NewVerifier().Decode(op.Encoded(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	body, err := got.Open(f.keyring())
	if err != nil || body.Text != dr.Body.Text || len(body.Mentions) != MaxMentions {
		t.Errorf("Open = %d chars, %d mentions, %v", len(body.Text), len(body.Mentions), err)
	}
}

func TestOpenErrors(t *testing.T) {
	f := newOpFixture(t)
	post := f.sign(t, KindPost)
	other := newTestKey(t)

	if _, err := post.Open(nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("Open(nil) error = %v, want ErrNoKey", err)
	}
	if _, err := post.Open(Keyring{other.ID(): other}); !errors.Is(err, ErrNoKey) {
		t.Errorf("Open with another epoch's key: error = %v, want ErrNoKey", err)
	}
	// A key filed under the op's epoch that is not that epoch's key.
	if _, err := post.Open(Keyring{post.Epoch: other}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open with a wrong key under the right id: error = %v, want ErrDecrypt", err)
	}

	tampered := *post
	tampered.Body = slices.Clone(post.Body)
	tampered.Body[len(tampered.Body)-1] ^= 1
	if _, err := tampered.Open(f.keyring()); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open of tampered ciphertext: error = %v, want ErrDecrypt", err)
	}
	tampered = *post
	tampered.Body = post.Body[:10]
	if _, err := tampered.Open(f.keyring()); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open of truncated ciphertext: error = %v, want ErrDecrypt", err)
	}
	// The header is the associated data: a body moved to another op fails.
	edit := f.sign(t, KindEdit)
	tampered = *edit
	tampered.Body = post.Body
	if _, err := tampered.Open(f.keyring()); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open of a body moved to another header: error = %v, want ErrDecrypt", err)
	}

	del := f.sign(t, KindDelete)
	if body, err := del.Open(nil); err != nil || !reflect.DeepEqual(body, Body{}) {
		t.Errorf("Open(delete) = %+v, %v; want zero body", body, err)
	}
}

func TestBodyBinaryRoundTrip(t *testing.T) {
	f := newOpFixture(t)
	for _, k := range allKinds {
		want := f.drafts[k].Body
		b, err := want.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Body
		if err := got.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: UnmarshalBinary = %+v, %v; want %+v", k, got, err, want)
		}
	}
	var got Body
	if err := got.UnmarshalBinary([]byte{0xa1, 0x02, 0x41, 0x00}); !errors.Is(err, ErrBadBody) {
		t.Errorf("UnmarshalBinary of a 1-byte reply-to: error %v, want ErrBadBody", err)
	}
}

func TestOpenRejectsBadPlaintext(t *testing.T) {
	f := newOpFixture(t)
	op := f.sign(t, KindPost)
	// Reseal the op's body with junk plaintext, as a hostile author could.
	sealed, err := f.key.seal([]byte{0xff, 0x00}, op.header)
	if err != nil {
		t.Fatal(err)
	}
	hostile := *op
	hostile.Body = sealed
	if _, err := hostile.Open(f.keyring()); !errors.Is(err, ErrBadBody) {
		t.Errorf("Open of junk plaintext: error = %v, want ErrBadBody", err)
	}
}

func TestDecodeEverySingleByteFlipFails(t *testing.T) {
	f := newOpFixture(t)
	v := NewVerifier()
	for _, k := range []Kind{KindPost, KindDelete} {
		enc := f.sign(t, k).Encoded()
		for i := range enc {
			for _, mask := range []byte{0x01, 0x20, 0x80, 0xff} {
				b := slices.Clone(enc)
				b[i] ^= mask
				op, err := v.Decode(b, testNow)
				if err == nil {
					t.Fatalf("%s: flipping byte %d with %#x decoded to %+v", k, i, mask, op)
				}
				// ErrFromFuture is possible: the clock check precedes the
				// signature check, and a flip may raise the HLC.
				if !isDecodeError(err) {
					t.Fatalf("%s: flipping byte %d with %#x: undocumented error %v", k, i, mask, err)
				}
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	f := newOpFixture(t)
	del := f.sign(t, KindDelete)
	post := f.sign(t, KindPost)
	enc := del.Encoded()
	if enc[0] != 0x85 || enc[1] != Version {
		t.Fatalf("op does not start with [1, ...]: % x", enc[:2])
	}
	otherDevice := newTestDevice(t, newTestUser(t))

	h := del.wireHeader()
	h.Kind = 99
	unknownKind := signWire(t, f.device, h, nil)

	headerBytes := del.header
	// The header array holds 11 items; the kind follows two 38-byte ids.
	const kindOffset = 1 + 2*(2+IDSize)
	if headerBytes[0] != 0x8b || headerBytes[kindOffset] != byte(KindDelete) {
		t.Fatalf("unexpected header layout % x", headerBytes[:kindOffset+1])
	}
	longKind := slices.Concat(headerBytes[:kindOffset], []byte{0x18, byte(KindDelete)}, headerBytes[kindOffset+1:])
	nonCanonicalHeader := encodeWire(t, Version, longKind, nil,
		ed25519.Sign(f.device.priv, signingInput(longKind, sha256.Sum256(nil))))

	// stored is what DecodeStored says: it checks neither signatures nor
	// canonical form.
	cases := []struct {
		name         string
		b            []byte
		want, stored error
	}{
		{"empty", nil, ErrMalformed, ErrMalformed},
		{"too large", make([]byte, MaxRekeySize+1), ErrTooLarge, ErrTooLarge},
		{"truncated", enc[:len(enc)-1], ErrMalformed, ErrMalformed},
		{"trailing byte", append(slices.Clone(enc), 0), ErrMalformed, ErrMalformed},
		{"not an array", []byte{0xa0}, ErrMalformed, ErrMalformed},
		{"version 2", slices.Concat([]byte{0x85, 0x02}, enc[2:]), ErrUnknownVersion, ErrUnknownVersion},
		{"version 0", slices.Concat([]byte{0x85, 0x00}, enc[2:]), ErrUnknownVersion, ErrUnknownVersion},
		{"non-minimal version", slices.Concat([]byte{0x85, 0x18, 0x01}, enc[2:]), ErrNonCanonical, nil},
		{"non-minimal kind in header", nonCanonicalHeader, ErrNonCanonical, nil},
		{"unknown kind", unknownKind, ErrUnknownKind, ErrUnknownKind},
		{"other device's signature", encodeWire(t, Version, del.header, nil,
			ed25519.Sign(otherDevice.priv, signingInput(del.header, sha256.Sum256(nil)))), ErrBadSignature, nil},
		{"body moved from another op", encodeWire(t, Version, del.header, post.Body, del.Sig[:]), ErrMalformed, ErrMalformed},
		{"ciphertext tampered", encodeWire(t, Version, post.header,
			slices.Concat(post.Body[:1], []byte{^post.Body[1]}, post.Body[2:]), post.Sig[:]), ErrBadSignature, nil},
	}
	v := NewVerifier()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if op, err := v.Decode(c.b, testNow); !errors.Is(err, c.want) {
				t.Errorf("Decode = %v, %v; want %v", op, err, c.want)
			}
			if op, err := DecodeStored(c.b); !errors.Is(err, c.stored) {
				t.Errorf("DecodeStored = %v, %v; want %v", op, err, c.stored)
			}
		})
	}
}

func TestDecodeRejectsBadHeaders(t *testing.T) {
	f := newOpFixture(t)
	del := f.sign(t, KindDelete)
	post := f.sign(t, KindPost)
	ids := testIDs(MaxParents + 1)
	sorted := slices.SortedFunc(slices.Values(ids[:3]), ID.Compare)
	idBytes := func(ids ...ID) [][]byte {
		out := make([][]byte, len(ids))
		for i := range ids {
			out[i] = ids[i][:]
		}
		return out
	}
	cases := []struct {
		name string
		edit func(*wireHeader)
		body []byte
		want error
	}{
		{"unsorted parents", func(h *wireHeader) { h.Parents = idBytes(sorted[1], sorted[0], sorted[2]) }, nil, ErrNonCanonical},
		{"duplicate parents", func(h *wireHeader) { h.Parents = idBytes(sorted[0], sorted[0]) }, nil, ErrNonCanonical},
		{"too many parents", func(h *wireHeader) {
			h.Parents = idBytes(slices.SortedFunc(slices.Values(ids), ID.Compare)...)
		}, nil, ErrMalformed},
		{"parent not an id", func(h *wireHeader) { h.Parents = [][]byte{make([]byte, IDSize)} }, nil, ErrMalformed},
		{"short author", func(h *wireHeader) { h.Author = h.Author[1:] }, nil, ErrMalformed},
		{"short certificate", func(h *wireHeader) { h.CertSig = h.CertSig[1:] }, nil, ErrMalformed},
		{"community not an id", func(h *wireHeader) { h.Community = []byte("community") }, nil, ErrMalformed},
		{"no community", func(h *wireHeader) { h.Community = nil }, nil, ErrMalformed},
		{"no channel", func(h *wireHeader) { h.Channel = nil }, nil, ErrMalformed},
		{"no target", func(h *wireHeader) { h.Target = nil }, nil, ErrMalformed},
		{"delete with epoch", func(h *wireHeader) { h.Epoch = post.Epoch[:] }, nil, ErrMalformed},
		{"short epoch", func(h *wireHeader) { h.Epoch = post.Epoch[1:] }, nil, ErrMalformed},
		{"delete with body", func(*wireHeader) {}, []byte("secret"), ErrMalformed},
	}
	v := NewVerifier()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := del.wireHeader()
			c.edit(&h)
			b := signWire(t, f.device, h, c.body)
			if op, err := v.Decode(b, testNow); !errors.Is(err, c.want) {
				t.Errorf("Decode = %v, %v; want %v", op, err, c.want)
			}
		})
	}

	h := post.wireHeader()
	h.Epoch = nil
	if op, err := v.Decode(signWire(t, f.device, h, post.Body), testNow); !errors.Is(err, ErrMalformed) {
		t.Errorf("post without epoch: Decode = %v, %v; want ErrMalformed", op, err)
	}
}

func TestDecodeRejectsForgedAuthorship(t *testing.T) {
	f := newOpFixture(t)
	victim := newTestUser(t)
	victimDevice := newTestDevice(t, victim)
	mallory := newTestUser(t)
	malloryDevice := newTestDevice(t, mallory)
	v := NewVerifier()
	decode := func(t *testing.T, b []byte) {
		t.Helper()
		if op, err := v.Decode(b, testNow); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Decode = %v, %v; want ErrBadSignature", op, err)
		}
	}

	t.Run("victim's header, mallory's signature", func(t *testing.T) {
		h := mustSign(t, malloryDevice, f.drafts[KindDelete], nil).wireHeader()
		h.Author, h.User, h.CertSig = victimDevice.id[:], victim.id[:], victimDevice.cert.Sig[:]
		decode(t, signWire(t, malloryDevice, h, nil))
	})
	t.Run("mallory's device claims the victim's user", func(t *testing.T) {
		forged := *malloryDevice
		forged.cert = Cert{User: victim.ID(), Sig: mallory.Certify(malloryDevice.ID()).Sig}
		decode(t, mustSign(t, &forged, f.drafts[KindDelete], nil).Encoded())
	})
	t.Run("victim's certificate on mallory's device", func(t *testing.T) {
		forged := *malloryDevice
		forged.cert = victimDevice.Cert()
		decode(t, mustSign(t, &forged, f.drafts[KindDelete], nil).Encoded())
	})
	t.Run("cached certificate does not vouch for another signature", func(t *testing.T) {
		genuine := mustSign(t, victimDevice, f.drafts[KindDelete], nil)
		if _, err := v.Decode(genuine.Encoded(), testNow); err != nil {
			t.Fatal(err)
		}
		h := genuine.wireHeader()
		h.HLC++
		decode(t, signWire(t, malloryDevice, h, nil))
	})
}

func TestDeviceFromSeed(t *testing.T) {
	u := newTestUser(t)
	d := newTestDevice(t, u)
	back, err := DeviceFromSeed(d.Seed(), d.Cert())
	if err != nil || back.ID() != d.ID() || back.User() != u.ID() {
		t.Fatalf("DeviceFromSeed = %v, %v", back, err)
	}
	other := newTestDevice(t, u)
	if _, err := DeviceFromSeed(d.Seed(), other.Cert()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("DeviceFromSeed with another device's cert: error = %v, want ErrBadSignature", err)
	}
	if _, err := DeviceFromSeed(d.Seed()[1:], d.Cert()); err == nil {
		t.Error("DeviceFromSeed accepted a short seed")
	}
	uBack, err := UserFromSeed(u.Seed())
	if err != nil || uBack.ID() != u.ID() {
		t.Errorf("UserFromSeed = %v, %v", uBack, err)
	}
}

func TestDecodeClockSkew(t *testing.T) {
	f := newOpFixture(t)
	v := NewVerifier()
	cases := []struct {
		hlc  HLC
		want error
	}{
		{hlcAt(MaxClockSkew, 0xffff), nil},
		{hlcAt(MaxClockSkew+time.Millisecond, 0), ErrFromFuture},
		{hlcAt(24*time.Hour, 0), ErrFromFuture},
		{hlcAt(-365*24*time.Hour, 0), nil},
		{0, nil},
	}
	for _, c := range cases {
		dr := f.drafts[KindDelete]
		dr.HLC = c.hlc
		op := mustSign(t, f.device, dr, nil)
		if _, err := v.Decode(op.Encoded(), testNow); !errors.Is(err, c.want) {
			t.Errorf("HLC %s received at %s: error = %v, want %v", c.hlc, testNow, err, c.want)
		}
		if _, err := DecodeStored(op.Encoded()); err != nil {
			t.Errorf("DecodeStored(HLC %s): %v", c.hlc, err)
		}
	}
}

func TestVerifierConcurrentUse(t *testing.T) {
	f := newOpFixture(t)
	shared := f.sign(t, KindPost).Encoded()
	var ops [][]byte
	for range 8 {
		d := newTestDevice(t, newTestUser(t))
		ops = append(ops, mustSign(t, d, f.drafts[KindReact], f.key).Encoded())
	}
	bad := slices.Clone(shared)
	bad[len(bad)-1] ^= 1

	v := NewVerifier()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				for _, b := range [][]byte{shared, ops[(g+i)%len(ops)]} {
					op, err := v.Decode(b, testNow)
					if err != nil || op.ID != IDOf(op.Skeleton()) {
						t.Errorf("Decode = %v, %v", op, err)
						return
					}
				}
				if _, err := v.Decode(bad, testNow); !errors.Is(err, ErrBadSignature) {
					t.Errorf("Decode(bad) error = %v, want ErrBadSignature", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestDeviceCacheStartsOverWhenFull(t *testing.T) {
	u := newTestUser(t)
	d := newTestDevice(t, u)
	c := deviceCache{good: make(map[certKey]*devicePoint)}
	for i := range deviceCacheSize {
		var k certKey
		k.dev[0], k.dev[1] = byte(i), byte(i>>8)
		c.good[k] = &devicePoint{}
	}
	if c.device(d.ID(), d.Cert()) == nil {
		t.Fatal("valid cert refused")
	}
	if len(c.good) != 1 {
		t.Errorf("full cache holds %d entries after a new cert, want 1", len(c.good))
	}
	if c.device(d.ID(), newTestDevice(t, u).Cert()) != nil {
		t.Error("cert for another device accepted")
	}
}

// The cached-point verification agrees with crypto/ed25519 on valid
// signatures, on every single-bit change of signature or message, and on
// a non-canonical S (S + L), which both must refuse.
func TestDeviceVerifyMatchesCryptoEd25519(t *testing.T) {
	u := newTestUser(t)
	d := newTestDevice(t, u)
	var c deviceCache
	p := c.device(d.ID(), d.Cert())
	msg := []byte("the signed bytes of an op")
	var sig [ed25519.SignatureSize]byte
	copy(sig[:], ed25519.Sign(d.priv, msg))
	check := func(name string, m []byte, s [ed25519.SignatureSize]byte) {
		t.Helper()
		want := ed25519.Verify(d.id[:], m, s[:])
		if got := p.verify(d.ID(), m, &s); got != want {
			t.Fatalf("%s: cached verify %v, crypto/ed25519 %v", name, got, want)
		}
	}
	check("valid", msg, sig)
	for i := range len(sig) * 8 {
		s := sig
		s[i/8] ^= 1 << (i % 8)
		check(fmt.Sprint("signature bit ", i), msg, s)
	}
	for i := range len(msg) * 8 {
		m := slices.Clone(msg)
		m[i/8] ^= 1 << (i % 8)
		check(fmt.Sprint("message bit ", i), m, sig)
	}
	// S + L: the same point, a non-canonical scalar.
	l := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 31: 0x10}
	s := sig
	carry := 0
	for i := range 32 {
		v := int(s[32+i]) + int(l[i]) + carry
		s[32+i], carry = byte(v), v>>8
	}
	check("S+L", msg, s)
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindPost: "post", KindUnreact: "unreact", 0: "kind(0)", 200: "kind(200)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

func TestPurge(t *testing.T) {
	f := newOpFixture(t)
	v := NewVerifier()
	for _, k := range allKinds {
		t.Run(k.String(), func(t *testing.T) {
			op := f.sign(t, k)
			p := op.Purge()
			if !k.Encrypted() {
				if p != op || p.Purged() {
					t.Fatal("purging an op without a body changed it")
				}
				return
			}
			if !p.Purged() || op.Purged() || p.Body != nil || p.ID != op.ID {
				t.Fatalf("Purge: purged=%v body=%d id %s (was %s)", p.Purged(), len(p.Body), p.ID, op.ID)
			}
			if !bytes.Equal(p.Encoded(), op.Skeleton()) || len(p.Encoded()) >= len(op.Encoded()) {
				t.Fatal("a purged op is not its skeleton")
			}
			got, err := v.Decode(p.Encoded(), testNow)
			if err != nil {
				t.Fatalf("a purged op does not verify: %v", err)
			}
			if got.ID != op.ID || !got.Purged() || got.Digest != op.Digest {
				t.Fatalf("decoded purged op: id %s purged %v", got.ID, got.Purged())
			}
			if _, err := got.Open(Keyring{f.key.ID(): f.key}); !errors.Is(err, ErrPurged) {
				t.Fatalf("Open of a purged op: %v, want ErrPurged", err)
			}
			if p.Purge() != p {
				t.Fatal("purging twice made a new op")
			}
		})
	}
}

func TestDecodeRefusesBadPurgedForms(t *testing.T) {
	f := newOpFixture(t)
	post := f.sign(t, KindPost)
	del := f.sign(t, KindDelete)
	digest := post.Digest[:]
	v := NewVerifier()
	for name, b := range map[string][]byte{
		"body and digest": mustMarshal(t, wireOp{Version: Version, Header: post.header, Body: post.Body, Digest: digest, Sig: post.Sig[:]}),
		"short digest":    mustMarshal(t, wireOp{Version: Version, Header: post.header, Digest: digest[:31], Sig: post.Sig[:]}),
		"purged delete":   del.Skeleton(),
	} {
		if _, err := v.Decode(b, testNow); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// A digest that is not the body's: the signature no longer verifies.
	forged := post.Purge()
	wrong := mustMarshal(t, wireOp{Version: Version, Header: forged.header, Digest: make([]byte, 32), Sig: forged.Sig[:]})
	if _, err := v.Decode(wrong, testNow); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong digest: %v, want ErrBadSignature", err)
	}
}

func mustMarshal(t *testing.T, w wireOp) []byte {
	t.Helper()
	b, err := encMode.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWireID(t *testing.T) {
	f := newOpFixture(t)
	post := f.sign(t, KindPost)
	if id, ok := WireID(post.Encoded()); !ok || id != post.ID {
		t.Fatalf("WireID of a full op = %s, %v", id, ok)
	}
	enc := post.Encoded()
	nonCanonical := slices.Concat([]byte{0x85, 0x18, 0x01}, enc[2:])
	// The header is 0x59 (2-byte length) or 0x58 (1-byte length) and its
	// length: write the same length with one more byte.
	var longHeadHeader []byte
	switch enc[2] {
	case 0x58:
		longHeadHeader = slices.Concat(enc[:2], []byte{0x59, 0}, enc[3:])
	case 0x59:
		longHeadHeader = slices.Concat(enc[:2], []byte{0x5a, 0, 0}, enc[3:])
	default:
		t.Fatalf("unexpected header head %#x", enc[2])
	}
	for name, b := range map[string][]byte{
		"purged":                  post.Purge().Encoded(),
		"non-canonical version":   nonCanonical,
		"non-canonical header":    longHeadHeader,
		"other version":           slices.Concat([]byte{0x85, 0x02}, enc[2:]),
		"trailing byte":           slices.Concat(enc, []byte{0}),
		"truncated":               enc[:len(enc)-1],
		"four-element array":      slices.Concat([]byte{0x84}, enc[1:]),
		"indefinite-length array": slices.Concat([]byte{0x9f}, enc[1:], []byte{0xff}),
		"garbage":                 []byte("x"),
		"empty":                   nil,
	} {
		if _, ok := WireID(b); ok {
			t.Errorf("WireID accepted a %s op", name)
		}
	}
}

// TestSkeletonIsCanonicalCBOR: the hand-written skeleton encoder and
// WireID's reading of an op agree with the CBOR library for every length
// of head.
func TestSkeletonIsCanonicalCBOR(t *testing.T) {
	sig := bytes.Repeat([]byte{7}, ed25519.SignatureSize)
	for _, n := range []int{0, 1, 23, 24, 255, 256, 65535, 65536, 70000} {
		header := bytes.Repeat([]byte{1}, n)
		body := bytes.Repeat([]byte{2}, n)
		digest := sha256.Sum256(body)
		want, err := encMode.Marshal(wireOp{Version: Version, Header: header, Digest: digest[:], Sig: sig})
		if err != nil {
			t.Fatal(err)
		}
		if got := skeleton(header, digest, sig); !bytes.Equal(got, want) {
			t.Fatalf("skeleton with a %d-byte header differs from the CBOR library's encoding", n)
		}
		full := mustMarshal(t, wireOp{Version: Version, Header: header, Body: body, Sig: sig})
		if id, ok := WireID(full); !ok || id != IDOf(want) {
			t.Fatalf("WireID of an op with %d-byte header and body = %s, %v", n, id, ok)
		}
	}
}
