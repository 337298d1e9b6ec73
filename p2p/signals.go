package p2p

import (
	"context"
	"errors"
	"fmt"

	"github.com/ancore/ancore/crdt"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// signalBuffer is how many delivered signals a topic holds for its reader.
// Signals are worth nothing a few seconds late, so gossipsub may drop what
// does not fit.
const signalBuffer = 256

// SignalTopicName derives the topic of a community's presence and typing
// signals from its secret. It looks like every log topic — an observer
// cannot tell which topic carries signals — but a different domain keeps it
// apart from the log topic of the community's state.
func SignalTopicName(secret []byte, community crdt.ID) string {
	return topicName(secret, "ancore/signals/1\x00", community)
}

// SignalTopic is a joined signal topic of one community.
type SignalTopic struct {
	g         *Gossip
	community crdt.ID
	topic     *pubsub.Topic
	sub       *pubsub.Subscription
}

// JoinSignals subscribes to the signal topic of community. admit decides on
// each verified signal of the community before it is delivered or
// forwarded (the node's: "the author is a member"); like Admit it runs for
// every message and must be cheap.
func (g *Gossip) JoinSignals(secret []byte, community crdt.ID, admit func(crdt.Signal) Verdict) (*SignalTopic, error) {
	if admit == nil {
		return nil, fmt.Errorf("join signals of %s: no admit hook", community)
	}
	t, sub, err := g.join(SignalTopicName(secret, community), g.signalValidator(community, admit), signalBuffer)
	if err != nil {
		return nil, fmt.Errorf("join signals of %s: %w", community, err)
	}
	return &SignalTopic{g: g, community: community, topic: t, sub: sub}, nil
}

// signalValidator refuses, before anything is forwarded: signals that do
// not decode or verify or are no longer fresh, signals of another
// community, and signals whose author admit refuses. Own signals are
// checked too — signals are few and small — so Publish fails on what peers
// would penalize this node for.
func (g *Gossip) signalValidator(community crdt.ID, admit func(crdt.Signal) Verdict) pubsub.ValidatorEx {
	return func(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		s, err := g.verifier.DecodeSignal(m.Data, g.now())
		if err != nil || s.Community != community {
			return pubsub.ValidationReject
		}
		return validation(admit(s), m, s)
	}
}

// Publish sends a signal, encoded by crdt.Device.SignSignal, to the
// topic's peers. It fails if the signal would not pass the topic's
// validator.
func (t *SignalTopic) Publish(ctx context.Context, b []byte) error {
	if err := t.topic.Publish(ctx, b); err != nil {
		return fmt.Errorf("publish signal: %w", err)
	}
	return nil
}

// PublishSent publishes a signal like Publish and waits (until ctx ends)
// until it was handed to the transport for every peer on the topic: a node
// about to close its connections says goodbye so.
func (t *SignalTopic) PublishSent(ctx context.Context, b []byte) error {
	w := t.g.mesh.expectSent(b, t.topic.ListPeers())
	defer t.g.mesh.forget(w)
	if err := t.Publish(ctx, b); err != nil {
		return err
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish signal: not sent to every peer: %w", ctx.Err())
	}
}

// Next returns the next verified signal another peer sent on the topic.
func (t *SignalTopic) Next(ctx context.Context) (crdt.Signal, error) {
	for {
		m, err := t.sub.Next(ctx)
		if errors.Is(err, pubsub.ErrSubscriptionCancelled) {
			return crdt.Signal{}, ErrTopicClosed
		}
		if err != nil {
			return crdt.Signal{}, err
		}
		if m.ReceivedFrom == t.g.self {
			continue
		}
		s, ok := m.ValidatorData.(crdt.Signal)
		if !ok {
			return crdt.Signal{}, errors.New("gossip: message without a validated signal")
		}
		return s, nil
	}
}

// Close leaves the topic.
func (t *SignalTopic) Close() error {
	t.sub.Cancel()
	err := t.topic.Close()
	if uerr := t.g.ps.UnregisterTopicValidator(t.topic.String()); err == nil {
		err = uerr
	}
	return err
}
