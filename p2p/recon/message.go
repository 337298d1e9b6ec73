package recon

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ancore/ancore/crdt"
)

// The wire format. A message is
//
//	message = version:byte range*
//	range   = upper:bound mode:uvarint payload
//	bound   = uvarint(0)                                            infinity
//	        | uvarint(len+1) uvarint(HLC - previous HLC) prefix[len]  len <= 32
//
// Ranges are consecutive: each covers [previous upper bound, upper bound),
// the first starting below every item; upper bounds strictly increase, and
// whatever follows the last range is skipped. A finite bound is the
// position (HLC, digest prefix padded with zeros) in log order; the
// previous HLC is that of the previous finite bound in the message, 0 for
// the first. A digest is an ID without its 4-byte CID prefix, which is the
// same for every ID. Payloads by mode:
//
//	0 Skip         nothing
//	1 Fingerprint  16 bytes of fingerprint, uvarint(count of items)
//	2 IDList       uvarint(n), n digests of 32 bytes
//	3 IDDiff       uvarint(n), ceil(n/8) bytes of bitmap, uvarint(m), m digests
//
// The fingerprint of a range is the first 16 bytes of SHA-256(S ‖
// uvarint(count)), S the sum of the range's digests as little-endian
// 256-bit integers mod 2^256, in 32 bytes. An IDDiff answers an IDList over
// the same range: bit i%8 of byte i/8 of the bitmap (bit 0 the least
// significant) set means the sender lacks listed ID i; the m digests are
// the sender's IDs in the range that were not listed.

// mode says what a range of a message carries.
type mode uint64

const (
	// modeSkip: the sender has nothing more to say about the range.
	modeSkip mode = iota
	// modeFingerprint: the sender's fingerprint of the range.
	modeFingerprint
	// modeIDList: every ID the sender holds in the range.
	modeIDList
	// modeIDDiff answers an IDList: which of the listed IDs the sender
	// lacks, and the IDs it holds in the range that were not listed.
	modeIDDiff
)

// inRange is one decoded range of a message. Slices point into the message.
type inRange struct {
	upper    bound
	boundLen int // bytes the upper bound took in the message
	mode     mode
	fp       [fingerprintSize]byte // modeFingerprint
	count    uint64                // modeFingerprint: how many items the sender holds in the range
	ids      []byte                // modeIDList: the list; modeIDDiff: the unlisted IDs
	listed   int                   // modeIDDiff: how many IDs the answered list had
	lacking  []byte                // modeIDDiff: bit i set = the sender lacks listed ID i
}

// decoder reads a message range by range, checking as it goes. A message
// is read twice, once to check it whole before acting on any of it and
// once to answer it, rather than held as a slice of ranges: that would let
// a message of tiny ranges cost many times its size in memory.
type decoder struct {
	buf     []byte
	lastHLC crdt.HLC // of the previous finite bound
	lower   bound    // the previous range's upper bound; at first the zero bound
}

// newDecoder checks a message's size and version.
func newDecoder(msg []byte) (*decoder, error) {
	if len(msg) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(msg), MaxMessageSize)
	}
	if len(msg) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrMalformed)
	}
	if msg[0] != ProtocolVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrVersion, msg[0], ProtocolVersion)
	}
	return &decoder{buf: msg[1:]}, nil
}

// next reads the next range into r; it returns false at the end.
func (d *decoder) next(r *inRange) (bool, error) {
	if len(d.buf) == 0 {
		return false, nil
	}
	if d.lower.inf {
		return false, d.fail("range after the infinite bound")
	}
	*r = inRange{}
	start := len(d.buf)
	if err := d.bound(&r.upper); err != nil {
		return false, err
	}
	r.boundLen = start - len(d.buf)
	if r.upper.compare(&d.lower) <= 0 {
		return false, d.fail("bounds out of order")
	}
	d.lower = r.upper
	m, err := d.uvarint()
	if err != nil {
		return false, err
	}
	r.mode = mode(m)
	switch r.mode {
	case modeSkip:
	case modeFingerprint:
		fp, err := d.bytes(fingerprintSize)
		if err != nil {
			return false, err
		}
		r.fp = [fingerprintSize]byte(fp)
		if r.count, err = d.uvarint(); err != nil {
			return false, err
		}
	case modeIDList:
		if r.ids, err = d.digests(); err != nil {
			return false, err
		}
	case modeIDDiff:
		if r.listed, err = d.count(1); err != nil {
			return false, err
		}
		if r.lacking, err = d.bytes((r.listed + 7) / 8); err != nil {
			return false, err
		}
		if r.listed%8 != 0 && r.lacking[len(r.lacking)-1]>>(r.listed%8) != 0 {
			return false, d.fail("bits set past the end of the bitmap")
		}
		if r.ids, err = d.digests(); err != nil {
			return false, err
		}
	default:
		return false, d.fail(fmt.Sprintf("unknown mode %d", m))
	}
	return true, nil
}

func (d *decoder) fail(why string) error { return fmt.Errorf("%w: %s", ErrMalformed, why) }

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		return 0, d.fail("bad varint")
	}
	d.buf = d.buf[n:]
	return v, nil
}

func (d *decoder) bytes(n int) ([]byte, error) {
	if n > len(d.buf) {
		return nil, d.fail("truncated")
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b, nil
}

// count reads a count of things of at least minBits bits each, refusing
// counts the rest of the message cannot hold before anything is allocated.
func (d *decoder) count(minBits int) (int, error) {
	v, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(d.buf))*8/uint64(minBits) {
		return 0, d.fail(fmt.Sprintf("count %d larger than the message", v))
	}
	return int(v), nil
}

func (d *decoder) digests() ([]byte, error) {
	n, err := d.count(8 * digestSize)
	if err != nil {
		return nil, err
	}
	return d.bytes(n * digestSize)
}

func (d *decoder) bound(b *bound) error {
	tag, err := d.uvarint()
	if err != nil {
		return err
	}
	if tag == 0 {
		*b = infBound
		return nil
	}
	if tag-1 > digestSize {
		return d.fail(fmt.Sprintf("bound prefix of %d bytes", tag-1))
	}
	delta, err := d.uvarint()
	if err != nil {
		return err
	}
	if delta > math.MaxUint64-uint64(d.lastHLC) {
		return d.fail("bound clock overflows")
	}
	prefix, err := d.bytes(int(tag - 1))
	if err != nil {
		return err
	}
	*b = bound{hlc: d.lastHLC + crdt.HLC(delta), plen: uint8(len(prefix))}
	copy(b.prefix[:], prefix)
	d.lastHLC = b.hlc
	return nil
}

// writer builds a message. A Skip range is held back until a later range
// is written, so runs of skips merge and trailing skips cost nothing.
type writer struct {
	buf          []byte
	lastHLC      crdt.HLC
	pending      bool // a Skip range up to pendingUpper is not yet written
	pendingUpper bound
}

// mark is a writer state to roll back to when a range does not fit.
type mark struct {
	n            int
	lastHLC      crdt.HLC
	pending      bool
	pendingUpper bound
}

func newWriter() writer { return writer{buf: []byte{ProtocolVersion}} }

func (w *writer) mark() mark { return mark{len(w.buf), w.lastHLC, w.pending, w.pendingUpper} }

func (w *writer) reset(m mark) {
	w.buf, w.lastHLC, w.pending, w.pendingUpper = w.buf[:m.n], m.lastHLC, m.pending, m.pendingUpper
}

// size is the length of the message if the held-back skip were written.
func (w *writer) size() int {
	n := len(w.buf)
	if w.pending {
		n += w.boundLen(&w.pendingUpper) + 1
	}
	return n
}

// finish returns the message, or nil if it says nothing beyond Skip.
func (w *writer) finish() []byte {
	if len(w.buf) == 1 {
		return nil
	}
	return w.buf
}

func (w *writer) skip(upper bound) {
	w.pending, w.pendingUpper = true, upper
}

// fingerprint writes the fingerprint and count of items[lo:hi] of s.
func (w *writer) fingerprint(upper bound, s *Set, lo, hi int) {
	w.begin(upper, modeFingerprint)
	fp := s.fingerprint(lo, hi)
	w.buf = append(w.buf, fp[:]...)
	w.buf = binary.AppendUvarint(w.buf, uint64(hi-lo))
}

// idList writes the IDs of items[lo:hi] of s.
func (w *writer) idList(upper bound, s *Set, lo, hi int) {
	w.begin(upper, modeIDList)
	w.buf = binary.AppendUvarint(w.buf, uint64(hi-lo))
	for i := lo; i < hi; i++ {
		w.buf = append(w.buf, s.digest(i)...)
	}
}

// idDiff writes the answer to a list of listed IDs: the bitmap of those
// lacking here, then the IDs of the items of s at the given indexes.
func (w *writer) idDiff(upper bound, listed int, lacking []byte, s *Set, unlisted []int) {
	w.begin(upper, modeIDDiff)
	w.buf = binary.AppendUvarint(w.buf, uint64(listed))
	w.buf = append(w.buf, lacking...)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(unlisted)))
	for _, i := range unlisted {
		w.buf = append(w.buf, s.digest(i)...)
	}
}

func (w *writer) begin(upper bound, m mode) {
	if w.pending {
		w.pending = false
		w.putBound(&w.pendingUpper)
		w.buf = binary.AppendUvarint(w.buf, uint64(modeSkip))
	}
	w.putBound(&upper)
	w.buf = binary.AppendUvarint(w.buf, uint64(m))
}

func (w *writer) putBound(b *bound) {
	if b.inf {
		w.buf = binary.AppendUvarint(w.buf, 0)
		return
	}
	w.buf = binary.AppendUvarint(w.buf, uint64(b.plen)+1)
	w.buf = binary.AppendUvarint(w.buf, uint64(b.hlc-w.lastHLC))
	w.buf = append(w.buf, b.prefix[:b.plen]...)
	w.lastHLC = b.hlc
}

func (w *writer) boundLen(b *bound) int {
	if b.inf {
		return 1
	}
	return uvarintLen(uint64(b.plen)+1) + uvarintLen(uint64(b.hlc-w.lastHLC)) + int(b.plen)
}

func uvarintLen(v uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], v)
}
