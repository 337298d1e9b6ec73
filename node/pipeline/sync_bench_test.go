package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
)

const syncOps = 200_000

// BenchmarkSyncMissed: A holds 200k ops of one channel (512-byte texts), B
// misses 100k of them — a contiguous block, or every other op — and catches
// up in one session it starts. rtt counts round trips, x-payload the sync
// protocol's bytes over the bytes of the ops B lacked, s the time until B
// has stored them all.
func BenchmarkSyncMissed(b *testing.B) {
	a := crdttest.NewAuthor(b, "bench", "sync")
	ops := a.Posts(b, syncOps, 512)
	b.ResetTimer()
	for _, gap := range []struct {
		name    string
		missing func(i int) bool
	}{
		{"contiguous", func(i int) bool { return i >= syncOps/4 && i < syncOps/4+syncOps/2 }},
		{"scattered", func(i int) bool { return i%2 == 1 }},
	} {
		b.Run(gap.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				A, B := newSyncPeer(b, a, nil), newSyncPeer(b, a, nil)
				ingestLocal(b, A.store, ops)
				var kept []crdt.Opened
				missingBytes := 0
				for i, o := range ops {
					if gap.missing(i) {
						missingBytes += len(o.Encoded())
					} else {
						kept = append(kept, o)
					}
				}
				ingestLocal(b, B.store, kept)
				B.connect(b, A)
				b.StartTimer()
				start := time.Now()
				res, err := B.sync.Run(context.Background(), A.host.ID(), testHandle, B.pipe.SyncLog(a.Channel), nil)
				if err != nil {
					b.Fatal(err)
				}
				secs := time.Since(start).Seconds()
				if res.Received != syncOps-len(kept) {
					b.Fatalf("received %d ops, want %d", res.Received, syncOps-len(kept))
				}
				b.ReportMetric(float64(res.RoundTrips), "rtt")
				b.ReportMetric(float64(res.BytesIn+res.BytesOut)/float64(missingBytes), "x-payload")
				b.ReportMetric(secs, "s")
			}
		})
	}
}

// BenchmarkSyncNoDiff: A and B hold the same 200k ops; a session costs
// rtt round trips and bytes in both directions together.
func BenchmarkSyncNoDiff(b *testing.B) {
	a := crdttest.NewAuthor(b, "bench", "sync")
	ops := a.Posts(b, syncOps, 100)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		A, B := newSyncPeer(b, a, nil), newSyncPeer(b, a, nil)
		ingestLocal(b, A.store, ops)
		ingestLocal(b, B.store, ops)
		B.connect(b, A)
		b.StartTimer()
		res, err := B.sync.Run(context.Background(), A.host.ID(), testHandle, B.pipe.SyncLog(a.Channel), nil)
		if err != nil {
			b.Fatal(err)
		}
		if res.Received != 0 || res.Sent != 0 {
			b.Fatalf("moved ops between equal replicas: %+v", res)
		}
		b.ReportMetric(float64(res.RoundTrips), "rtt")
		b.ReportMetric(float64(res.BytesIn+res.BytesOut), "bytes")
	}
}
