package p2p

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// SyncInterval is how often a replicated log is reconciled with each peer
// on its topic even when nothing suggests it fell behind.
var SyncInterval = time.Minute

// Replica keeps one log in step with the network: it follows the log's
// gossip topic, and reconciles the log by sync with every peer that
// connects (so a reconnect or a healed partition catches up), with every
// topic peer each SyncInterval, with the topic's peers whenever stored ops
// name parents that are not stored, and with its other topic peers after a
// session brought it ops: what was new here may be new to them too, and
// gossip does not carry old ops, so news of a healed partition spreads
// this way, a hop per session.
type Replica struct {
	host   host.Host
	sync   *Sync
	topic  *Topic
	log    ReplicaLog
	handle string

	mu      sync.Mutex
	pending []peer.ID        // peers to sync with, in the order asked
	queued  map[peer.ID]bool // the peers in pending
	due     chan struct{}    // holds a token while pending is not empty

	// Progress, if set before Run, hears of each session's op transfer.
	Progress func(p peer.ID, done, total int)
}

// ReplicaLog is a log as a Replica keeps it: the node's store and ingest
// pipeline, or the relay's database.
type ReplicaLog interface {
	SyncLog
	// Store keeps ops the topic delivered, which its validator passed.
	Store(ctx context.Context, ops []*crdt.Op) error
	// Missing counts the parents that held ops name but the log lacks.
	Missing() (int, error)
}

// NewReplica returns a replica of log, which sync peers know as handle (its
// topic name), fed from topic and by sessions of s on h.
func NewReplica(h host.Host, s *Sync, topic *Topic, log ReplicaLog, handle string) *Replica {
	return &Replica{host: h, sync: s, topic: topic, log: log, handle: handle, queued: map[peer.ID]bool{}, due: make(chan struct{}, 1)}
}

// ask queues a sync with p, unless one is queued already. The queue has
// no bound but the number of peers: a relay's minute tick asks hundreds.
func (r *Replica) ask(p peer.ID) {
	r.mu.Lock()
	if !r.queued[p] {
		r.queued[p] = true
		r.pending = append(r.pending, p)
	}
	r.mu.Unlock()
	r.signal()
}

func (r *Replica) signal() {
	select {
	case r.due <- struct{}{}:
	default:
	}
}

// next takes the first queued peer; more reports whether others wait.
func (r *Replica) next() (p peer.ID, ok, more bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return "", false, false
	}
	p, r.pending = r.pending[0], r.pending[1:]
	delete(r.queued, p)
	return p, true, len(r.pending) > 0
}

// Run replicates until ctx ends.
func (r *Replica) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	notify := &network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) { r.ask(c.RemotePeer()) }}
	r.host.Network().Notify(notify)
	defer r.host.Network().StopNotify(notify)
	for _, p := range r.host.Network().Peers() {
		r.ask(p)
	}

	followed := make(chan error, 1)
	go func() { followed <- Follow(ctx, r.topic, r.log.Store) }()
	tick := time.NewTicker(SyncInterval)
	defer tick.Stop()
	check := time.NewTicker(time.Second)
	defer check.Stop()
	lastMissing := 0
	for {
		select {
		case <-ctx.Done():
			return <-followed
		case err := <-followed:
			return err
		case <-tick.C:
			for _, p := range r.topic.Peers() {
				r.ask(p)
			}
		case <-check.C:
			// Ops whose parents are missing came from peers that have
			// the parents: fetch them, once per change of what is missing
			// (parents nobody has are left to the periodic sync).
			missing, err := r.log.Missing()
			if err == nil && missing > 0 && missing != lastMissing {
				for _, p := range r.topic.Peers() {
					r.ask(p)
				}
			}
			lastMissing = missing
		case <-r.due:
			// One session per turn of the loop, so that the topic and the
			// tickers are served between sessions.
			if p, ok, more := r.next(); ok {
				if more {
					r.signal()
				}
				r.syncWith(ctx, p)
			}
		}
	}
}

func (r *Replica) syncWith(ctx context.Context, p peer.ID) {
	var progress Progress
	if r.Progress != nil {
		progress = func(done, total int) { r.Progress(p, done, total) }
	}
	// A failure is retried by the next trigger; Sync has disconnected a
	// faulty peer already, and a peer without the log refuses.
	res, err := r.sync.Run(ctx, p, r.handle, r.log, progress)
	if err == nil && res.Received > 0 {
		r.Learned(p)
	}
}

// SyncAll asks for a sync with every connected peer: after something
// changed what this node accepts (a new member's ops were refused until
// its admission arrived), so that what was refused comes again.
func (r *Replica) SyncAll() {
	for _, p := range r.host.Network().Peers() {
		r.ask(p)
	}
}

// Learned tells the replica that a sync session with p brought it ops —
// call it for sessions this node served, too (Sync.OnServed) — so that
// it offers them to its other topic peers.
func (r *Replica) Learned(p peer.ID) {
	for _, q := range r.topic.Peers() {
		if q != p {
			r.ask(q)
		}
	}
}

// followBatch bounds how many gossiped ops go into one Store call.
const followBatch = 1000

// Follow hands the ops topic delivers to store until ctx ends or the topic
// closes. A reader takes ops off the topic while the previous batch is
// stored, so a busy topic costs one commit per batch, not per op.
func Follow(ctx context.Context, topic *Topic, store func(context.Context, []*crdt.Op) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the reader if storing fails
	ops := make(chan *crdt.Op, followBatch)
	readErr := make(chan error, 1)
	go func() {
		defer close(ops)
		for {
			op, _, err := topic.Next(ctx)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case ops <- op:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
		}
	}()
	for op := range ops {
		batch := []*crdt.Op{op}
	drain:
		for len(batch) < followBatch {
			select {
			case more, ok := <-ops:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		if err := store(ctx, batch); err != nil {
			return err
		}
	}
	if err := <-readErr; !errors.Is(err, context.Canceled) && !errors.Is(err, ErrTopicClosed) {
		return err
	}
	return nil
}
