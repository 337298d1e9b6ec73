package crdt

import (
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"slices"
	"sync"

	"filippo.io/edwards25519"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// Wraps seals one secret to many users at once: one ephemeral X25519 key
// for the whole set, and per recipient only its user id and a 48-byte box
// (for a 32-byte secret), so a rekey costs O(members) bytes. Recipients'
// X25519 keys are their Ed25519 identity keys mapped to Montgomery form
// (as libsodium's crypto_sign_ed25519_pk_to_curve25519), so members need
// no second key to be published anywhere.
type Wraps struct {
	Eph [32]byte
	To  []Wrap // sorted by user, unique
}

// Wrap is one recipient's box.
type Wrap struct {
	User UserID
	Box  []byte
}

const wrapDomain = "ancore/wrap/1\x00"

// montCache maps user ids to their X25519 public keys; conversion costs a
// point decompression, and rekeys convert every member.
var montCache sync.Map // UserID → *ecdh.PublicKey

func x25519Public(u UserID) (*ecdh.PublicKey, error) {
	if k, ok := montCache.Load(u); ok {
		return k.(*ecdh.PublicKey), nil
	}
	p, err := new(edwards25519.Point).SetBytes(u[:])
	if err != nil {
		return nil, fmt.Errorf("%w: user key is not a curve point", ErrBadBody)
	}
	k, err := ecdh.X25519().NewPublicKey(p.BytesMontgomery())
	if err != nil {
		return nil, err
	}
	montCache.Store(u, k)
	return k, nil
}

// x25519 returns the user's X25519 private key: the clamped scalar of its
// Ed25519 seed, which matches x25519Public of its id.
func (u *User) x25519() *ecdh.PrivateKey {
	h := sha512.Sum512(u.priv.Seed())
	k, err := ecdh.X25519().NewPrivateKey(h[:32]) // X25519 clamps
	if err != nil {
		panic(err) // 32 bytes are always a valid X25519 private key
	}
	return k
}

// wrapAEAD derives the box key for one recipient. context binds the box to
// what it is for (the op's community and epoch), so a box cannot be lifted
// into another op.
func wrapAEAD(shared []byte, eph, to *ecdh.PublicKey, context []byte) ([]byte, error) {
	info := slices.Concat([]byte(wrapDomain), eph.Bytes(), to.Bytes(), context)
	key := make([]byte, chacha20poly1305.KeySize)
	if _, err := hkdf.New(sha256.New, shared, nil, info).Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// zeroNonce is safe: every box key is used for exactly one box.
var zeroNonce = make([]byte, chacha20poly1305.NonceSize)

// SealTo wraps secret for each of users under context.
func SealTo(users []UserID, secret, context []byte) (*Wraps, error) {
	eph, err := ecdh.X25519().GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	us := slices.Clone(users)
	slices.SortFunc(us, func(a, b UserID) int { return compareUsers(a, b) })
	us = slices.Compact(us)
	w := &Wraps{To: make([]Wrap, 0, len(us))}
	copy(w.Eph[:], eph.PublicKey().Bytes())
	box := make([]byte, 0, len(us)*(len(secret)+chacha20poly1305.Overhead))
	for _, u := range us {
		pub, err := x25519Public(u)
		if err != nil {
			return nil, err
		}
		shared, err := eph.ECDH(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: unusable user key", ErrBadBody)
		}
		key, err := wrapAEAD(shared, eph.PublicKey(), pub, context)
		if err != nil {
			return nil, err
		}
		aead, err := chacha20poly1305.New(key)
		if err != nil {
			return nil, err
		}
		start := len(box)
		box = aead.Seal(box, zeroNonce, secret, nil)
		w.To = append(w.To, Wrap{User: u, Box: box[start:len(box):len(box)]})
	}
	return w, nil
}

// Users lists the recipients.
func (w *Wraps) Users() []UserID {
	us := make([]UserID, len(w.To))
	for i := range w.To {
		us[i] = w.To[i].User
	}
	return us
}

// Open unwraps u's secret. ErrNoKey means u is not a recipient; ErrDecrypt
// that its box does not authenticate.
func (w *Wraps) Open(u *User, context []byte) ([]byte, error) {
	i, ok := slices.BinarySearchFunc(w.To, u.id, func(x Wrap, id UserID) int { return compareUsers(x.User, id) })
	if !ok {
		return nil, ErrNoKey
	}
	eph, err := ecdh.X25519().NewPublicKey(w.Eph[:])
	if err != nil {
		return nil, ErrDecrypt
	}
	priv := u.x25519()
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, ErrDecrypt
	}
	key, err := wrapAEAD(shared, eph, priv.PublicKey(), context)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	secret, err := aead.Open(nil, zeroNonce, w.To[i].Box, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return secret, nil
}

func compareUsers(a, b UserID) int { return slices.Compare(a[:], b[:]) }

// maxBox bounds one recipient's box: the largest secret anyone wraps is an
// admission's (topic secret and MaxPrevKeys epoch keys in CBOR).
const maxBox = 64 + MaxPrevKeys*(epochKeySize+2) + chacha20poly1305.Overhead

func decodeWraps(w *wireWrap) (*Wraps, error) {
	if len(w.Eph) != 32 {
		return nil, fmt.Errorf("%w: ephemeral key of %d bytes", ErrBadBody, len(w.Eph))
	}
	if len(w.To) > MaxWraps {
		return nil, fmt.Errorf("%w: more than %d recipients", ErrBadBody, MaxWraps)
	}
	ws := &Wraps{To: make([]Wrap, 0, len(w.To))}
	copy(ws.Eph[:], w.Eph)
	for _, t := range w.To {
		var x Wrap
		n := len(x.User)
		if len(t) < n+chacha20poly1305.Overhead || len(t) > n+maxBox {
			return nil, fmt.Errorf("%w: wrap of %d bytes", ErrBadBody, len(t))
		}
		copy(x.User[:], t[:n])
		x.Box = t[n:]
		if k := len(ws.To); k > 0 && compareUsers(ws.To[k-1].User, x.User) >= 0 {
			return nil, fmt.Errorf("%w: recipients not sorted and unique", ErrBadBody)
		}
		ws.To = append(ws.To, x)
	}
	return ws, nil
}
