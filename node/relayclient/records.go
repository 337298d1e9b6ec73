package relayclient

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/relayapi"
	"golang.org/x/crypto/chacha20poly1305"
)

// A user's records at the relay (docs/protocol.md, "Device restore") are
// sealed under keys derived from the user's identity seed, not from the
// password: every device of the user holds the seed, so any of them can
// add a record the others open, and a password change (a new backup key)
// leaves every record readable. Record IDs are keyed hashes of what the
// record is about, so the relay sees neither which communities a user
// is in nor which record is the profile.

// HKDF infos of the record keys.
const (
	infoRecordSeal = "ancore/records/v1 seal"
	infoRecordID   = "ancore/records/v1 id"
)

// recordDomain starts a sealed record's associated data, followed by the
// user key and the record's ID: a record opens only for its user and
// under its own ID, so the relay cannot pass one record off as another.
const recordDomain = "ancore/record/v1\x00"

// recordVersion is the first byte of a sealed record.
const recordVersion = 1

// ErrBadRecord: a sealed record that does not open with this user's key
// under its ID (another user's, damaged or forged).
var ErrBadRecord = errors.New("the record does not open")

// RecordKeys seal and name one user's records.
type RecordKeys struct {
	user crdt.UserID
	seal [chacha20poly1305.KeySize]byte
	name [32]byte
}

// DeriveRecordKeys derives the record keys of user from its seed.
func DeriveRecordKeys(user *crdt.User) *RecordKeys {
	k := &RecordKeys{user: user.ID()}
	seal, err := hkdf.Key(sha256.New, user.Seed(), nil, infoRecordSeal, len(k.seal))
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	name, err := hkdf.Key(sha256.New, user.Seed(), nil, infoRecordID, len(k.name))
	if err != nil {
		panic(err)
	}
	copy(k.seal[:], seal)
	copy(k.name[:], name)
	return k
}

// ID names the record about subject: unpadded base64url of the first 24
// bytes of HMAC-SHA256 under the naming key (32 characters).
func (k *RecordKeys) ID(subject []byte) string {
	m := hmac.New(sha256.New, k.name[:])
	m.Write(subject)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// Seal seals plain as the record id: a version byte, an XChaCha20-Poly1305
// nonce and the ciphertext.
func (k *RecordKeys) Seal(id string, plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k.seal[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = recordVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], plain, k.ad(id)), nil
}

// Open opens what Seal sealed as the record id.
func (k *RecordKeys) Open(id string, sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k.seal[:])
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != recordVersion {
		return nil, fmt.Errorf("%w: not a version %d record", ErrBadRecord, recordVersion)
	}
	plain, err := aead.Open(nil, sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():], k.ad(id))
	if err != nil {
		return nil, ErrBadRecord
	}
	return plain, nil
}

func (k *RecordKeys) ad(id string) []byte {
	return slices.Concat([]byte(recordDomain), k.user[:], []byte(id))
}

// Records returns the sealed records of token's account.
func (c *Client) Records(ctx context.Context, token string) ([]relayapi.Record, error) {
	var out relayapi.Records
	if err := c.do(ctx, http.MethodGet, "/records", token, nil, &out); err != nil {
		return nil, err
	}
	return out.Records, nil
}

// PutRecord stores the sealed record id of token's account.
func (c *Client) PutRecord(ctx context.Context, token, id string, sealed []byte) error {
	return c.do(ctx, http.MethodPut, "/records/"+url.PathEscape(id), token, relayapi.RecordPut{Sealed: sealed}, nil)
}

// DeleteRecord deletes the record id of token's account.
func (c *Client) DeleteRecord(ctx context.Context, token, id string) error {
	return c.do(ctx, http.MethodDelete, "/records/"+url.PathEscape(id), token, nil, nil)
}
