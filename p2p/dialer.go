package p2p

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
)

// Backoff bounds between redials of a known peer.
const (
	MinRedial = time.Second
	MaxRedial = 5 * time.Minute
)

// Dialer keeps a host connected to the peers it knows — bootstrap
// addresses, peers found on the LAN, and later peers learned from
// communities — redialing each with exponential backoff and jitter while it
// is unreachable.
type Dialer struct {
	host host.Host
	tick time.Duration

	mu    sync.Mutex
	known map[peer.ID]*redial
}

type redial struct {
	next    time.Time
	wait    time.Duration
	dialing bool
}

// NewDialer returns a dialer for h; Run drives it.
func NewDialer(h host.Host) *Dialer {
	return &Dialer{host: h, tick: MinRedial / 4, known: make(map[peer.ID]*redial)}
}

// Add remembers a peer and its addresses and dials it on the next tick.
func (d *Dialer) Add(pi peer.AddrInfo) {
	if pi.ID == d.host.ID() {
		return
	}
	d.host.Peerstore().AddAddrs(pi.ID, pi.Addrs, peerstore.PermanentAddrTTL)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.known[pi.ID] == nil {
		d.known[pi.ID] = &redial{wait: MinRedial}
	}
}

// Remove forgets a peer: it is no longer redialed.
func (d *Dialer) Remove(id peer.ID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.known, id)
}

// Run dials known, unconnected peers until ctx ends.
func (d *Dialer) Run(ctx context.Context) {
	t := time.NewTicker(d.tick)
	defer t.Stop()
	for {
		d.dialDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dialer) dialDue(ctx context.Context) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, r := range d.known {
		if r.dialing || now.Before(r.next) || d.host.Network().Connectedness(id) == network.Connected {
			continue
		}
		r.dialing = true
		go d.dial(ctx, id, r)
	}
}

func (d *Dialer) dial(ctx context.Context, id peer.ID, r *redial) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := d.host.Connect(dctx, peer.AddrInfo{ID: id})
	cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	r.dialing = false
	if err == nil {
		r.wait = MinRedial
		return
	}
	// Jitter keeps peers that lost the same node from redialing in step.
	r.next = time.Now().Add(r.wait/2 + rand.N(r.wait/2+1))
	r.wait = min(2*r.wait, MaxRedial)
}
