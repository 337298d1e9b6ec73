package relayclient

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// The relay never sees a user's password. The node stretches it, salted
// with the account's email, into a master key, and derives two keys from
// that: the login secret, which the node sends to the relay as the
// account's "password", and the backup key, which seals the user's
// identity seed before it goes to the relay. Knowing the login secret (or
// the relay's hash of it) does not give the backup key, so the relay
// stores an identity it cannot open, and a copy of its database is worth
// one argon2id guess per password per account to an attacker.

// kdfSalt prefixes the normalized email in argon2id's salt: the email
// makes the salt differ per account (no table serves two accounts), the
// prefix separates this use of the password from any other.
const kdfSalt = "ancore/relay/v1\x00"

// argon2id's cost. 64 MiB of memory per guess is what makes guessing
// expensive on GPUs and ASICs; two passes keep a login near 0.15 s on one
// desktop core (two lanes use a second core where there is one) — paid
// once per login or register, while the attacker pays it per guess.
// Changing any of these changes every login secret and backup key: it
// needs a new salt prefix and a migration.
const (
	kdfMemory  = 64 * 1024 // KiB
	kdfTime    = 2
	kdfThreads = 2
)

// HKDF infos of the two keys derived from the master key.
const (
	infoLogin  = "ancore/relay/v1 login"
	infoBackup = "ancore/relay/v1 identity backup"
)

// MinPassword is the shortest password accepted, in characters.
const MinPassword = 8

// backupDomain starts the associated data of a sealed identity, followed
// by the user key: a backup opens only as the identity of the user it was
// made for.
const backupDomain = "ancore/identity-backup/v1\x00"

// backupVersion is the first byte of a sealed identity.
const backupVersion = 1

// Errors of the account secrets.
var (
	ErrWeakPassword = fmt.Errorf("the password must have at least %d characters", MinPassword)
	// ErrBadBackup: a sealed identity that does not open with this key
	// for this user (wrong password, another account's, or damaged).
	ErrBadBackup = errors.New("the identity backup does not open")
)

// NormalizeEmail is the form of an email that keys are derived from:
// surrounding space trimmed, lowercased, so that "Ann@Example.org " on one
// device and "ann@example.org" on another log in to the same backup.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CheckPassword enforces the password policy on the user's password.
func CheckPassword(password string) error {
	if !utf8.ValidString(password) || utf8.RuneCountInString(password) < MinPassword {
		return ErrWeakPassword
	}
	return nil
}

// Keys are what a password gives the node for one account.
type Keys struct {
	// Login is the login secret: base64url (unpadded) of 32 bytes, sent
	// to the relay as the account's password.
	Login  string
	backup [chacha20poly1305.KeySize]byte
}

// DeriveKeys derives the keys of the account email from password. It
// costs argon2id's memory and time (see above); the password policy is
// not checked here (CheckPassword).
func DeriveKeys(email, password string) Keys {
	salt := []byte(kdfSalt + NormalizeEmail(email))
	master := argon2.IDKey([]byte(password), salt, kdfTime, kdfMemory, kdfThreads, 32)
	login, err := hkdf.Key(sha256.New, master, nil, infoLogin, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	backup, err := hkdf.Key(sha256.New, master, nil, infoBackup, chacha20poly1305.KeySize)
	if err != nil {
		panic(err)
	}
	var k Keys
	k.Login = base64.RawURLEncoding.EncodeToString(login)
	copy(k.backup[:], backup)
	return k
}

// SealIdentity seals user's seed with the backup key: base64 (standard)
// of a version byte, an XChaCha20-Poly1305 nonce and the ciphertext,
// bound to the user's key.
func (k *Keys) SealIdentity(user crdt.UserID, seed []byte) (string, error) {
	aead, err := chacha20poly1305.NewX(k.backup[:])
	if err != nil {
		return "", err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(seed)+aead.Overhead())
	out[0] = backupVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return "", err
	}
	out = aead.Seal(out, out[1:], seed, backupAD(user))
	return base64.StdEncoding.EncodeToString(out), nil
}

// OpenIdentity opens what SealIdentity sealed for user and checks that
// the seed is user's.
func (k *Keys) OpenIdentity(user crdt.UserID, sealed string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBackup, err)
	}
	aead, err := chacha20poly1305.NewX(k.backup[:])
	if err != nil {
		return nil, err
	}
	if len(raw) < 1+aead.NonceSize()+aead.Overhead() || raw[0] != backupVersion {
		return nil, fmt.Errorf("%w: not a version %d backup", ErrBadBackup, backupVersion)
	}
	nonce, ct := raw[1:1+aead.NonceSize()], raw[1+aead.NonceSize():]
	seed, err := aead.Open(nil, nonce, ct, backupAD(user))
	if err != nil {
		return nil, ErrBadBackup
	}
	u, err := crdt.UserFromSeed(seed)
	if err != nil || u.ID() != user {
		return nil, fmt.Errorf("%w: the seed is not the user's", ErrBadBackup)
	}
	return seed, nil
}

func backupAD(user crdt.UserID) []byte { return slices.Concat([]byte(backupDomain), user[:]) }
