package crdt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"
)

// testPNG and testJPEG start like the files they name: all a reader checks.
var (
	testPNG  = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 200)...)
	testJPEG = append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{2}, 200)...)
)

// signRawProfile signs a profile op of d's whose sealed Info is plain as
// given, unchecked: what a modified node could send. Its outer form is
// canonical and its signature valid, so only the checks of what it
// carries can refuse it.
func signRawProfile(t *testing.T, w *world, name string, plain []byte) *Op {
	t.Helper()
	op := w.state(name, KindProfile, StateBody{Info: &Info{Name: "placeholder"}}, nil)
	w.ops = w.ops[:len(w.ops)-1]
	sealed, err := w.key.seal(plain, op.header)
	if err != nil {
		t.Fatal(err)
	}
	if op.Body, err = (&StateBody{}).encode(sealed); err != nil {
		t.Fatal(err)
	}
	d := w.person(name).dev
	op.Digest = sha256.Sum256(op.Body)
	copy(op.Sig[:], ed25519.Sign(d.priv, signingInput(op.header, op.Digest)))
	if op.encoded, err = encMode.Marshal(wireOp{Version: Version, Header: op.header, Body: op.Body, Sig: op.Sig[:]}); err != nil {
		t.Fatal(err)
	}
	op.ID = IDOf(op.Skeleton())
	return op
}

// received decodes op's bytes as a peer's node would.
func received(t *testing.T, op *Op) (*Op, error) {
	t.Helper()
	return NewVerifier().Decode(bytes.Clone(op.Encoded()), testNow)
}

func TestAvatarTravelsInTheProfile(t *testing.T) {
	w := newWorld(t)
	w.join("owner", "alice")
	for _, pic := range [][]byte{testPNG, testJPEG} {
		op := w.state("alice", KindProfile, StateBody{Info: &Info{Name: "Alice", Avatar: pic}}, nil)
		got, err := received(t, op)
		if err != nil {
			t.Fatal(err)
		}
		c := BuildCommunity(w.id, append(w.ops[:len(w.ops)-1:len(w.ops)-1], got))
		info, from := c.OpenProfile(w.uid("alice"), w.person("owner").keys)
		if from == nil || from.ID != op.ID || info.Name != "Alice" || !bytes.Equal(info.Avatar, pic) {
			t.Fatalf("OpenProfile = %+v from %v", info, from)
		}
	}
}

func TestSignRefusesBadAvatars(t *testing.T) {
	w := newWorld(t)
	for name, pic := range map[string][]byte{
		"oversized":    append(bytes.Clone(testPNG), make([]byte, MaxAvatarSize)...),
		"not an image": []byte("GIF89a, or anything else"),
	} {
		_, err := w.person("owner").dev.Sign(Draft{Community: w.id, Kind: KindProfile, HLC: w.clock + 1, Parents: heads(w.ops),
			State: &StateBody{Info: &Info{Name: "x", Avatar: pic}}}, w.key)
		if !errors.Is(err, ErrBadBody) {
			t.Errorf("%s: Sign = %v, want ErrBadBody", name, err)
		}
	}
}

// A profile whose avatar a modified node made too large or not an image
// changes nothing: members keep seeing the profile before it.
func TestBadAvatarChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.join("owner", "alice")
	good := w.state("alice", KindProfile, StateBody{Info: &Info{Name: "Alice", Avatar: testPNG}}, nil)
	for name, pic := range map[string][]byte{
		"oversized":    append(bytes.Clone(testJPEG), make([]byte, MaxAvatarSize)...),
		"not an image": []byte("<svg onload=alert(1)>"),
	} {
		t.Run(name, func(t *testing.T) {
			bad := signRawProfile(t, w, "alice", sbMarshal(t, wireInfo{Name: "Mallory", Avatar: pic}))
			got, err := received(t, bad)
			if err != nil {
				t.Fatalf("a well-formed op is refused on decode: %v", err)
			}
			c := BuildCommunity(w.id, append(w.ops[:len(w.ops):len(w.ops)], got))
			if _, err := got.OpenInfo(c.bodies[c.pos[got.ID]], w.person("owner").keys); !errors.Is(err, ErrBadBody) {
				t.Fatalf("OpenInfo = %v, want ErrBadBody", err)
			}
			info, from := c.OpenProfile(w.uid("alice"), w.person("owner").keys)
			if from != good || info.Name != "Alice" || !bytes.Equal(info.Avatar, testPNG) {
				t.Fatalf("OpenProfile = %+v from %v, want the good profile", info, from)
			}
		})
	}
}

// An avatar too large for any op is refused on decode, before anything
// opens it; so is a profile whose bytes or signer were forged.
func TestDecodeRefusesHugeOrForgedAvatars(t *testing.T) {
	w := newWorld(t)
	w.join("owner", "alice")
	w.join("owner", "mallory")
	huge := signRawProfile(t, w, "alice", sbMarshal(t, wireInfo{Name: "Alice", Avatar: append(bytes.Clone(testPNG), make([]byte, 1<<20)...)}))
	if _, err := received(t, huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a 1 MiB avatar: Decode = %v, want ErrTooLarge", err)
	}

	good := w.state("alice", KindProfile, StateBody{Info: &Info{Name: "Alice", Avatar: testPNG}}, nil)
	tampered := bytes.Clone(good.Encoded())
	tampered[len(tampered)-ed25519.SignatureSize-20] ^= 1 // inside the sealed Info
	if _, err := NewVerifier().Decode(tampered, testNow); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a tampered avatar: Decode = %v, want ErrBadSignature", err)
	}

	// Mallory's key under Alice's certificate: the op claims Alice.
	forger := *w.person("alice").dev
	forger.priv = w.person("mallory").dev.priv
	forged, err := forger.Sign(Draft{Community: w.id, Kind: KindProfile, HLC: w.clock + 1, Parents: heads(w.ops),
		State: &StateBody{Info: &Info{Name: "Alice", Avatar: testJPEG}}}, w.key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := received(t, forged); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a forged signer: Decode = %v, want ErrBadSignature", err)
	}
	info, from := w.build().OpenProfile(w.uid("alice"), w.person("owner").keys)
	if from != good || !bytes.Equal(info.Avatar, testPNG) {
		t.Errorf("OpenProfile = %+v from %v, want the good profile", info, from)
	}
}
