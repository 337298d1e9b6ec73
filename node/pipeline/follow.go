package pipeline

import (
	"context"
	"errors"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
)

// followBatch bounds how many gossiped ops go into one store call.
const followBatch = 1000

// Follow stores the ops a gossip topic delivers until ctx ends or the
// topic closes. A reader takes ops off the topic while the previous batch
// commits, so a busy topic costs one commit per batch, not per op.
func (p *Pipeline) Follow(ctx context.Context, topic *p2p.Topic) error {
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
		if err := p.IngestVerified(ctx, batch); err != nil {
			return err
		}
	}
	if err := <-readErr; !errors.Is(err, context.Canceled) && !errors.Is(err, p2p.ErrTopicClosed) {
		return err
	}
	return nil
}
