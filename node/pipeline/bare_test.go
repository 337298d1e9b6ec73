package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/testwait"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// bareNet is a plain gossipsub topic on the replicas' own routers: the
// baseline that the pipeline's gossip latency is compared with.
type bareNet struct {
	topics []*pubsub.Topic
	mu     sync.Mutex
	got    map[string][]time.Time
}

// probeWait is how long one probe may take to reach every peer before the
// next one is sent.
var probeWait = testwait.Poll{Timeout: 300 * time.Millisecond, Every: 10 * time.Millisecond}

func bareTopics(tb testing.TB, rs []*replica) *bareNet {
	tb.Helper()
	bn := &bareNet{got: map[string][]time.Time{}}
	for _, r := range rs {
		t, err := r.gossip.PubSub().Join("bench/bare")
		if err != nil {
			tb.Fatal(err)
		}
		sub, err := t.Subscribe()
		if err != nil {
			tb.Fatal(err)
		}
		self := r.host.ID()
		ctx, cancel := context.WithCancel(context.Background())
		tb.Cleanup(func() { cancel(); sub.Cancel(); t.Close() })
		go func() {
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					return
				}
				if m.ReceivedFrom == self {
					continue
				}
				now := time.Now()
				bn.mu.Lock()
				bn.got[string(m.Data)] = append(bn.got[string(m.Data)], now)
				bn.mu.Unlock()
			}
		}()
		bn.topics = append(bn.topics, t)
	}
	// The bare topic has no mesh until a heartbeat grafts one; probe until
	// a message reaches every peer.
	for probe := 0; ; probe++ {
		data := []byte{byte(probe), 'p', 'r', 'o', 'b', 'e'}
		if err := bn.topics[0].Publish(context.Background(), data); err != nil {
			tb.Fatal(err)
		}
		if probeWait.Until(func() bool { return bn.arrivedAll(data) }) {
			return bn
		}
		if probe == 100 {
			tb.Fatal("the bare topic never reached every peer")
		}
	}
}

func (bn *bareNet) arrivedAll(data []byte) bool {
	bn.mu.Lock()
	defer bn.mu.Unlock()
	return len(bn.got[string(data)]) == len(bn.topics)-1
}

// send publishes data from replica i and returns each receiver's latency.
func (bn *bareNet) send(tb testing.TB, i int, data []byte) []time.Duration {
	tb.Helper()
	start := time.Now()
	if err := bn.topics[i].Publish(context.Background(), data); err != nil {
		tb.Fatal(err)
	}
	wait.For(tb, "every peer to receive the bare message", func() bool { return bn.arrivedAll(data) })
	bn.mu.Lock()
	defer bn.mu.Unlock()
	var out []time.Duration
	for _, at := range bn.got[string(data)] {
		out = append(out, at.Sub(start))
	}
	return out
}
