package recon

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestScenarios(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	universe := randomItems(rng, 5000, 3)
	pick := func(keep func(i int) bool) []Item {
		var s []Item
		for i, it := range universe {
			if keep(i) {
				s = append(s, it)
			}
		}
		return s
	}
	all := func(int) bool { return true }
	none := func(int) bool { return false }
	cases := []struct {
		name string
		a, b func(i int) bool
	}{
		{"both empty", none, none},
		{"initiator empty", none, all},
		{"responder empty", all, none},
		{"identical", all, all},
		{"disjoint halves", func(i int) bool { return i%2 == 0 }, func(i int) bool { return i%2 == 1 }},
		{"responder lacks a block", all, func(i int) bool { return i < 1000 || i >= 3000 }},
		{"initiator lacks a block", func(i int) bool { return i < 1000 || i >= 3000 }, all},
		{"one missing", all, func(i int) bool { return i != 2500 }},
		{"small", func(i int) bool { return i < 10 }, func(i int) bool { return i < 20 && i%3 != 0 }},
		{"random", func(int) bool { return rng.IntN(3) > 0 }, func(int) bool { return rng.IntN(3) > 0 }},
	}
	for _, tc := range cases {
		for _, limit := range []int{MaxMessageSize, 4 << 10} {
			a, b := pick(tc.a), pick(tc.b)
			ra, rb := NewReconciler(NewSet(slices.Clone(a))), NewReconciler(NewSet(slices.Clone(b)))
			ra.setLimit(limit)
			rb.setLimit(limit)
			out, err := exchange(ra, rb, 1000)
			if err != nil {
				t.Fatalf("%s, limit %d: %v", tc.name, limit, err)
			}
			checkOutcome(t, out, a, b)
			t.Logf("%s, limit %d: %d round trips, %d bytes, %d repeats", tc.name, limit, out.rounds, out.bytes, out.repeats)
		}
	}
}

// TestReconcileProperty reconciles random sets drawn from one universe and
// checks that the initiator learns exactly both differences, each ID once,
// within a bounded number of round trips.
func TestReconcileProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		rng := rand.New(rand.NewPCG(seed, 0))
		// A step of 0 gives every item the same HLC: only IDs order them.
		step := rapid.SampledFrom([]int{0, 1, 3, 1000}).Draw(rt, "hlcStep")
		// Sizes come from the seed: rapid favours small draws, and the
		// sizes that matter reach the thousands.
		scale := []int{10, 100, 1000, 3000}[rng.IntN(4)]
		universe := randomItems(rng, rng.IntN(scale+1), step)
		var a, b []Item
		switch shape := rapid.SampledFrom([]string{"random", "identical", "disjoint", "blocks"}).Draw(rt, "shape"); shape {
		case "random":
			pa := rapid.Float64Range(0, 1).Draw(rt, "pa")
			pb := rapid.Float64Range(0, 1).Draw(rt, "pb")
			for _, it := range universe {
				if rng.Float64() < pa {
					a = append(a, it)
				}
				if rng.Float64() < pb {
					b = append(b, it)
				}
			}
		case "identical":
			for _, it := range universe {
				if rng.IntN(2) == 0 {
					a = append(a, it)
				}
			}
			b = a
		case "disjoint":
			for _, it := range universe {
				switch rng.IntN(3) {
				case 0:
					a = append(a, it)
				case 1:
					b = append(b, it)
				}
			}
		case "blocks":
			// One side lacks a few runs of the other's items.
			a = universe
			for i := 0; i < len(universe); {
				n := 1 + rng.IntN(len(universe)/4+1)
				if rng.IntN(3) > 0 {
					b = append(b, universe[i:min(i+n, len(universe))]...)
				}
				i += n
			}
			if rng.IntN(2) == 0 {
				a, b = b, a
			}
		}
		limit := rapid.SampledFrom([]int{MaxMessageSize, 4 << 10, 16 << 10}).Draw(rt, "limit")
		ra, rb := NewReconciler(NewSet(shuffled(rng, a))), NewReconciler(NewSet(shuffled(rng, b)))
		ra.setLimit(limit)
		rb.setLimit(limit)
		maxRounds := roundBound(len(a)+len(b), limit)
		out, err := exchange(ra, rb, maxRounds)
		if err != nil {
			rt.Fatalf("%d and %d items, limit %d: %v", len(a), len(b), limit, err)
		}
		checkOutcome(rt, out, a, b)
		if limit == MaxMessageSize && out.repeats > 0 {
			rt.Fatalf("%d IDs learned twice with full-size messages", out.repeats)
		}
	})
}

// roundBound is the most round trips a reconciliation of n items in all
// may take with messages of limit bytes: the descent through the levels of
// splitting, plus the frames needed to list every ID, with room for the
// rounds that hand unanswered ranges back.
func roundBound(n, limit int) int {
	levels := 1
	for m := n; m > IDListThreshold; m /= Buckets {
		levels++
	}
	return 2*levels + 4*(n*digestSize/limit+1)
}

// shuffled returns items out of order and with some duplicated, which
// NewSet must undo.
func shuffled(rng *rand.Rand, items []Item) []Item {
	s := append([]Item(nil), items...)
	for range len(s) / 10 {
		s = append(s, s[rng.IntN(len(s))])
	}
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// TestIdenticalLarge is the common case: a peer that missed nothing.
func TestIdenticalLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	set := NewSet(randomItems(rng, 200_000, 3))
	out, err := exchange(NewReconciler(set), NewReconciler(set), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("200k identical items: %d round trip(s), %d bytes", out.rounds, out.bytes)
	if out.bytes > 4096 || len(out.have)+len(out.need) > 0 {
		t.Fatalf("%d bytes, %d/%d IDs learned", out.bytes, len(out.have), len(out.need))
	}
}

func TestFingerprint(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	items := randomItems(rng, 300, 1)
	set := NewSet(items)
	for range 200 {
		lo := rng.IntN(len(items) + 1)
		hi := lo + rng.IntN(len(items)-lo+1)
		// The sum, by the book: digests as little-endian integers mod 2^256.
		sum := new(big.Int)
		for _, it := range set.items[lo:hi] {
			d := slices.Clone(it.ID[prefixSize:])
			slices.Reverse(d)
			sum.Add(sum, new(big.Int).SetBytes(d))
		}
		sum.Mod(sum, new(big.Int).Lsh(big.NewInt(1), 256))
		le := sum.FillBytes(make([]byte, 32))
		slices.Reverse(le)
		h := sha256.Sum256(binary.AppendUvarint(le, uint64(hi-lo)))
		if got := set.fingerprint(lo, hi); !bytes.Equal(got[:], h[:fingerprintSize]) {
			t.Fatalf("fingerprint of [%d, %d) = %x, want %x", lo, hi, got, h[:fingerprintSize])
		}
	}
}

func TestNewSetNormalizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	items := randomItems(rng, 500, 0)
	set := NewSet(shuffled(rng, items))
	slices.SortFunc(items, Item.Compare)
	if !slices.Equal(set.items, items) {
		t.Fatal("NewSet did not sort and deduplicate")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewSet took an ID that is not an Ancore CID")
		}
	}()
	NewSet([]Item{{HLC: 1}})
}

// TestBounds checks that a split point separates the items either side of
// it, with the fewest prefix bytes, and survives encoding.
func TestBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	items := randomItems(rng, 2000, 1) // many equal clocks
	// Make some neighbours share long digest prefixes.
	for i := 1; i < len(items); i += 7 {
		items[i].HLC = items[i-1].HLC
		copy(items[i].ID[:prefixSize+rng.IntN(digestSize)], items[i-1].ID[:])
	}
	set := NewSet(items)
	w := newWriter()
	var want []bound
	for i := 1; i < set.Len(); i++ {
		b := set.boundBefore(i)
		if !b.above(&set.items[i-1]) || b.above(&set.items[i]) || set.index(b) != i {
			t.Fatalf("bound before item %d does not separate it from item %d", i, i-1)
		}
		if b.plen > 0 {
			shorter := b
			shorter.plen--
			shorter.prefix[shorter.plen] = 0
			if shorter.above(&set.items[i-1]) {
				t.Fatalf("bound before item %d is longer than needed", i)
			}
		}
		w.fingerprint(b, set, 0, 0)
		want = append(want, b)
	}
	w.fingerprint(infBound, set, 0, 0)
	want = append(want, infBound)
	d, err := newDecoder(w.buf)
	if err != nil {
		t.Fatal(err)
	}
	var in inRange
	for k := 0; ; k++ {
		ok, err := d.next(&in)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if k != len(want) {
				t.Fatalf("decoded %d ranges, wrote %d", k, len(want))
			}
			break
		}
		if in.upper != want[k] || in.mode != modeFingerprint {
			t.Fatalf("range %d decoded as %+v, wrote %+v", k, in.upper, want[k])
		}
	}
}
