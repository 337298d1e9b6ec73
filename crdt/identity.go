package crdt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
	"sync"

	"filippo.io/edwards25519"
)

// UserID is a user's identity public key (Ed25519). A user is one person
// across all their devices; messages are attributed to users.
type UserID [ed25519.PublicKeySize]byte

// DeviceID is a device's public key (Ed25519): the key that signs ops and,
// later, the device's libp2p peer identity.
type DeviceID [ed25519.PublicKeySize]byte

// String returns the key's KeyText.
func (u UserID) String() string { return KeyText(u[:]) }

// String returns the key's KeyText.
func (d DeviceID) String() string { return KeyText(d[:]) }

// keyEncoding is the text form of public keys: base32 without padding.
var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// KeyText renders a public key for people and for APIs: lowercase base32,
// no padding. It is the String of UserID and DeviceID.
func KeyText(key []byte) string { return strings.ToLower(keyEncoding.EncodeToString(key)) }

// ParseKeyText reads what KeyText wrote, in either case. It does not check
// the key's length.
func ParseKeyText(s string) ([]byte, error) { return keyEncoding.DecodeString(strings.ToUpper(s)) }

// certDomain separates device certificates from every other signature.
const certDomain = "ancore/device-cert/1\x00"

// Cert is a user's statement that a device key acts for them. Every op
// carries its author's cert, so any peer can tie the op to a user without
// any other state.
type Cert struct {
	User UserID
	Sig  [ed25519.SignatureSize]byte
}

func certMessage(dev DeviceID) []byte {
	return append([]byte(certDomain), dev[:]...)
}

// Verify reports whether c certifies dev.
func (c Cert) Verify(dev DeviceID) bool {
	return ed25519.Verify(c.User[:], certMessage(dev), c.Sig[:])
}

// User holds a user's identity private key.
type User struct {
	priv ed25519.PrivateKey
	id   UserID
}

// NewUser generates a user identity key.
func NewUser() (*User, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return UserFromSeed(seed)
}

// UserFromSeed restores a user identity from its 32-byte seed.
func UserFromSeed(seed []byte) (*User, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("user seed: want %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	u := &User{priv: ed25519.NewKeyFromSeed(seed)}
	copy(u.id[:], u.priv.Public().(ed25519.PublicKey))
	return u, nil
}

// ID returns the user's public identity.
func (u *User) ID() UserID { return u.id }

// Seed returns the private seed; store it as a secret.
func (u *User) Seed() []byte { return u.priv.Seed() }

// Certify signs a certificate that dev acts for u.
func (u *User) Certify(dev DeviceID) Cert {
	c := Cert{User: u.id}
	copy(c.Sig[:], ed25519.Sign(u.priv, certMessage(dev)))
	return c
}

// Device holds a device's private signing key and the certificate that ties
// it to its user.
type Device struct {
	priv ed25519.PrivateKey
	id   DeviceID
	cert Cert
}

// NewDevice generates a device key certified by u.
func NewDevice(u *User) (*Device, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	d, err := deviceFromSeed(seed)
	if err != nil {
		return nil, err
	}
	d.cert = u.Certify(d.id)
	return d, nil
}

// Device restores a device of u's from its seed, certifying it anew (the
// certificate is deterministic, so it is the one issued before).
func (u *User) Device(seed []byte) (*Device, error) {
	d, err := deviceFromSeed(seed)
	if err != nil {
		return nil, err
	}
	d.cert = u.Certify(d.id)
	return d, nil
}

// DeviceFromSeed restores a device from its seed and certificate, checking
// that the certificate is for this device.
func DeviceFromSeed(seed []byte, cert Cert) (*Device, error) {
	d, err := deviceFromSeed(seed)
	if err != nil {
		return nil, err
	}
	if !cert.Verify(d.id) {
		return nil, fmt.Errorf("device certificate: %w", ErrBadSignature)
	}
	d.cert = cert
	return d, nil
}

func deviceFromSeed(seed []byte) (*Device, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("device seed: want %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	d := &Device{priv: ed25519.NewKeyFromSeed(seed)}
	copy(d.id[:], d.priv.Public().(ed25519.PublicKey))
	return d, nil
}

// ID returns the device's public key.
func (d *Device) ID() DeviceID { return d.id }

// User returns the user the device acts for.
func (d *Device) User() UserID { return d.cert.User }

// Cert returns the device's certificate.
func (d *Device) Cert() Cert { return d.cert }

// Seed returns the private seed; store it as a secret.
func (d *Device) Seed() []byte { return d.priv.Seed() }

// deviceCache remembers devices whose certificate verified, with their
// public key decoded as a curve point, so that per op neither the
// certificate nor the point decompression (about 8 % of a verification) is
// paid again. It is bounded; when full it starts over.
type deviceCache struct {
	mu   sync.RWMutex
	good map[certKey]*devicePoint
}

type certKey struct {
	dev  DeviceID
	cert Cert
}

// devicePoint is a device's public key as −A, ready for verification.
type devicePoint struct{ minusA *edwards25519.Point }

const deviceCacheSize = 4096

// device returns the verified device's point, or nil if its certificate
// or key is bad.
func (c *deviceCache) device(dev DeviceID, cert Cert) *devicePoint {
	k := certKey{dev, cert}
	c.mu.RLock()
	d := c.good[k]
	c.mu.RUnlock()
	if d != nil {
		return d
	}
	if !cert.Verify(dev) {
		return nil
	}
	a, err := new(edwards25519.Point).SetBytes(dev[:])
	if err != nil {
		return nil
	}
	d = &devicePoint{minusA: new(edwards25519.Point).Negate(a)}
	c.mu.Lock()
	if c.good == nil || len(c.good) >= deviceCacheSize {
		c.good = make(map[certKey]*devicePoint)
	}
	c.good[k] = d
	c.mu.Unlock()
	return d
}

// verify checks an Ed25519 signature by the device exactly as
// crypto/ed25519.Verify does (RFC 8032, cofactorless; S must be canonical),
// with the key already decompressed.
func (d *devicePoint) verify(dev DeviceID, msg []byte, sig *[ed25519.SignatureSize]byte) bool {
	if sig[63]&224 != 0 {
		return false
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(dev[:])
	h.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		return false
	}
	r := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, d.minusA, s)
	return subtle.ConstantTimeCompare(sig[:32], r.Bytes()) == 1
}
