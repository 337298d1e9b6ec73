package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Replicating communities: each community's state log and channels have
// a replica (gossip and sync) while the node runs; what arrives is
// authorized against the community's state, stored, and — for state ops —
// rebuilds that state, which unlocks keys and starts replicas for new
// channels.

// refresh rebuilds c's state from its stored log, unlocks the keys it now
// can, opens what those keys open, and replicates new channels.
func (n *Node) refresh(ctx context.Context, c *community) error {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	ops, err := n.logOps(c.id)
	if err != nil {
		return err
	}
	state := crdt.BuildCommunity(c.id, ops)
	keys := crdt.Keyring{}
	n.comms.mu.Lock()
	for id, k := range c.keys {
		keys[id] = k
	}
	n.comms.mu.Unlock()
	secret := state.Unlock(n.Identity().User, keys)
	n.comms.mu.Lock()
	before := c.state
	c.state = state
	if c.topic == nil {
		c.topic = secret
	}
	fresh := crdt.Keyring{}
	for id, k := range keys {
		if c.keys[id] == nil {
			c.keys[id], fresh[id] = k, k
		}
	}
	n.comms.mergeKeys(c)
	for id, ch := range state.Channels {
		if !ch.Deleted {
			n.comms.byLog[id] = c
		}
	}
	n.comms.mu.Unlock()
	if len(fresh) > 0 {
		if err := n.saveCommunity(c); err != nil {
			return err
		}
		if err := n.reopen(ctx, fresh); err != nil {
			return err
		}
	}
	n.emitState(before, state)
	n.communityChanged(before, state)
	n.replicate(c)
	// What the new state allows may have been refused before: offer what
	// gossip brought again and fetch what sync brought.
	n.comms.mu.Lock()
	for log, r := range c.logs {
		if log != c.id {
			r.sync.SyncAll()
		}
	}
	n.comms.mu.Unlock()
	return nil
}

// logOps returns every op stored in log.
func (n *Node) logOps(log crdt.ID) ([]*crdt.Op, error) {
	stamps, err := n.store.Stamps(log)
	if err != nil {
		return nil, err
	}
	ids := make([]crdt.ID, len(stamps))
	for i, s := range stamps {
		ids[i] = s.ID
	}
	raws, err := n.store.Ops(ids)
	if err != nil {
		return nil, err
	}
	ops := make([]*crdt.Op, 0, len(raws))
	for _, raw := range raws {
		op, err := crdt.DecodeStored(raw)
		if err != nil {
			return nil, fmt.Errorf("stored op: %w", err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// reopen feeds the ops sealed under keys now held through the pipeline
// again, which applies them.
func (n *Node) reopen(ctx context.Context, keys crdt.Keyring) error {
	for id := range keys {
		ops, err := n.store.Sealed(id)
		if err != nil {
			return err
		}
		if len(ops) > 0 {
			if err := n.pipe.IngestVerified(ctx, ops); err != nil {
				return err
			}
		}
	}
	return nil
}

// replicate starts replicas for c's state log and live channels that have
// none, if the node runs and c's topic secret is known.
func (n *Node) replicate(c *community) {
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	if n.runCtx == nil || n.runCtx.Err() != nil || c.topic == nil {
		return
	}
	n.joinSignals(n.runCtx, c)
	logs := []crdt.ID{c.id}
	if c.state != nil {
		for id, ch := range c.state.Channels {
			if !ch.Deleted {
				logs = append(logs, id)
			} else if r := c.logs[id]; r != nil {
				r.cancel() // a deleted channel is no longer replicated
				delete(c.logs, id)
			}
		}
	}
	for _, log := range logs {
		if c.logs[log] != nil {
			continue
		}
		topic, err := n.gossip.Join(c.topic, log)
		if err != nil {
			n.log.Error("join topic", "log", log, "err", err)
			continue
		}
		handle := p2p.TopicName(c.topic, log)
		n.delivery.topics.Store(handle, c.id)
		ctx, cancel := context.WithCancel(n.runCtx)
		r := p2p.NewReplica(n.host, n.sync, topic, n.pipe.SyncLog(log), handle)
		r.Progress = func(p peer.ID, done, total int) { n.syncProgress(log, p, done, total) }
		r.Ignored = func(from peer.ID) { n.syncState(c, from) }
		r.Synced = n.synced(c, log)
		c.logs[log] = &replica{sync: r, topic: topic, cancel: cancel}
		n.comms.byLog[log] = c
		n.comms.handle[handle] = log
		n.replicas.Add(1)
		go func() {
			defer n.replicas.Done()
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("replica stopped", "log", log, "err", err)
			}
			topic.Close()
		}()
	}
}

// syncState asks for a sync of c's state log with p, which sent an op
// this node could not judge yet (p2p.Replica.Ignored). p accepted the op,
// so its state holds what is missing here: most often the author's
// admission. Storing the admission runs refresh before the store call
// returns, and refresh calls SyncAll on the channels only after the new
// state is in place, so the kept op is offered again — and the channels
// synced again — against the state that admits its author, never before.
func (n *Node) syncState(c *community, p peer.ID) {
	n.comms.mu.Lock()
	r := c.logs[c.id]
	n.comms.mu.Unlock()
	if r != nil {
		r.sync.SyncWith(p)
	}
}

// onStored reacts to a committed batch: state ops change their
// community's state. It runs in the goroutine that stored the batch, so
// whoever stores a state op sees its effect once the store call returns.
func (n *Node) onStored(entries []store.Entry) {
	n.emitStored(entries)
	n.learnDevices(entries)
	defer n.stored(entries) // after the refreshes below: features see the new state
	logs := map[crdt.ID]bool{}
	for _, e := range entries {
		if e.Op.Kind.IsState() {
			logs[e.Op.Community] = true
		}
	}
	ctx := context.Background()
	for log := range logs {
		if c := n.comms.get(log); c != nil {
			if err := n.refresh(ctx, c); err != nil {
				n.log.Error("community refresh", "community", log, "err", err)
			}
		}
	}
}

// authorize is the pipeline's and gossip's judgement of an op: state ops
// of a known community go to its state log (where the community view
// decides what they do); channel ops must pass the community's rules.
func (n *Node) authorize(op *crdt.Op) error {
	c := n.comms.get(op.Community)
	if c == nil {
		return fmt.Errorf("%w: %s", ErrUnknownCommunity, op.Community)
	}
	if op.Kind.IsState() {
		return nil
	}
	return n.comms.state(c).AuthorizeChannelOp(op, n.chain)
}

// admit is the gossip validators' membership check.
func (n *Node) admit(op *crdt.Op) p2p.Verdict {
	c := n.comms.get(op.Community)
	if c == nil {
		return p2p.Reject
	}
	if op.Kind.IsState() {
		// Members' state ops travel; the state view judges them. Others'
		// are not forwarded, but their author may just be newer than our
		// state: ignore rather than penalize.
		if m := n.comms.state(c).Members[op.User()]; m != nil && m.State == crdt.Joined {
			return p2p.Accept
		}
		return p2p.Ignore
	}
	err := n.authorize(op)
	switch {
	case err == nil:
		return p2p.Accept
	case errors.Is(err, crdt.ErrNotYet):
		return p2p.Ignore
	}
	return p2p.Reject
}

// chain walks a device's Prev chain in the store (crdt.WalkChain).
func (n *Node) chain(last, target crdt.ID) (bool, error) {
	return crdt.WalkChain(last, target, func(id crdt.ID) ([]byte, bool, error) {
		raw, err := n.store.Op(id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		return raw, err == nil, err
	})
}

// mayDelete is the stores' delete policy.
func (n *Node) mayDelete(del *crdt.Op, target *crdt.Message) bool {
	c := n.comms.get(del.Community)
	return c != nil && n.comms.state(c).MayDelete(del, target)
}
