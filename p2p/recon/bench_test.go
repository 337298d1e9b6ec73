package recon

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

const benchItems = 200_000

// BenchmarkReconcile reconciles 200k items against a peer that has all of
// them, some of them, or the other half; each iteration is one whole
// reconciliation, so run it with -benchtime 1x. "responder-lacks" has the
// complete side initiate, "initiator-lacks" the side that was away.
func BenchmarkReconcile(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	all := randomItems(rng, benchItems, 3)
	block := append(append([]Item(nil), all[:33_333]...), all[133_333:]...)
	var everyOther []Item
	for i := 0; i < benchItems; i += 2 {
		everyOther = append(everyOther, all[i])
	}
	full, withoutBlock, withoutHalf := NewSet(slices.Clone(all)), NewSet(slices.Clone(block)), NewSet(slices.Clone(everyOther))
	cases := []struct {
		name                 string
		initiator, responder *Set
		initItems, respItems []Item
	}{
		{"identical", full, full, all, all},
		{"contiguous/responder-lacks", full, withoutBlock, all, block},
		{"contiguous/initiator-lacks", withoutBlock, full, block, all},
		{"scattered/responder-lacks", full, withoutHalf, all, everyOther},
		{"scattered/initiator-lacks", withoutHalf, full, everyOther, all},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			missing := tc.initiator.Len() + tc.responder.Len() - 2*min(tc.initiator.Len(), tc.responder.Len())
			var out outcome
			for range b.N {
				var err error
				out, err = exchange(NewReconciler(tc.initiator), NewReconciler(tc.responder), 1000)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			checkOutcome(b, out, tc.initItems, tc.respItems)
			b.ReportMetric(float64(out.rounds), "rtt")
			b.ReportMetric(float64(out.bytes), "bytes")
			if missing > 0 {
				b.ReportMetric(float64(out.bytes)/float64(missing), "id-bytes-per-missing")
			}
		})
	}
}

// BenchmarkNewSet builds a set of 200k items, read in log order as a store
// would, or out of order.
func BenchmarkNewSet(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	sorted := randomItems(rng, benchItems, 3)
	unsorted := slices.Clone(sorted)
	rng.Shuffle(len(unsorted), func(i, j int) { unsorted[i], unsorted[j] = unsorted[j], unsorted[i] })
	for _, tc := range []struct {
		name  string
		items []Item
	}{{"sorted", sorted}, {"unsorted", unsorted}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				input := slices.Clone(tc.items)
				b.StartTimer()
				start := time.Now()
				NewSet(input)
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/set")
			}
		})
	}
}
