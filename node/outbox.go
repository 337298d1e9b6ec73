package node

import (
	"context"
	"time"

	"github.com/ancore/ancore/crdt"
)

// The outbox. A local op is stored (and so acknowledged to the API)
// before anyone has it; it leaves the outbox once a member's node or the
// community's relay has it (delivery.go). Until then the API shows its
// message as pending. Gossip carries it at once; sync sessions carry and
// acknowledge it, also after a restart when it was never published.

const (
	outboxInterval = 5 * time.Second
	outboxBatch    = 1024 // pending ops looked at per round
)

// publish sends a stored local op to its topic and asks for the syncs that
// acknowledge it.
func (n *Node) publish(ctx context.Context, c *community, op *crdt.Op) {
	n.comms.mu.Lock()
	r := c.logs[op.Log()]
	n.comms.mu.Unlock()
	if r == nil {
		return
	}
	if len(r.topic.Peers()) > 0 {
		if err := r.topic.Publish(ctx, op); err != nil {
			n.log.Warn("publish", "op", op.ID, "err", err)
		}
	}
	n.askAcks(c, r)
}

// flushOutbox asks for acknowledgements of what waits in the outbox now
// and whenever a peer connects or outboxInterval passes, until ctx ends.
func (n *Node) flushOutbox(ctx context.Context, kick <-chan struct{}) {
	tick := time.NewTicker(outboxInterval)
	defer tick.Stop()
	for {
		ops, err := n.store.Outbox(outboxBatch)
		if err != nil {
			n.log.Warn("outbox", "err", err)
		}
		asked := map[crdt.ID]bool{}
		for _, op := range ops {
			c := n.comms.get(op.Community)
			if c == nil || asked[op.Log()] {
				continue
			}
			asked[op.Log()] = true
			n.comms.mu.Lock()
			r := c.logs[op.Log()]
			n.comms.mu.Unlock()
			if r != nil {
				n.askAcks(c, r)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-kick:
		}
	}
}
