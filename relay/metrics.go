package relay

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the relay's own Prometheus series; accounts and invite codes
// register theirs beside them.
type metrics struct {
	stored  prometheus.Counter
	refused prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, r *Relay) *metrics {
	m := &metrics{
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ancore_relay_ops_stored_total", Help: "Ops stored (new ones; duplicates are not counted).",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ancore_relay_ops_refused_total", Help: "Gossiped ops refused by the community rules.",
		}),
	}
	reg.MustRegister(m.stored, m.refused,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ancore_relay_peers", Help: "Connected libp2p peers.",
		}, func() float64 { return float64(len(r.host.Network().Peers())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ancore_relay_communities", Help: "Communities carried.",
		}, func() float64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return float64(len(r.carried))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ancore_relay_turn_allocations", Help: "Live TURN allocations (media relayed for members behind NAT).",
		}, func() float64 {
			if r.turn == nil {
				return 0
			}
			return float64(r.turn.Allocations())
		}),
	)
	return m
}
