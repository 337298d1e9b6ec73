package crdt

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// EpochID names an epoch key without revealing it: the first 16 bytes of
// SHA-256 over a domain string and the key.
type EpochID [16]byte

// IsZero reports whether e is the zero EpochID ("not encrypted").
func (e EpochID) IsZero() bool { return e == EpochID{} }

const epochKeySize = chacha20poly1305.KeySize

const epochIDDomain = "ancore/epoch-id/1\x00"

// EpochKey is a community's symmetric key for one epoch. Message bodies are
// sealed with XChaCha20-Poly1305 under it; a membership change rotates to a
// new epoch (the communities layer does that).
type EpochKey struct {
	id   EpochID
	key  [chacha20poly1305.KeySize]byte
	aead cipher.AEAD
}

// NewEpochKey generates a random epoch key.
func NewEpochKey() (*EpochKey, error) {
	b := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return EpochKeyFromBytes(b)
}

// EpochKeyFromBytes restores an epoch key from its 32 secret bytes.
func EpochKeyFromBytes(b []byte) (*EpochKey, error) {
	if len(b) != chacha20poly1305.KeySize {
		return nil, fmt.Errorf("epoch key: want %d bytes, got %d", chacha20poly1305.KeySize, len(b))
	}
	k := &EpochKey{}
	copy(k.key[:], b)
	sum := sha256.Sum256(append([]byte(epochIDDomain), b...))
	copy(k.id[:], sum[:])
	aead, err := chacha20poly1305.NewX(k.key[:])
	if err != nil {
		return nil, err
	}
	k.aead = aead
	return k, nil
}

// ID returns the key's public name.
func (k *EpochKey) ID() EpochID { return k.id }

// Bytes returns the secret key material.
func (k *EpochKey) Bytes() []byte { return append([]byte(nil), k.key[:]...) }

// seal encrypts plaintext with a fresh random nonce; the result is
// nonce || ciphertext || tag. ad binds the op header.
func (k *EpochKey) seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plaintext)+chacha20poly1305.Overhead)
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out, plaintext, ad), nil
}

func (k *EpochKey) open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) < chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return nil, ErrDecrypt
	}
	nonce, ct := sealed[:chacha20poly1305.NonceSizeX], sealed[chacha20poly1305.NonceSizeX:]
	pt, err := k.aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Keyring is the set of epoch keys a reader holds, by id.
type Keyring map[EpochID]*EpochKey

// Add puts k into the ring.
func (r Keyring) Add(k *EpochKey) { r[k.id] = k }
