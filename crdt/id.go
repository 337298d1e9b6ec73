package crdt

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/ipfs/go-cid"
)

// IDSize is the length of an ID in bytes.
const IDSize = 36

// cidPrefix is the fixed head of every Ancore CID: CIDv1, multicodec "cbor"
// (0x51), multihash sha2-256 (0x12) of 32 bytes (0x20). Because it is fixed,
// an ID fits a comparable array that is also a ready-made bbolt key.
var cidPrefix = [4]byte{0x01, 0x51, 0x12, 0x20}

// ID names an op (and what an op creates: a message, a channel, a
// community) by the CIDv1 of its encoded bytes — precisely, of its Skeleton,
// the encoding with the body replaced by its digest, so that an op keeps its
// ID when a delete purges its body. The zero ID means "none".
type ID [IDSize]byte

// IDOf returns the CID of bytes (for an op, of its Skeleton).
func IDOf(encoded []byte) ID {
	var id ID
	copy(id[:], cidPrefix[:])
	sum := sha256.Sum256(encoded)
	copy(id[len(cidPrefix):], sum[:])
	return id
}

// IDFromDigest returns the ID whose SHA-256 digest is d (the part of an ID
// after its constant prefix, which protocols may leave out).
func IDFromDigest(d []byte) (ID, error) {
	var id ID
	if len(d) != IDSize-len(cidPrefix) {
		return id, fmt.Errorf("%w: digest of %d bytes", ErrBadID, len(d))
	}
	copy(id[:], cidPrefix[:])
	copy(id[len(cidPrefix):], d)
	return id, nil
}

// IDFromBytes parses the binary form of an ID.
func IDFromBytes(b []byte) (ID, error) {
	var id ID
	if len(b) != IDSize || !bytes.Equal(b[:len(cidPrefix)], cidPrefix[:]) {
		return id, fmt.Errorf("%w: not a sha2-256 cbor CIDv1", ErrBadID)
	}
	copy(id[:], b)
	return id, nil
}

// ParseID parses the text form of an ID (any multibase, as printed by String).
func ParseID(s string) (ID, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w: %v", ErrBadID, err)
	}
	return IDFromBytes(c.Bytes())
}

// valid reports whether id has the prefix of an Ancore CID.
func (id ID) valid() bool { return [4]byte(id[:len(cidPrefix)]) == cidPrefix }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// CID returns id as a go-cid value.
func (id ID) CID() cid.Cid {
	c, err := cid.Cast(id[:])
	if err != nil {
		// Only a zero or hand-made ID gets here; IDs from IDOf always cast.
		return cid.Undef
	}
	return c
}

// String returns the canonical text form (base32 CIDv1, "bafirei…"), or
// "" for the zero ID.
func (id ID) String() string {
	if id.IsZero() {
		return ""
	}
	return id.CID().String()
}

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" is the zero ID.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = ID{}
		return nil
	}
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Compare orders IDs bytewise; it breaks clock ties deterministically.
func (id ID) Compare(o ID) int { return bytes.Compare(id[:], o[:]) }

// idOrZero decodes an optional ID field: empty bytes are the zero ID.
func idOrZero(b []byte) (ID, error) {
	if len(b) == 0 {
		return ID{}, nil
	}
	return IDFromBytes(b)
}

// bytesOrNil is the inverse of idOrZero.
func (id ID) bytesOrNil() []byte {
	if id.IsZero() {
		return nil
	}
	return id[:]
}
