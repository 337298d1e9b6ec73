package relayload

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/p2p/recon"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Each member's host gets small explicit resource limits: hundreds of them
// share one process, and all each needs is one connection to the relay.
const (
	memberMemory = 16 << 20
	memberFDs    = 32
)

// posted is an op a member published, and when.
type posted struct {
	op  *crdt.Op
	raw []byte
	at  time.Time // just before Publish
}

// ledger holds every op the members published; it is how a receiving
// member knows when an op was sent.
type ledger struct {
	mu   sync.Mutex
	ops  map[crdt.ID]*posted
	list []*posted
}

func newLedger() *ledger { return &ledger{ops: map[crdt.ID]*posted{}} }

// add records op as published now.
func (l *ledger) add(op *crdt.Op) *posted {
	p := &posted{op: op, raw: op.Encoded()}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops[op.ID] = p
	l.list = append(l.list, p)
	p.at = time.Now()
	return p
}

func (l *ledger) get(id crdt.ID) *posted {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops[id]
}

func (l *ledger) all() []*posted {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

// memberLog is a member's copy of the channel: the set of ops it holds,
// their bytes kept once in the ledger. It records, for each op another
// member sent, how long after publishing it arrived and by which path.
// Ops that arrive by sync are not verified again: the relay verified
// them, and the members' CPU is not what this run measures.
type memberLog struct {
	led *ledger

	mu       sync.Mutex
	held     map[crdt.ID]bool
	items    []recon.Item
	gossiped []time.Duration // delivered by gossip
	synced   []time.Duration // delivered by a sync session
	strays   int             // ops the ledger does not know
}

func newMemberLog(led *ledger) *memberLog { return &memberLog{led: led, held: map[crdt.ID]bool{}} }

// hold adds p; it reports whether p was new.
func (l *memberLog) hold(p *posted) bool {
	if l.held[p.op.ID] {
		return false
	}
	l.held[p.op.ID] = true
	l.items = append(l.items, recon.Item{HLC: p.op.HLC, ID: p.op.ID})
	return true
}

// own adds an op the member itself publishes.
func (l *memberLog) own(p *posted) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hold(p)
}

// Store implements p2p.ReplicaLog: ops gossip delivered.
func (l *memberLog) Store(_ context.Context, ops []*crdt.Op) error {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, op := range ops {
		p := l.led.get(op.ID)
		switch {
		case p == nil:
			l.strays++
		case l.hold(p):
			l.gossiped = append(l.gossiped, now.Sub(p.at))
		}
	}
	return nil
}

// Missing implements p2p.ReplicaLog: members cite only their own previous
// post, which they hold, so nothing is ever missing.
func (l *memberLog) Missing() (int, error) { return 0, nil }

// Items implements p2p.SyncLog.
func (l *memberLog) Items() ([]recon.Item, error) {
	l.mu.Lock()
	out := slices.Clone(l.items)
	l.mu.Unlock()
	slices.SortFunc(out, recon.Item.Compare)
	return out, nil
}

// Ops implements p2p.SyncLog.
func (l *memberLog) Ops(ids []crdt.ID) ([][]byte, error) {
	var out [][]byte
	for _, id := range ids {
		if p := l.led.get(id); p != nil {
			out = append(out, p.raw)
		}
	}
	return out, nil
}

// Ingest implements p2p.SyncLog: ops a sync session delivered.
func (l *memberLog) Ingest(_ context.Context, raws [][]byte) error {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, raw := range raws {
		id, ok := crdt.WireID(raw)
		if !ok {
			return fmt.Errorf("%w: not a full op", p2p.ErrSyncProtocol)
		}
		p := l.led.get(id)
		switch {
		case p == nil:
			l.strays++
		case l.hold(p):
			l.synced = append(l.synced, now.Sub(p.at))
		}
	}
	return nil
}

// deliveries returns what the log recorded so far.
func (l *memberLog) deliveries() (gossiped, synced []time.Duration, strays int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.gossiped), slices.Clone(l.synced), l.strays
}

// member is a simulated member: a real libp2p host that holds the
// channel's topic, serves its logs by sync and, like a node, reconciles
// the channel with its peers (p2p.Replica) — here the relay alone — and
// redials the relay when the connection drops (p2p.Dialer).
type member struct {
	author *crdttest.Author
	host   host.Host
	topic  *p2p.Topic
	log    *memberLog
	drops  *dropLog
	dialer *p2p.Dialer
}

// dropLog records when members lost their connection to the relay.
type dropLog struct {
	mu sync.Mutex
	at []time.Time
}

func (d *dropLog) add(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at = append(d.at, t)
}

func (d *dropLog) times() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.at)
}

// channelSetup is what every member shares.
type channelSetup struct {
	secret    []byte
	comm      *crdttest.Community
	state     *relaytest.Log // the community's state log, which members serve
	ledger    *ledger
	drops     *dropLog
	replicate bool // run a p2p.Replica, not only follow gossip
}

// startMember builds a member's host and joins the channel; it does not
// connect anywhere. Its goroutines end with ctx, and wg waits for them.
func startMember(ctx context.Context, wg *sync.WaitGroup, a *crdttest.Author, cs *channelSetup) (*member, error) {
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	// Members behind NAT listen nowhere: they dial the relay.
	h, err := p2p.NewHost(p2p.HostConfig{DeviceSeed: seed, Memory: memberMemory, FDs: memberFDs,
		Options: []libp2p.Option{libp2p.NoListenAddrs}})
	if err != nil {
		return nil, err
	}
	g, err := p2p.NewGossip(ctx, h, p2p.AdmitAll)
	if err != nil {
		h.Close()
		return nil, err
	}
	topic, err := g.Join(cs.secret, cs.comm.Channel)
	if err != nil {
		h.Close()
		return nil, err
	}
	m := &member{author: a, host: h, topic: topic, log: newMemberLog(cs.ledger), drops: cs.drops, dialer: p2p.NewDialer(h)}
	channel, state := p2p.TopicName(cs.secret, cs.comm.Channel), p2p.TopicName(cs.secret, cs.comm.ID)
	s := p2p.NewSync(h, func(_ peer.ID, handle string) (p2p.SyncLog, bool) {
		switch handle {
		case channel:
			return m.log, true
		case state:
			return cs.state, true
		}
		return nil, false
	})
	wg.Go(func() { m.dialer.Run(ctx) })
	wg.Go(func() {
		if cs.replicate {
			p2p.NewReplica(h, s, topic, m.log, channel).Run(ctx)
		} else {
			p2p.Follow(ctx, topic, m.log.Store)
		}
	})
	return m, nil
}

// connect dials the relay and waits until the member sees the relay on
// the channel's topic; from then on the member's dialer keeps it
// connected.
func (m *member) connect(ctx context.Context, relay peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.host.Connect(ctx, relay); err != nil {
		return err
	}
	m.host.Network().Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == relay.ID {
			m.drops.add(time.Now())
		}
	}})
	m.dialer.Add(relay)
	for !slices.Contains(m.topic.Peers(), relay.ID) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("relay not on the topic: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
