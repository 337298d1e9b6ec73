package relayclient

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ancore/ancore/crdt"
)

func TestRecordRoundTrip(t *testing.T) {
	u := newUser(t)
	k := DeriveRecordKeys(u)
	id := k.ID([]byte("profile"))
	if len(id) != 32 || id == k.ID([]byte("profile2")) {
		t.Fatalf("IDs %q", id)
	}
	sealed, err := k.Seal(id, []byte("Ada Lovelace"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Ada")) {
		t.Fatal("the record is in clear")
	}
	// Another device of the user derives the same keys from the seed.
	again, err := crdt.UserFromSeed(u.Seed())
	if err != nil {
		t.Fatal(err)
	}
	k2 := DeriveRecordKeys(again)
	if k2.ID([]byte("profile")) != id {
		t.Fatal("another device names the record differently")
	}
	if plain, err := k2.Open(id, sealed); err != nil || string(plain) != "Ada Lovelace" {
		t.Fatalf("open = %q, %v", plain, err)
	}
}

func TestRecordOpenRefuses(t *testing.T) {
	u := newUser(t)
	k := DeriveRecordKeys(u)
	id := k.ID([]byte("a"))
	sealed, err := k.Seal(id, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	versioned := bytes.Clone(sealed)
	versioned[0] = 2
	other := DeriveRecordKeys(newUser(t))
	for name, try := range map[string]func() ([]byte, error){
		"another user's key": func() ([]byte, error) { return other.Open(id, sealed) },
		"another ID":         func() ([]byte, error) { return k.Open(k.ID([]byte("b")), sealed) },
		"damaged":            func() ([]byte, error) { return k.Open(id, flipped) },
		"unknown version":    func() ([]byte, error) { return k.Open(id, versioned) },
		"truncated":          func() ([]byte, error) { return k.Open(id, sealed[:20]) },
		"empty":              func() ([]byte, error) { return k.Open(id, nil) },
	} {
		if plain, err := try(); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: %q, %v; want ErrBadRecord", name, plain, err)
		}
	}
}
