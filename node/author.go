package node

import (
	"context"

	"github.com/ancore/ancore/crdt"
)

// author is the one way an op leaves this device: it cites the latest
// crdt.MaxParents of dr's parents, takes an HLC above theirs and its
// previous own op's, signs dr (sealed under key, if not nil), lets check
// (if not nil) refuse the signed op before anything is stored, stores it
// (the outbox keeps it until a peer has it) and publishes it on the
// community's topic. c.author is held.
func (n *Node) author(ctx context.Context, c *community, dr crdt.Draft, key *crdt.EpochKey, check func(*crdt.Op) error) (*crdt.Op, error) {
	dr.Community = c.id
	if len(dr.Parents) > crdt.MaxParents {
		dr.Parents = dr.Parents[len(dr.Parents)-crdt.MaxParents:]
	}
	cited := dr.Parents
	if !dr.Prev.IsZero() {
		cited = append(cited[:len(cited):len(cited)], dr.Prev)
	}
	for _, p := range cited {
		if raw, err := n.store.Op(p); err == nil {
			if op, err := crdt.DecodeStored(raw); err == nil {
				n.clock.Observe(op.HLC)
			}
		}
	}
	dr.HLC = n.clock.Now()
	op, err := n.Identity().Device.Sign(dr, key)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(op); err != nil {
			return nil, err
		}
	}
	if err := n.pipe.IngestLocal(ctx, op); err != nil {
		return nil, err
	}
	n.publish(ctx, c, op)
	return op, nil
}
