package crdt

import (
	"errors"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-multihash"
)

// multicodecCBOR is the multicodec code of "cbor", which go-cid has no
// constant for.
const multicodecCBOR = 0x51

func TestIDOfIsCIDv1OfSHA256(t *testing.T) {
	for _, b := range [][]byte{nil, {}, []byte("community"), make([]byte, 1<<16)} {
		mh, err := multihash.Sum(b, multihash.SHA2_256, -1)
		if err != nil {
			t.Fatal(err)
		}
		want := cid.NewCidV1(multicodecCBOR, mh)
		id := IDOf(b)
		if string(id[:]) != string(want.Bytes()) {
			t.Errorf("IDOf(%d bytes) = %x, want %x", len(b), id[:], want.Bytes())
		}
		if !id.CID().Equals(want) {
			t.Errorf("CID() = %s, want %s", id.CID(), want)
		}
		if id.String() != want.String() {
			t.Errorf("String() = %q, want %q", id.String(), want.String())
		}
	}
}

func TestIDTextRoundTrip(t *testing.T) {
	for _, id := range testIDs(5) {
		s := id.String()
		got, err := ParseID(s)
		if err != nil || got != id {
			t.Errorf("ParseID(%q) = %v, %v; want %v", s, got, err, id)
		}
		text, err := id.MarshalText()
		if err != nil || string(text) != s {
			t.Errorf("MarshalText = %q, %v; want %q", text, err, s)
		}
		var back ID
		if err := back.UnmarshalText(text); err != nil || back != id {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, id)
		}
		fromBytes, err := IDFromBytes(id[:])
		if err != nil || fromBytes != id {
			t.Errorf("IDFromBytes = %v, %v; want %v", fromBytes, err, id)
		}
		// ParseID reads any multibase, not only the base32 String prints.
		b58, err := id.CID().StringOfBase(multibase.Base58BTC)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ParseID(b58); err != nil || got != id {
			t.Errorf("ParseID(%q) = %v, %v; want %v", b58, got, err, id)
		}
	}
}

func TestZeroID(t *testing.T) {
	var zero ID
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero ID: IsZero %v, String %q", zero.IsZero(), zero.String())
	}
	if text, err := zero.MarshalText(); err != nil || len(text) != 0 {
		t.Errorf("zero MarshalText = %q, %v", text, err)
	}
	id := IDOf([]byte("x"))
	if id.IsZero() {
		t.Error("IDOf is zero")
	}
	if err := id.UnmarshalText(nil); err != nil || !id.IsZero() {
		t.Errorf(`UnmarshalText("") = %v, %v; want zero ID`, id, err)
	}
	if _, err := ParseID(""); !errors.Is(err, ErrBadID) {
		t.Errorf(`ParseID("") error = %v, want ErrBadID`, err)
	}
}

func TestParseIDRejects(t *testing.T) {
	data := []byte("some op")
	sha256, err := multihash.Sum(data, multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	sha512, err := multihash.Sum(data, multihash.SHA2_512, -1)
	if err != nil {
		t.Fatal(err)
	}
	truncated, err := multihash.Sum(data, multihash.SHA2_256, 20)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"garbage":         "not an id",
		"bad multibase":   "!bafy",
		"truncated":       IDOf(data).String()[:20],
		"CIDv0":           cid.NewCidV0(sha256).String(),
		"raw codec":       cid.NewCidV1(cid.Raw, sha256).String(),
		"dag-cbor codec":  cid.NewCidV1(cid.DagCBOR, sha256).String(),
		"sha2-512":        cid.NewCidV1(multicodecCBOR, sha512).String(),
		"short sha2-256":  cid.NewCidV1(multicodecCBOR, truncated).String(),
		"multibase empty": "b",
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			if id, err := ParseID(s); !errors.Is(err, ErrBadID) {
				t.Errorf("ParseID(%q) = %v, %v; want ErrBadID", s, id, err)
			}
			var id ID
			if err := id.UnmarshalText([]byte(s)); !errors.Is(err, ErrBadID) {
				t.Errorf("UnmarshalText(%q) error = %v, want ErrBadID", s, err)
			}
		})
	}
}

func TestIDFromBytesRejects(t *testing.T) {
	good := IDOf([]byte("x"))
	cases := map[string][]byte{
		"empty":       nil,
		"short":       good[:IDSize-1],
		"long":        append(good[:], 0),
		"zero":        make([]byte, IDSize),
		"other codec": append([]byte{0x01, 0x55, 0x12, 0x20}, good[4:]...),
	}
	for name, b := range cases {
		if _, err := IDFromBytes(b); !errors.Is(err, ErrBadID) {
			t.Errorf("%s: IDFromBytes error = %v, want ErrBadID", name, err)
		}
	}
}

func TestIDCompare(t *testing.T) {
	a, b := IDOf([]byte("a")), IDOf([]byte("b"))
	if a.Compare(a) != 0 || a.Compare(b) != -b.Compare(a) || a.Compare(b) == 0 {
		t.Errorf("Compare not a total order: %d %d %d", a.Compare(a), a.Compare(b), b.Compare(a))
	}
	if (ID{}).Compare(a) >= 0 {
		t.Error("zero ID does not sort first")
	}
}

func TestIDFromDigest(t *testing.T) {
	id := IDOf([]byte("x"))
	got, err := IDFromDigest(id[4:])
	if err != nil || got != id {
		t.Fatalf("IDFromDigest = %v, %v", got, err)
	}
	if _, err := IDFromDigest(id[5:]); err == nil {
		t.Fatal("a short digest was accepted")
	}
}
