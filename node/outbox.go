package node

import (
	"context"
	"time"

	"github.com/ancore/ancore/crdt"
)

// The outbox. A local op is stored (and so acknowledged) before anyone
// has it; it leaves the outbox once it was published to a topic with at
// least one subscribed peer. Until then the API shows its message as
// pending. Sync also carries it to every peer it reconciles with, so a
// node that crashed before publishing still delivers it after a restart.

const outboxInterval = 5 * time.Second

// publish sends a stored local op to its topic, if a peer listens there,
// and takes it out of the outbox.
func (n *Node) publish(ctx context.Context, c *community, op *crdt.Op) bool {
	n.comms.mu.Lock()
	r := c.logs[op.Log()]
	n.comms.mu.Unlock()
	if r == nil || len(r.topic.Peers()) == 0 {
		return false
	}
	if err := r.topic.Publish(ctx, op); err != nil {
		n.log.Warn("publish", "op", op.ID, "err", err)
		return false
	}
	if err := n.store.MarkSent(op); err != nil {
		n.log.Warn("outbox", "op", op.ID, "err", err)
		return false
	}
	n.sent(op)
	return true
}

// flushOutbox publishes what waits in the outbox, now and whenever a peer
// connects or outboxInterval passes, until ctx ends.
func (n *Node) flushOutbox(ctx context.Context, kick <-chan struct{}) {
	tick := time.NewTicker(outboxInterval)
	defer tick.Stop()
	for {
		ops, err := n.store.Outbox(1024)
		if err != nil {
			n.log.Warn("outbox", "err", err)
		}
		for _, op := range ops {
			if c := n.comms.get(op.Community); c != nil {
				n.publish(ctx, c, op)
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
