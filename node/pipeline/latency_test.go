package pipeline

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/node/store"
)

// BenchmarkGossipLatency sends 512-byte message ops one at a time from
// random publishers among 10 replicas on loopback TCP, through the whole
// pipeline — sign, encrypt, store, publish, validate, store, view update —
// and measures, per (message, receiver), the time from signing to the
// receiver's commit. It then sends the same bytes over bare gossipsub on
// the same hosts (no validation, no store) for x-bare-p99. cpu-ms and
// bare-cpu-ms are the process's CPU time (all ten replicas, user and
// system) per message on either path: on two cores, the work one message
// sets off bounds how soon its last receiver can be done.
func BenchmarkGossipLatency(b *testing.B) {
	const n, messages = 10, 200
	var mu sync.Mutex
	arrived := map[crdt.ID][]time.Time{}
	first := crdttest.NewAuthor(b, "bench", "latency")
	rs := replicas(b, n, first, func(_ int, es []store.Entry) {
		now := time.Now()
		mu.Lock()
		for _, e := range es {
			arrived[e.Op.ID] = append(arrived[e.Op.ID], now)
		}
		mu.Unlock()
	})
	bare := bareTopics(b, rs)
	b.ResetTimer()
	var ours, base []time.Duration
	var oursCPU, baseCPU time.Duration
	for range b.N {
		for i := range messages {
			r := rs[i%n]
			cpu, _ := cpuTime()
			start := time.Now()
			o := r.author.Post(b, crdttest.Text(i, 512))
			r.write(b, o)
			wait.For(b, "every replica to store the op", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(arrived[o.ID]) == n-1
			})
			now, _ := cpuTime()
			oursCPU += now - cpu
			mu.Lock()
			for _, at := range arrived[o.ID] {
				ours = append(ours, at.Sub(start))
			}
			mu.Unlock()
			// The same bytes would share the op's message ID and be dropped
			// as seen; one byte in front makes them a message of their own.
			cpu, _ = cpuTime()
			base = append(base, bare.send(b, i%n, append([]byte{0}, o.Encoded()...))...)
			now, _ = cpuTime()
			baseCPU += now - cpu
		}
	}
	b.StopTimer()
	p99 := percentile(ours, 99)
	b.ReportMetric(ms(percentile(ours, 50)), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(float64(p99)/float64(percentile(base, 99)), "x-bare-p99")
	b.ReportMetric(ms(percentile(base, 99)), "bare-p99-ms")
	if _, ok := cpuTime(); ok {
		sent := float64(b.N * messages)
		b.ReportMetric(ms(oursCPU)/sent, "cpu-ms")
		b.ReportMetric(ms(baseCPU)/sent, "bare-cpu-ms")
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
