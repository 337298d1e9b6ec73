package p2p

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p/recon"
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
//
// An op the topic's validator ignored (Admit could not judge it yet: its
// author's admission has not arrived) waits here for up to a
// SyncInterval. It is offered to the log at once and again at every
// SyncAll — the call that says what the log accepts has changed — so it
// is stored as soon as the log takes it, even when the peer that sent it
// has not stored it yet. Ignored hears of the sender, which accepted the
// op and so holds what this node lacks: the node syncs the community's
// state log with it, and storing the admission calls SyncAll.
type Replica struct {
	host   host.Host
	sync   *Sync
	topic  *Topic
	log    ReplicaLog
	handle string

	mu      sync.Mutex
	pending []peer.ID        // peers to sync with, in the order asked
	queued  map[peer.ID]bool // the peers in pending
	offer   bool             // SyncAll asked to offer the waiting ops again
	due     chan struct{}    // holds a token while pending is not empty or offer is set

	waiting      []waitingOp // ignored ops, oldest first; Run's alone
	waitingBytes int

	// Progress, if set before Run, hears of each session's op transfer.
	Progress func(p peer.ID, done, total int)
	// Ignored, if set before Run, hears of each peer that sent an op the
	// topic's validator ignored. It runs in Run's goroutine and must not
	// block: it asks for syncs.
	Ignored func(from peer.ID)
	// Synced, if set before Run, hears of each peer a session with
	// succeeded: it knows the log's handle, so it holds the topic secret
	// (a member, or a relay that carries the community), and it now holds
	// every op in held (what this node held when the session began). It
	// runs in Run's goroutine, before the next session.
	Synced func(p peer.ID, held *recon.Set)
}

// waitingOp is an ignored op and when it stops waiting.
type waitingOp struct {
	op    *crdt.Op
	until time.Time
}

// maxWaitingBytes bounds the ignored ops a replica keeps; the oldest go
// first. An op dropped here still comes with the syncs SyncAll asks for,
// once a peer has stored it. A new member's burst before its admission is
// rarely bigger, and a peer flooding the topic with unknown authors' ops
// cannot make a replica hold more.
const maxWaitingBytes = 1 << 20

// ReplicaLog is a log as a Replica keeps it: the node's store and ingest
// pipeline, or the relay's database.
type ReplicaLog interface {
	SyncLog
	// Store keeps ops the topic delivered, which its validator passed, and
	// ops the validator ignored, offered again (see Replica): those are
	// verified but not admitted, so Store judges every op and drops what
	// it refuses.
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

// SyncWith asks for a sync with p.
func (r *Replica) SyncWith(p peer.ID) { r.ask(p) }

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

// takeOffer reports whether SyncAll asked to offer the waiting ops, and
// clears the request.
func (r *Replica) takeOffer() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.offer
	r.offer = false
	return o
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
		case ig := <-r.topic.ignored:
			r.wait(ctx, ig)
		case <-r.due:
			// Waiting ops first: SyncAll asks for them after the state
			// changed, and a sync need not fetch what is here already.
			if r.takeOffer() {
				r.offerWaiting(ctx)
			}
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
	if err != nil {
		return
	}
	if r.Synced != nil {
		r.Synced(p, res.Held)
	}
	if res.Received > 0 {
		r.Learned(p)
	}
}

// SyncAll offers the ops the topic ignored to the log again and asks for
// a sync with every connected peer: after something changed what this
// node accepts (a new member's ops were refused until its admission
// arrived), so that what was refused comes again. Call it after the
// change has taken effect: an op ignored before the call is offered after
// it.
func (r *Replica) SyncAll() {
	r.mu.Lock()
	r.offer = true
	r.mu.Unlock()
	r.signal()
	for _, p := range r.host.Network().Peers() {
		r.ask(p)
	}
}

// wait keeps an op the topic ignored, offers it to the log at once — what
// it lacked may have arrived since the validator ran, and then no SyncAll
// follows — and tells Ignored of its sender.
func (r *Replica) wait(ctx context.Context, ig ignoredOp) {
	r.waiting = append(r.waiting, waitingOp{op: ig.op, until: time.Now().Add(SyncInterval)})
	r.waitingBytes += len(ig.op.Encoded())
	for r.waitingBytes > maxWaitingBytes {
		r.waitingBytes -= len(r.waiting[0].op.Encoded())
		r.waiting[0] = waitingOp{}
		r.waiting = r.waiting[1:]
	}
	r.storeAbsent(ctx, []*crdt.Op{ig.op})
	if r.Ignored != nil {
		r.Ignored(ig.from)
	}
}

// offerWaiting offers the waiting ops to the log again. Those the log
// holds and those that waited a SyncInterval (the periodic sync has come
// since) stop waiting; the log drops those it still refuses, and they
// wait on.
func (r *Replica) offerWaiting(ctx context.Context) {
	now := time.Now()
	var live []*crdt.Op
	for _, w := range r.waiting {
		if !now.After(w.until) {
			live = append(live, w.op)
		}
	}
	absent := r.storeAbsent(ctx, live)
	kept := r.waiting[:0]
	r.waitingBytes = 0
	for _, w := range r.waiting {
		if absent[w.op.ID] && !now.After(w.until) {
			kept = append(kept, w)
			r.waitingBytes += len(w.op.Encoded())
		}
	}
	clear(r.waiting[len(kept):])
	r.waiting = kept
}

// storeAbsent stores the ops the log does not hold — storing one again
// would report it again — and returns them.
func (r *Replica) storeAbsent(ctx context.Context, ops []*crdt.Op) map[crdt.ID]bool {
	absent := make(map[crdt.ID]bool, len(ops))
	if len(ops) == 0 {
		return absent
	}
	ids := make([]crdt.ID, len(ops))
	for i, op := range ops {
		ids[i], absent[op.ID] = op.ID, true
	}
	held, err := r.log.Ops(ids)
	if err != nil {
		return absent // offered again next time
	}
	for _, raw := range held {
		if op, err := crdt.DecodeStored(raw); err == nil {
			delete(absent, op.ID)
		}
	}
	store := ops[:0:0]
	for _, op := range ops {
		if absent[op.ID] {
			store = append(store, op)
		}
	}
	if len(store) > 0 {
		// The log drops what it still refuses; a failure to store leaves
		// the ops waiting too.
		_ = r.log.Store(ctx, store)
	}
	return absent
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
