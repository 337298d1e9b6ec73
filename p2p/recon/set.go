package recon

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sort"

	"github.com/ancore/ancore/crdt"
)

const (
	// prefixSize is the length of the CID prefix every Ancore ID starts with.
	prefixSize = 4
	// digestSize is what goes on the wire for an ID: the sha2-256 digest
	// after the prefix, since the prefix is the same for every ID.
	digestSize = crdt.IDSize - prefixSize
	// fingerprintSize is the length of a range fingerprint.
	fingerprintSize = 16
)

// cidPrefix is read off crdt.IDOf rather than copied, so that the IDs
// rebuilt from wire digests are exactly the IDs crdt makes.
var cidPrefix = func() [prefixSize]byte {
	id := crdt.IDOf(nil)
	return [prefixSize]byte(id[:prefixSize])
}()

// Item is one op as reconciliation sees it: where it sits in its log and
// its ID. An ID names one op, so it always comes with the same HLC.
type Item struct {
	HLC crdt.HLC
	ID  crdt.ID
}

// Compare orders items by HLC, then bytewise by ID: the order of a log.
func (a Item) Compare(b Item) int {
	if c := cmp.Compare(a.HLC, b.HLC); c != 0 {
		return c
	}
	return a.ID.Compare(b.ID)
}

// sum256 is a 256-bit little-endian integer; fingerprints add digests
// modulo 2^256 so that the sum over any range is a difference of two
// prefix sums.
type sum256 [4]uint64

func (s *sum256) add(digest []byte) {
	var carry uint64
	for k := range s {
		s[k], carry = bits.Add64(s[k], binary.LittleEndian.Uint64(digest[8*k:]), carry)
	}
}

func (s sum256) sub(o sum256) sum256 {
	var borrow uint64
	for k := range s {
		s[k], borrow = bits.Sub64(s[k], o[k], borrow)
	}
	return s
}

// Set is an immutable, sorted snapshot of one log's items, indexed so that
// the fingerprint of any range costs O(1). Build it once per
// reconciliation; it is safe for concurrent reads.
type Set struct {
	items []Item
	sums  []sum256 // sums[i] is the sum of the digests of items[:i]
}

// NewSet returns the set of items. It takes the slice over, to spare a
// copy of a large log: it sorts it in place if needed, drops exact
// duplicates, and keeps it, so the caller must not use it afterwards. It
// panics if an ID is not an Ancore CID (the form crdt.IDOf makes): only
// such IDs come out of a store, and only their digest goes on the wire.
func NewSet(items []Item) *Set {
	own := items
	if !slices.IsSortedFunc(own, Item.Compare) {
		slices.SortFunc(own, Item.Compare)
	}
	own = slices.Compact(own)
	sums := make([]sum256, len(own)+1)
	for i := range own {
		if [prefixSize]byte(own[i].ID[:prefixSize]) != cidPrefix {
			panic(fmt.Sprintf("recon: item %d has ID %x, not an Ancore CID", i, own[i].ID[:]))
		}
		sums[i+1] = sums[i]
		sums[i+1].add(own[i].ID[prefixSize:])
	}
	return &Set{items: own, sums: sums}
}

// Len returns the number of items in the set.
func (s *Set) Len() int { return len(s.items) }

// Has reports whether it is in the set.
func (s *Set) Has(it Item) bool {
	_, found := slices.BinarySearchFunc(s.items, it, Item.Compare)
	return found
}

// digest returns the wire form of item i's ID.
func (s *Set) digest(i int) []byte { return s.items[i].ID[prefixSize:] }

// fingerprint returns the first 16 bytes of
// SHA-256(sum of the digests of items[lo:hi] mod 2^256, little-endian ‖ uvarint(hi-lo)).
func (s *Set) fingerprint(lo, hi int) [fingerprintSize]byte {
	sum := s.sums[hi].sub(s.sums[lo])
	var buf [32 + binary.MaxVarintLen64]byte
	for k, word := range sum {
		binary.LittleEndian.PutUint64(buf[8*k:], word)
	}
	n := binary.PutUvarint(buf[32:], uint64(hi-lo))
	h := sha256.Sum256(buf[:32+n])
	return [fingerprintSize]byte(h[:fingerprintSize])
}

// index returns the position of the first item at or above b.
func (s *Set) index(b bound) int {
	return sort.Search(len(s.items), func(i int) bool { return !b.above(&s.items[i]) })
}

// boundBefore returns the shortest bound above item i-1 and at or below
// item i (0 < i < Len): a split point that costs few bytes to send.
func (s *Set) boundBefore(i int) bound {
	prev, cur := &s.items[i-1], &s.items[i]
	b := bound{hlc: cur.HLC}
	if prev.HLC != cur.HLC {
		return b
	}
	pd, cd := prev.ID[prefixSize:], cur.ID[prefixSize:]
	n := 0
	for pd[n] == cd[n] {
		n++
	}
	b.plen = uint8(n + 1)
	copy(b.prefix[:], cd[:n+1])
	return b
}

// bound is a position between items: (HLC, digest prefix padded with
// zeros), or infinity, above every item. The zero bound is at or below
// every item: the lower end of the first range of a message.
type bound struct {
	inf    bool
	hlc    crdt.HLC
	plen   uint8
	prefix [digestSize]byte // zero past plen, so it compares as the padded value
}

var infBound = bound{inf: true}

// above reports whether it is below b.
func (b *bound) above(it *Item) bool {
	switch {
	case b.inf:
		return true
	case it.HLC != b.hlc:
		return it.HLC < b.hlc
	default:
		return bytes.Compare(it.ID[prefixSize:], b.prefix[:]) < 0
	}
}

func (b *bound) compare(o *bound) int {
	switch {
	case b.inf || o.inf:
		return cmp.Compare(boolInt(b.inf), boolInt(o.inf))
	case b.hlc != o.hlc:
		return cmp.Compare(b.hlc, o.hlc)
	default:
		return bytes.Compare(b.prefix[:], o.prefix[:])
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
