package relay

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/p2p/recon"
	"github.com/ancore/ancore/relay/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// carried is a community the relay carries: its state, rebuilt from the
// stored state log whenever state ops arrive, and one replica per log (the
// state log and each live channel).
type carried struct {
	id     crdt.ID
	secret []byte

	mu    sync.Mutex
	state *crdt.Community
	logs  map[crdt.ID]*relayLog
}

func (c *carried) current() *crdt.Community {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// relayLog is one replicated log of a carried community: the sync
// protocol's and the replica's view of the ops table.
type relayLog struct {
	r      *Relay
	c      *carried
	log    crdt.ID
	handle string
	rep    *p2p.Replica
	cancel context.CancelFunc

	// items caches the log's (HLC, ID) set, which every sync session
	// starts from: loaded from the database once, kept up to date by
	// Store (40 bytes per op). nil means not loaded.
	mu    sync.Mutex
	items []recon.Item
}

// carryAll starts carrying every community in the database.
func (r *Relay) carryAll(ctx context.Context) error {
	comms, err := r.store.Communities(ctx)
	if err != nil {
		return fmt.Errorf("load communities: %w", err)
	}
	for _, sc := range comms {
		if err := r.carry(ctx, sc.ID, sc.TopicSecret); err != nil {
			return err
		}
	}
	return nil
}

// carry starts (or refreshes) carrying community id.
func (r *Relay) carry(ctx context.Context, id crdt.ID, secret []byte) error {
	r.mu.Lock()
	c := r.carried[id]
	if c == nil {
		c = &carried{id: id, secret: secret, logs: map[crdt.ID]*relayLog{}}
		r.carried[id] = c
	}
	r.mu.Unlock()
	return r.refresh(ctx, c)
}

// uncarry stops carrying community id.
func (r *Relay) uncarry(id crdt.ID) {
	r.mu.Lock()
	c := r.carried[id]
	delete(r.carried, id)
	r.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, l := range c.logs {
		r.stopLog(l)
		delete(c.logs, id)
	}
}

// refresh rebuilds c's state from the stored state log and brings its
// replicas in line: one for the state log and one per live channel.
func (r *Relay) refresh(ctx context.Context, c *carried) error {
	raws, err := r.store.LogOps(ctx, c.id)
	if err != nil {
		return fmt.Errorf("community %s: %w", c.id, err)
	}
	ops := make([]*crdt.Op, 0, len(raws))
	for _, raw := range raws {
		op, err := crdt.DecodeStored(raw)
		if err != nil {
			return fmt.Errorf("community %s: stored op: %w", c.id, err)
		}
		ops = append(ops, op)
	}
	state := crdt.BuildCommunity(c.id, ops)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = state
	live := map[crdt.ID]bool{c.id: true}
	if !state.Dissolved {
		for id, ch := range state.Channels {
			if !ch.Deleted {
				live[id] = true
			}
		}
	}
	for id, l := range c.logs {
		if !live[id] {
			r.stopLog(l)
			delete(c.logs, id)
		}
	}
	for id := range live {
		if c.logs[id] == nil {
			l, err := r.startLog(c, id)
			if err != nil {
				return err
			}
			c.logs[id] = l
		}
	}
	return nil
}

// startLog joins a log's topic and replicates it; it runs under c.mu.
func (r *Relay) startLog(c *carried, log crdt.ID) (*relayLog, error) {
	r.mu.Lock()
	runCtx := r.runCtx
	r.mu.Unlock()
	if runCtx == nil || runCtx.Err() != nil {
		return nil, errors.New("relay not running")
	}
	topic, err := r.gossip.Join(c.secret, log)
	if err != nil {
		return nil, fmt.Errorf("join topic of %s: %w", log, err)
	}
	l := &relayLog{r: r, c: c, log: log, handle: p2p.TopicName(c.secret, log)}
	l.rep = p2p.NewReplica(r.host, r.sync, topic, l, l.handle)
	ctx, cancel := context.WithCancel(runCtx)
	l.cancel = cancel
	r.mu.Lock()
	r.handles[l.handle] = l
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := l.rep.Run(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("replica stopped", "log", log, "err", err)
		}
		topic.Close()
	}()
	return l, nil
}

func (r *Relay) stopLog(l *relayLog) {
	r.mu.Lock()
	delete(r.handles, l.handle)
	r.mu.Unlock()
	l.cancel()
}

// stopAll stops every replica (at shutdown).
func (r *Relay) stopAll() {
	r.mu.Lock()
	ids := make([]crdt.ID, 0, len(r.carried))
	for id := range r.carried {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		r.uncarry(id)
	}
}

// syncLogs serves the logs the relay carries to peers that name their
// handle, which only holders of the topic secret can compute.
func (r *Relay) syncLogs(_ peer.ID, handle string) (p2p.SyncLog, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.handles[handle]
	return l, ok
}

// served offers what a served session brought to the log's other peers.
func (r *Relay) served(p peer.ID, handle string, received int) {
	r.mu.Lock()
	l := r.handles[handle]
	r.mu.Unlock()
	if l != nil && received > 0 {
		l.rep.Learned(p)
	}
}

// carriedOf returns the carried community of op, if any.
func (r *Relay) carriedOf(op *crdt.Op) *carried {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.carried[op.Community]
}

// admit is the gossip validators' membership check, as on a node: members'
// state ops travel (the state view judges them); channel ops must pass the
// community's rules.
func (r *Relay) admit(op *crdt.Op) p2p.Verdict {
	c := r.carriedOf(op)
	if c == nil {
		return p2p.Reject
	}
	if op.Kind.IsState() {
		if m := c.current().Members[op.User()]; m != nil && m.State == crdt.Joined {
			return p2p.Accept
		}
		return p2p.Ignore
	}
	err := r.authorize(c, op)
	switch {
	case err == nil:
		return p2p.Accept
	case errors.Is(err, crdt.ErrNotYet):
		return p2p.Ignore
	}
	r.metrics.refused.Inc()
	return p2p.Reject
}

// authorize judges an op before it is stored: state ops of a carried
// community are kept (the state view decides what they do, as on every
// node); channel ops must pass the community's rules.
func (r *Relay) authorize(c *carried, op *crdt.Op) error {
	if op.Community != c.id {
		return fmt.Errorf("op of community %s", op.Community)
	}
	if op.Kind.IsState() {
		return nil
	}
	return c.current().AuthorizeChannelOp(op, r.chain)
}

// chain walks a device's Prev chain in the database (crdt.WalkChain).
func (r *Relay) chain(last, target crdt.ID) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return crdt.WalkChain(last, target, func(id crdt.ID) ([]byte, bool, error) {
		raw, err := r.store.Op(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		return raw, err == nil, err
	})
}

// mayPurge is the relay's delete policy: authors delete their own
// messages, moderators anyone's.
func (c *carried) mayPurge(del, target *crdt.Op) bool {
	return del.User() == target.User() || c.current().MayDelete(del, nil)
}

// Items implements p2p.SyncLog.
func (l *relayLog) Items() ([]recon.Item, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.items == nil {
		items, err := l.r.store.Items(context.Background(), l.log)
		if err != nil {
			return nil, err
		}
		l.items = append(make([]recon.Item, 0, len(items)), items...)
	}
	return slices.Clone(l.items), nil
}

// remember adds stored ops to the cached set, if it is loaded.
func (l *relayLog) remember(ops []*crdt.Op) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.items == nil {
		return
	}
	for _, op := range ops {
		it := recon.Item{HLC: op.HLC, ID: op.ID}
		if i, found := slices.BinarySearchFunc(l.items, it, recon.Item.Compare); !found {
			l.items = slices.Insert(l.items, i, it)
		}
	}
}

// forget drops the cached set, after retention removed ops.
func (l *relayLog) forget() {
	l.mu.Lock()
	l.items = nil
	l.mu.Unlock()
}

// Ops implements p2p.SyncLog.
func (l *relayLog) Ops(ids []crdt.ID) ([][]byte, error) {
	return l.r.store.Ops(context.Background(), ids)
}

// Ingest verifies and stores what a sync peer sent. Ops that do not verify
// or belong to another log make the session a protocol violation; ops the
// community's rules refuse are dropped (a later sync offers them again if
// only this relay's view was behind).
func (l *relayLog) Ingest(ctx context.Context, raws [][]byte) error {
	now := time.Now()
	ops := make([]*crdt.Op, len(raws))
	errs := make([]error, len(raws))
	// Signature checks dominate ingest: spread them over the cores.
	var wg sync.WaitGroup
	workers := min(runtime.NumCPU(), len(raws))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raws); i += workers {
				op, err := l.r.verifier.Decode(raws[i], now)
				if err == nil && (op.Log() != l.log || op.Community != l.c.id) {
					err = fmt.Errorf("op %s is not in log %s", op.ID, l.log)
				}
				ops[i], errs[i] = op, err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", p2p.ErrSyncProtocol, err)
	}
	return l.Store(ctx, ops)
}

// Store keeps verified ops that the community's rules allow; it returns
// once they are committed.
func (l *relayLog) Store(ctx context.Context, ops []*crdt.Op) error {
	kept := ops[:0:0]
	for _, op := range ops {
		if err := l.r.authorize(l.c, op); err == nil {
			kept = append(kept, op)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	n, err := l.r.store.PutOps(ctx, kept, l.c.mayPurge)
	if err != nil {
		return err
	}
	l.remember(kept)
	l.r.metrics.stored.Add(float64(n))
	if l.log == l.c.id && n > 0 {
		return l.r.refresh(ctx, l.c)
	}
	return nil
}

// Missing implements p2p.ReplicaLog. The relay stores what members send
// whether or not its parents are here, and its replicas reconcile with
// every peer on connect and every SyncInterval, so it asks for no early
// fetch.
func (l *relayLog) Missing() (int, error) { return 0, nil }
