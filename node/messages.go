package node

import (
	"context"
	"fmt"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
)

// Send posts a message to a channel. It is stored before Send returns;
// peers get it now if any is reachable, else by sync later.
func (n *Node) Send(ctx context.Context, channel crdt.ID, body crdt.Body) (*crdt.Op, error) {
	return n.authorMessage(ctx, channel, crdt.Draft{Kind: crdt.KindPost, Body: body})
}

// Edit replaces the text of this user's message msg; another's is
// ErrForbidden (every replica would ignore the edit).
func (n *Node) Edit(ctx context.Context, channel, msg crdt.ID, body crdt.Body) (*crdt.Op, error) {
	m, err := n.store.Message(channel, msg)
	if err != nil {
		return nil, err
	}
	if m.Author != n.Identity().User.ID() {
		return nil, fmt.Errorf("%w: only the author edits a message", ErrForbidden)
	}
	return n.authorMessage(ctx, channel, crdt.Draft{Kind: crdt.KindEdit, Target: msg, Body: body})
}

// Delete deletes message msg: this user's, or anyone's with
// manage-messages (else ErrForbidden: every replica would ignore it).
func (n *Node) Delete(ctx context.Context, channel, msg crdt.ID) (*crdt.Op, error) {
	m, err := n.store.Message(channel, msg)
	if err != nil {
		return nil, err
	}
	if self := n.Identity().User.ID(); m.Author != self {
		c := n.comms.ofLog(channel)
		if c == nil {
			return nil, ErrUnknownChannel
		}
		if member, perms, _ := n.comms.state(c).Standing(self); !member || !perms.Has(crdt.PermManageMessages) {
			return nil, fmt.Errorf("%w: deleting others' messages needs manage-messages", ErrForbidden)
		}
	}
	return n.authorMessage(ctx, channel, crdt.Draft{Kind: crdt.KindDelete, Target: msg})
}

// React adds (on) or removes this user's reaction emoji on msg.
func (n *Node) React(ctx context.Context, channel, msg crdt.ID, emoji string, on bool) (*crdt.Op, error) {
	k := crdt.KindReact
	if !on {
		k = crdt.KindUnreact
	}
	return n.authorMessage(ctx, channel, crdt.Draft{Kind: k, Target: msg, Body: crdt.Body{Emoji: emoji}})
}

// Message returns message id, in whichever channel it is; store.ErrNotFound
// when this node holds no such message or it was deleted.
func (n *Node) Message(id crdt.ID) (*crdt.Message, error) {
	raw, err := n.store.Op(id)
	if err != nil {
		return nil, err
	}
	op, err := crdt.DecodeStored(raw)
	if err != nil || op.Kind != crdt.KindPost {
		return nil, fmt.Errorf("%w: no message %s", store.ErrNotFound, id)
	}
	m, err := n.store.Message(op.Channel, id)
	if err != nil {
		return nil, err
	}
	if m.Deleted {
		return nil, fmt.Errorf("%w: message %s was deleted", store.ErrNotFound, id)
	}
	return m, nil
}

// Pending reports whether message m is still in the outbox: no peer has
// confirmed having it.
func (n *Node) Pending(m *crdt.Message) bool {
	pending, err := n.store.Pending(m.HLC, m.ID)
	return err == nil && pending
}

// Messages returns a page of a channel's messages.
func (n *Node) Messages(channel crdt.ID, p store.Page) ([]*crdt.Message, error) {
	return n.store.Messages(channel, p)
}

// authorMessage authors a channel op (author) under the community's
// current epoch, rotating it first when a removal calls for it.
func (n *Node) authorMessage(ctx context.Context, channel crdt.ID, dr crdt.Draft) (*crdt.Op, error) {
	c := n.comms.ofLog(channel)
	if c == nil || c.id == channel {
		return nil, ErrUnknownChannel
	}
	c.author.Lock()
	defer c.author.Unlock()
	// A removed member's node may not have heard of the rekey that
	// followed; it must not try one of its own.
	if m := n.comms.state(c).Members[n.Identity().User.ID()]; m == nil || m.State != crdt.Joined {
		return nil, fmt.Errorf("%w: not a member of this community", ErrForbidden)
	}
	if n.comms.state(c).NeedsRekey() {
		if err := n.rekey(ctx, c); err != nil {
			return nil, fmt.Errorf("rotate keys: %w", err)
		}
	}
	cur, ok := n.comms.state(c).Current()
	n.comms.mu.Lock()
	key := c.keys[cur.ID]
	n.comms.mu.Unlock()
	if !ok || key == nil {
		return nil, fmt.Errorf("%w: current epoch", crdt.ErrNoKey)
	}
	heads, err := n.store.Heads(channel)
	if err != nil {
		return nil, err
	}
	prev, err := n.lastOwn(c, channel)
	if err != nil {
		return nil, err
	}
	dr.Channel, dr.Parents, dr.Prev = channel, heads, prev
	op, err := n.author(ctx, c, dr, key, nil)
	if err != nil {
		return nil, err
	}
	n.comms.mu.Lock()
	if r := c.logs[channel]; r != nil {
		r.prev = op.ID
	}
	n.comms.mu.Unlock()
	return op, nil
}

// lastOwn returns this device's latest op in log: the Prev of its next.
// It is cached once found; the first lookup scans the log from its end.
func (n *Node) lastOwn(c *community, log crdt.ID) (crdt.ID, error) {
	n.comms.mu.Lock()
	r := c.logs[log]
	n.comms.mu.Unlock()
	if r != nil && !r.prev.IsZero() {
		return r.prev, nil
	}
	last, err := n.lastBy(log, func(op *crdt.Op) bool { return op.Author == n.Identity().Device.ID() })
	if err != nil || last == nil {
		return crdt.ID{}, err
	}
	return last.ID, nil
}

// lastBy scans log from its end for the latest op match accepts.
func (n *Node) lastBy(log crdt.ID, match func(*crdt.Op) bool) (*crdt.Op, error) {
	stamps, err := n.store.Stamps(log)
	if err != nil {
		return nil, err
	}
	const batch = 256
	for hi := len(stamps); hi > 0; hi -= batch {
		lo := max(0, hi-batch)
		ids := make([]crdt.ID, 0, hi-lo)
		for _, s := range stamps[lo:hi] {
			ids = append(ids, s.ID)
		}
		raws, err := n.store.Ops(ids)
		if err != nil {
			return nil, err
		}
		for i := len(raws) - 1; i >= 0; i-- {
			op, err := crdt.DecodeStored(raws[i])
			if err != nil {
				return nil, err
			}
			if match(op) {
				return op, nil
			}
		}
	}
	return nil, nil
}
