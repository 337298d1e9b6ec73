package relay

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/relay/relaytest"
)

// BenchmarkRelayBacklog: a member comes back to a channel of 10,000 ops
// and fetches the 1,000 it missed from the relay in one sync session
// (connection, reconciliation and transfer) over loopback TCP. p99-ms is
// over the sessions of the run. It measures the fetch: the member's log
// keeps the bytes it receives, and verifying them (which a node does on
// every core as they arrive) is the member's work, not the relay's.
func BenchmarkRelayBacklog(b *testing.B) {
	const total, missed, sessions = 10_000, 1_000, 50
	r := startRelay(b)
	token := relaytest.Register(b, base(r), "owner@example.com")
	comm := crdttest.NewCommunity(b, 2)
	secret := []byte("a topic secret of 32 bytes......")
	if code := relaytest.Call(b, base(r), "POST", "/communities", token, relaytest.CarryRequest(comm, secret, comm.Members[0].User), nil); code != http.StatusCreated {
		b.Fatalf("carry: %d", code)
	}
	c := relaytest.NewClient(b)
	if _, err := syncWith(c, r, secret, comm.ID, relaytest.NewLog(comm.State...)); err != nil {
		b.Fatal(err)
	}
	posts := make([]*crdt.Op, total)
	for i, o := range comm.Members[1].Posts(b, total, 512) {
		posts[i] = o.Op
	}
	if _, err := syncWith(c, r, secret, comm.Channel, relaytest.NewLog(posts...)); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if n, err := r.store.Items(ctx, comm.Channel); err != nil || len(n) != total {
		b.Fatalf("relay holds %d ops (%v), want %d", len(n), err, total)
	}

	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		for range sessions {
			back := relaytest.NewClient(b)
			have := &fetchLog{Log: relaytest.NewLog(posts[:total-missed]...)}
			start := time.Now()
			res, err := syncWith(back, r, secret, comm.Channel, have)
			took = append(took, time.Since(start))
			if err != nil || res.Received != missed || have.fetched != missed {
				b.Fatalf("session received %d ops (%v), want %d", res.Received, err, missed)
			}
			back.Host.Close()
		}
	}
	b.StopTimer()
	slices.Sort(took)
	ms := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// fetchLog is a member's log that counts what it fetches.
type fetchLog struct {
	*relaytest.Log
	fetched int
}

func (l *fetchLog) Ingest(_ context.Context, raws [][]byte) error {
	l.fetched += len(raws)
	return nil
}
