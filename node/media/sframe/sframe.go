// Package sframe encrypts call media end to end, in the way of SFrame
// (RFC 9605): each RTP payload is sealed by its sender before it leaves
// the node and opened by the receivers, so that a relay's SFU, which
// forwards the packets, reads their RTP headers (left clear) but can
// neither hear nor see nor alter the media.
//
// The packet format is RFC 9605's: a header — a config byte, then the key
// ID (KID) and the counter (CTR) in as few bytes as they need — and the
// payload sealed with AES-128-GCM (the AES_128_GCM_SHA256_128 suite, a
// 16-byte tag), the header as associated data, under a key and salt
// derived from a base key by HKDF-SHA256 with RFC 9605's labels. The
// nonce is the salt XOR the counter, so a key must seal no two payloads
// with one counter: a Sealer counts, and each sender has keys of its own.
//
// Where the base keys come from is Ancore's (SenderKey): from the
// community's current epoch key, the call's ID and the sender's device, so
// that whoever holds the epoch key — the community's members, not the
// relay — can derive every sender's key, and a member removed at a rekey
// cannot derive the keys of the next epoch. The KID is derived with the
// key: it names (epoch, call, sender) to those who hold the epoch key and
// tells the SFU nothing.
package sframe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Suite is the cipher suite: AES_128_GCM_SHA256_128 (RFC 9605, 0x0004).
const Suite uint16 = 0x0004

const (
	keySize   = 16 // AEAD.Nk
	nonceSize = 12 // AEAD.Nn
	tagSize   = 16 // AEAD.Nt
	// kidBytes is the size of the KIDs SenderKey derives: 48 bits make a
	// collision among a call's keys unlikely (and harmless: Open tries
	// every key of a KID).
	kidBytes = 6
	// MaxOverhead is the most a sealed payload grows by: a config byte,
	// an 8-byte KID and an 8-byte counter, and the tag.
	MaxOverhead = 1 + 8 + 8 + tagSize
	// replayWindow is how far behind the highest counter seen a packet
	// may arrive (reordered) and still be opened once.
	replayWindow = 128
)

// Errors of Open, checked with errors.Is.
var (
	ErrMalformed = errors.New("sframe: malformed packet")
	ErrNoKey     = errors.New("sframe: no key for the packet's KID")
	ErrDecrypt   = errors.New("sframe: packet does not open")
	ErrReplay    = errors.New("sframe: packet replayed or too old")
)

// Key is one sender's key: its KID, and the AEAD key and salt derived
// from its base key.
type Key struct {
	kid  uint64
	aead cipher.AEAD
	salt [nonceSize]byte
}

// KID is the key's ID, as packets sealed with it carry it.
func (k *Key) KID() uint64 { return k.kid }

// DeriveKey derives the key of kid from baseKey as RFC 9605 does
// (derive_key_salt): the HKDF-SHA256 secret of the base key, expanded with
// labels that bind the KID and the cipher suite.
func DeriveKey(kid uint64, baseKey []byte) (*Key, error) {
	secret, err := hkdf.Extract(sha256.New, baseKey, nil)
	if err != nil {
		return nil, err
	}
	label := func(what string) string {
		b := append([]byte("SFrame 1.0 Secret "+what+" "), binary.BigEndian.AppendUint64(nil, kid)...)
		return string(binary.BigEndian.AppendUint16(b, Suite))
	}
	key, err := hkdf.Expand(sha256.New, secret, label("key"), keySize)
	if err != nil {
		return nil, err
	}
	salt, err := hkdf.Expand(sha256.New, secret, label("salt"), nonceSize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Key{kid: kid, aead: aead}
	copy(k.salt[:], salt)
	return k, nil
}

// senderDomain separates call media keys from every other use of an
// epoch key.
const senderDomain = "ancore/call-media/1\x00"

// SenderKey derives the key with which sender (a device key) seals its
// media in call (the call's ID) under epochKey (the community's current
// epoch key), and that key's KID.
func SenderKey(epochKey, call, sender []byte) (*Key, error) {
	if len(epochKey) < keySize {
		return nil, fmt.Errorf("sframe: epoch key of %d bytes", len(epochKey))
	}
	prk, err := hkdf.Extract(sha256.New, epochKey, call)
	if err != nil {
		return nil, err
	}
	info := func(what string) string { return senderDomain + what + "\x00" + string(sender) }
	base, err := hkdf.Expand(sha256.New, prk, info("base"), 32)
	if err != nil {
		return nil, err
	}
	kid, err := hkdf.Expand(sha256.New, prk, info("kid"), kidBytes)
	if err != nil {
		return nil, err
	}
	return DeriveKey(uint64FromBytes(kid), base)
}

func uint64FromBytes(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// appendHeader appends RFC 9605's header for kid and ctr: a config byte
// |X|K K K|Y|C C C| — X clear and K the KID when it is under 8, else X set
// and K its length in bytes less one; Y and C the same for the counter —
// then the KID's bytes and the counter's, when long.
func appendHeader(dst []byte, kid, ctr uint64) []byte {
	var config byte
	var tail []byte
	if kid < 8 {
		config = byte(kid) << 4
	} else {
		n := minBytes(kid)
		config = 0x80 | byte(n-1)<<4
		tail = binary.BigEndian.AppendUint64(tail, kid)[8-n:]
	}
	if ctr < 8 {
		config |= byte(ctr)
	} else {
		n := minBytes(ctr)
		config |= 0x08 | byte(n-1)
		tail = append(tail, binary.BigEndian.AppendUint64(nil, ctr)[8-n:]...)
	}
	return append(append(dst, config), tail...)
}

func minBytes(v uint64) int {
	n := 1
	for v >= 1<<(8*n) && n < 8 {
		n++
	}
	return n
}

// parseHeader reads the header at the start of p: the KID, the counter
// and the header's length.
func parseHeader(p []byte) (kid, ctr uint64, n int, err error) {
	if len(p) == 0 {
		return 0, 0, 0, fmt.Errorf("%w: empty", ErrMalformed)
	}
	config := p[0]
	n = 1
	field := func(extended bool, v byte) (uint64, error) {
		if !extended {
			return uint64(v), nil
		}
		size := int(v) + 1
		if len(p) < n+size {
			return 0, fmt.Errorf("%w: header cut short", ErrMalformed)
		}
		x := uint64FromBytes(p[n : n+size])
		// One encoding per value: a long form of a short value would let
		// one packet be written two ways.
		if x < 8 || minBytes(x) != size {
			return 0, fmt.Errorf("%w: value %d not in its shortest form", ErrMalformed, x)
		}
		n += size
		return x, nil
	}
	if kid, err = field(config&0x80 != 0, config>>4&0x07); err != nil {
		return 0, 0, 0, err
	}
	if ctr, err = field(config&0x08 != 0, config&0x07); err != nil {
		return 0, 0, 0, err
	}
	return kid, ctr, n, nil
}

func nonce(salt [nonceSize]byte, ctr uint64) []byte {
	n := salt
	c := binary.BigEndian.AppendUint64(nil, ctr)
	for i := range c {
		n[nonceSize-8+i] ^= c[i]
	}
	return n[:]
}

// Sealer seals one sender's payloads with its key, counting from zero. It
// is safe for concurrent use.
type Sealer struct {
	mu  sync.Mutex
	key *Key
	ctr uint64
}

// NewSealer returns a Sealer of key; a sender seals with no other Sealer
// of the same key, or counters would repeat.
func NewSealer(key *Key) *Sealer { return &Sealer{key: key} }

// Seal appends the sealed form of payload to dst and returns it.
func (s *Sealer) Seal(dst, payload []byte) []byte {
	s.mu.Lock()
	ctr := s.ctr
	s.ctr++
	s.mu.Unlock()
	start := len(dst)
	dst = appendHeader(dst, s.key.kid, ctr)
	header := dst[start:]
	return s.key.aead.Seal(dst, nonce(s.key.salt, ctr), payload, header)
}

// Opener opens the payloads of the senders whose keys it holds, each
// counter of a key at most once. It is safe for concurrent use.
type Opener struct {
	mu   sync.Mutex
	keys map[uint64][]*opening
}

// opening is a key and the counters it has opened.
type opening struct {
	key  *Key
	seen window
}

// NewOpener returns an Opener with no keys.
func NewOpener() *Opener { return &Opener{keys: map[uint64][]*opening{}} }

// Add makes o open what key sealed.
func (o *Opener) Add(key *Key) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range o.keys[key.kid] {
		if k.key == key {
			return
		}
	}
	o.keys[key.kid] = append(o.keys[key.kid], &opening{key: key})
}

// Remove forgets key: a sender that left, an epoch that ended.
func (o *Opener) Remove(key *Key) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ks := o.keys[key.kid]
	for i, k := range ks {
		if k.key == key {
			ks = append(ks[:i], ks[i+1:]...)
			break
		}
	}
	if len(ks) == 0 {
		delete(o.keys, key.kid)
	} else {
		o.keys[key.kid] = ks
	}
}

// Open appends the payload packet holds to dst and returns it, with the
// key that opened it. It refuses a packet that is malformed, of a KID it
// has no key for, that does not authenticate, or whose counter that key
// opened already or is more than replayWindow behind the highest opened.
func (o *Opener) Open(dst, packet []byte) ([]byte, *Key, error) {
	kid, ctr, n, err := parseHeader(packet)
	if err != nil {
		return dst, nil, err
	}
	if len(packet)-n < tagSize {
		return dst, nil, fmt.Errorf("%w: %d bytes after the header", ErrMalformed, len(packet)-n)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	ks := o.keys[kid]
	if len(ks) == 0 {
		return dst, nil, fmt.Errorf("%w %d", ErrNoKey, kid)
	}
	header, sealed := packet[:n], packet[n:]
	for _, k := range ks {
		if !k.seen.fresh(ctr) {
			continue
		}
		out, err := k.key.aead.Open(dst, nonce(k.key.salt, ctr), sealed, header)
		if err != nil {
			continue
		}
		k.seen.mark(ctr)
		return out, k.key, nil
	}
	for _, k := range ks {
		if !k.seen.fresh(ctr) {
			return dst, nil, fmt.Errorf("%w: counter %d of KID %d", ErrReplay, ctr, kid)
		}
	}
	return dst, nil, ErrDecrypt
}

// window is a sliding replay window over counters, as SRTP keeps one
// (RFC 3711, 3.3.2): the highest counter opened and a bitmap of the
// replayWindow before it.
type window struct {
	any  bool
	top  uint64
	bits [replayWindow / 64]uint64 // bit i: top-i was opened
}

func (w *window) fresh(ctr uint64) bool {
	if !w.any || ctr > w.top {
		return true
	}
	back := w.top - ctr
	return back < replayWindow && w.bits[back/64]&(1<<(back%64)) == 0
}

// mark records ctr as opened; fresh(ctr) held.
func (w *window) mark(ctr uint64) {
	if !w.any {
		w.any, w.top = true, ctr
		w.bits = [replayWindow / 64]uint64{1}
		return
	}
	if ctr > w.top {
		w.shift(ctr - w.top)
		w.top = ctr
		w.bits[0] |= 1
		return
	}
	back := w.top - ctr
	w.bits[back/64] |= 1 << (back % 64)
}

// shift moves the bitmap by d newer counters.
func (w *window) shift(d uint64) {
	if d >= replayWindow {
		w.bits = [replayWindow / 64]uint64{}
		return
	}
	words, bits := int(d/64), d%64
	var out [replayWindow / 64]uint64
	for i := len(out) - 1; i >= words; i-- {
		v := w.bits[i-words] << bits
		if bits > 0 && i-words-1 >= 0 {
			v |= w.bits[i-words-1] >> (64 - bits)
		}
		out[i] = v
	}
	w.bits = out
}
