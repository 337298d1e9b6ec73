package p2p

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// subscriptionBuffer is how many delivered ops a topic holds for its
// reader: about a second of a busy channel.
const subscriptionBuffer = 4096

// ignoredBuffer is how many ops a topic's validator ignored a topic holds
// for its Replica. What does not fit is dropped: it comes again with a
// sync after the state changes, only later.
const ignoredBuffer = 256

// ErrTopicClosed: the topic was closed while waiting for an op.
var ErrTopicClosed = errors.New("topic closed")

// Verdict is a membership decision on an op's author.
type Verdict int

const (
	// Accept: the author may write to the op's log.
	Accept Verdict = iota
	// Ignore: not known yet (the admission may still be on its way); the op
	// is not forwarded, but the peer that sent it is not penalized, and the
	// log's Replica keeps the op to offer it again (see Replica).
	Ignore
	// Reject: the author may not write here; the sender is penalized.
	Reject
)

// validation is gossipsub's result for verdict v on message m, which
// decoded to data: accepted messages carry it to their reader.
func validation(v Verdict, m *pubsub.Message, data any) pubsub.ValidationResult {
	switch v {
	case Accept:
		m.ValidatorData = data
		return pubsub.ValidationAccept
	case Ignore:
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationReject
}

// Admit decides whether an op's author may write to its log. The
// communities layer supplies the real check; it must be cheap, since it
// runs for every gossiped op before forwarding.
type Admit func(op *crdt.Op) Verdict

// AdmitAll accepts every author: for tests and tools without communities.
func AdmitAll(*crdt.Op) Verdict { return Accept }

// Gossip joins gossipsub topics for logs and validates what they carry.
type Gossip struct {
	self     peer.ID
	ps       *pubsub.PubSub
	verifier *crdt.Verifier
	admit    Admit
	now      func() time.Time

	mesh   *meshTracer
	mu     sync.Mutex
	scores map[peer.ID]float64
	rounds int // scoring rounds seen
}

// NewGossip starts gossipsub on h. Messages carry no pubsub signature or
// author (ops are signed themselves); the message ID is the op's ID. Own
// ops are flood-published to every topic peer, not only the mesh: a
// message sent before the first heartbeat grafts a mesh would otherwise
// reach nobody, and chat traffic is light enough to afford it.
func NewGossip(ctx context.Context, h host.Host, admit Admit, opts ...GossipOption) (*Gossip, error) {
	g := &Gossip{self: h.ID(), verifier: crdt.NewVerifier(), admit: admit, now: time.Now, mesh: newMeshTracer()}
	var cfg gossipConfig
	for _, o := range opts {
		o(&cfg)
	}
	params := pubsub.DefaultGossipSubParams()
	if cfg.hub {
		// Keep every peer that grafts in the mesh: members of a star
		// forward nothing to each other, and outside the mesh they would
		// learn of a message only by IHAVE at a heartbeat (≈ 58% of them
		// within 3 s for 200 members, the rest at the next sync; see
		// docs/benchmarks.md, "Relay load run").
		params.Dhi = hubMeshLimit
	}
	popts := []pubsub.Option{
		pubsub.WithGossipSubParams(params),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerScore(peerScoreParams(), peerScoreThresholds()),
		pubsub.WithPeerScoreInspect(g.keepScores, scoreDecayInterval),
		pubsub.WithMaxMessageSize(2 * crdt.MaxRekeySize),
		// Deeper queues than gossipsub's 32: a burst (a paste, a sync
		// after a partition) must queue, not be dropped.
		pubsub.WithPeerOutboundQueueSize(1024),
		pubsub.WithValidateQueueSize(1024),
		pubsub.WithRawTracer(g.mesh),
	}
	if cfg.refuse != nil {
		popts = append(popts, pubsub.WithSubscriptionFilter(refusal(cfg.refuse)),
			pubsub.WithPeerFilter(func(p peer.ID, topic string) bool { return !cfg.refuse(p, topic) }))
	}
	ps, err := pubsub.NewGossipSub(ctx, h, popts...)
	if err != nil {
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	g.ps = ps
	return g, nil
}

// GossipOption adjusts how a node takes part in gossip.
type GossipOption func(*gossipConfig)

type gossipConfig struct {
	hub    bool
	refuse func(p peer.ID, topic string) bool
}

// hubMeshLimit is how many peers a hub keeps in each topic's mesh.
const hubMeshLimit = 4096

// AsHub makes the host the hub of a star: the relay, whose members behind
// NAT reach each other only through it. It keeps every topic peer that
// grafts in its mesh, so it forwards each message to all of them at once
// instead of to a dozen.
func AsHub() GossipOption { return func(c *gossipConfig) { c.hub = true } }

// Refusing keeps peers out of topics: refuse(p, topic) true drops p's
// subscription to topic, so nothing published there goes to p, and keeps
// p out of its mesh and gossip. It runs in gossipsub's event loop, so it
// must be quick and must not call into the gossip. A peer subscribed
// before refuse turned against it stays until it subscribes again: the
// caller closes the connection to it (see node's delivery rules).
func Refusing(refuse func(p peer.ID, topic string) bool) GossipOption {
	return func(c *gossipConfig) { c.refuse = refuse }
}

// refusal is a subscription filter over a refuse function.
type refusal func(p peer.ID, topic string) bool

func (refusal) CanSubscribe(string) bool { return true }

func (r refusal) FilterIncomingSubscriptions(p peer.ID, subs []*pb.RPC_SubOpts) ([]*pb.RPC_SubOpts, error) {
	kept := subs[:0]
	for _, sub := range subs {
		// An unsubscription always passes: p may have subscribed before.
		if !sub.GetSubscribe() || !r(p, sub.GetTopicid()) {
			kept = append(kept, sub)
		}
	}
	return kept, nil
}

// PubSub returns the underlying router, for joining topics without
// Ancore's validation: benchmarks measure gossipsub itself through it.
func (g *Gossip) PubSub() *pubsub.PubSub { return g.ps }

func (g *Gossip) keepScores(scores map[peer.ID]float64) {
	g.mu.Lock()
	g.scores = scores
	g.rounds++
	g.mu.Unlock()
}

// Score returns a peer's gossip score as of the last scoring round (once
// a second), for diagnostics and the network view.
func (g *Gossip) Score(p peer.ID) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.scores[p]
}

// messageID is the op's ID for full canonical ops. Anything else gets the
// hash of its bytes, so that a variant of an op cannot take the op's
// message ID (see crdt.WireID).
func messageID(m *pb.Message) string {
	if id, ok := crdt.WireID(m.Data); ok {
		return string(id[:])
	}
	sum := sha256.Sum256(m.Data)
	return "x" + string(sum[:])
}

// TopicName derives the topic of a log from its community's secret, so
// that only those who hold the secret can find or join the topic.
func TopicName(secret []byte, log crdt.ID) string {
	return topicName(secret, "ancore/topic/1\x00", log)
}

// topicName is "ancore/" and the hex of HMAC(secret, domain ‖ id)[:20].
func topicName(secret []byte, domain string, id crdt.ID) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(domain))
	mac.Write(id[:])
	return "ancore/" + hex.EncodeToString(mac.Sum(nil)[:20])
}

// Topic is a joined log topic.
type Topic struct {
	g       *Gossip
	log     crdt.ID
	topic   *pubsub.Topic
	sub     *pubsub.Subscription
	ignored chan ignoredOp // the validator's Ignore verdicts, for the Replica
}

// ignoredOp is a verified op the validator ignored because Admit could
// not judge it yet, and the peer that sent it — which accepted it, so it
// holds what this node lacks to judge it.
type ignoredOp struct {
	op   *crdt.Op
	from peer.ID
}

// Join subscribes to the topic of log. Ops it delivers have passed
// validation: decoding, signatures, the log check and Admit.
func (g *Gossip) Join(secret []byte, log crdt.ID) (*Topic, error) {
	ignored := make(chan ignoredOp, ignoredBuffer)
	// Gossipsub drops what a subscription cannot buffer; the store takes
	// ops in batches, with pauses for each commit, so give it room.
	t, sub, err := g.join(TopicName(secret, log), g.validator(log, ignored), subscriptionBuffer)
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", log, err)
	}
	return &Topic{g: g, log: log, topic: t, sub: sub, ignored: ignored}, nil
}

// join registers validate for topic name, joins it with the log topics'
// score parameters (a peer sending invalid messages is penalized and,
// below the graylist threshold, ignored on every topic) and subscribes
// with a buffer of buffer messages. It undoes what it did on failure.
func (g *Gossip) join(name string, validate pubsub.ValidatorEx, buffer int) (*pubsub.Topic, *pubsub.Subscription, error) {
	if err := g.ps.RegisterTopicValidator(name, validate); err != nil {
		return nil, nil, err
	}
	t, err := g.ps.Join(name)
	if err != nil {
		g.ps.UnregisterTopicValidator(name)
		return nil, nil, err
	}
	if err := t.SetScoreParams(topicScoreParams()); err != nil {
		t.Close()
		g.ps.UnregisterTopicValidator(name)
		return nil, nil, err
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(buffer))
	if err != nil {
		t.Close()
		g.ps.UnregisterTopicValidator(name)
		return nil, nil, err
	}
	return t, sub, nil
}

// validator refuses, before anything is forwarded: ops that do not decode
// or verify (penalized), full copies only — a purged op has no place on
// gossip — ops of another log, and ops whose author Admit refuses. Ops
// Admit ignores go to ignored, unless it is full: gossipsub will not
// deliver them, nor take them again from another peer (it has seen
// their message ID).
func (g *Gossip) validator(log crdt.ID, ignored chan<- ignoredOp) pubsub.ValidatorEx {
	return func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if from == g.self {
			// Publish takes only ops that were signed here or verified on
			// arrival: checking them again would halve a busy node's rate.
			if op, err := crdt.DecodeStored(m.Data); err == nil {
				m.ValidatorData = op
				return pubsub.ValidationAccept
			}
			return pubsub.ValidationReject
		}
		op, err := g.verifier.Decode(m.Data, g.now())
		if err != nil || op.Purged() || op.Log() != log {
			return pubsub.ValidationReject
		}
		switch g.admit(op) {
		case Accept:
			m.ValidatorData = op
			return pubsub.ValidationAccept
		case Ignore:
			select {
			case ignored <- ignoredOp{op: op, from: from}:
			default:
			}
			return pubsub.ValidationIgnore
		}
		return pubsub.ValidationReject
	}
}

// Publish sends op to the topic's peers.
func (t *Topic) Publish(ctx context.Context, op *crdt.Op) error {
	if op.Log() != t.log {
		return fmt.Errorf("publish: op of log %s on topic of %s", op.Log(), t.log)
	}
	if op.Purged() {
		return errors.New("publish: a purged op has no place on gossip")
	}
	return t.topic.Publish(ctx, op.Encoded())
}

// Next returns the next verified op another peer sent on the topic.
func (t *Topic) Next(ctx context.Context) (*crdt.Op, peer.ID, error) {
	for {
		m, err := t.sub.Next(ctx)
		if errors.Is(err, pubsub.ErrSubscriptionCancelled) {
			return nil, "", ErrTopicClosed
		}
		if err != nil {
			return nil, "", err
		}
		if m.ReceivedFrom == t.g.self {
			continue
		}
		op, ok := m.ValidatorData.(*crdt.Op)
		if !ok {
			return nil, "", errors.New("gossip: message without a validated op")
		}
		return op, m.ReceivedFrom, nil
	}
}

// Peers returns the peers known to be subscribed to the topic.
func (t *Topic) Peers() []peer.ID { return t.topic.ListPeers() }

// MeshPeers returns the peers this node exchanges the topic's messages with
// in full (gossipsub's mesh).
func (t *Topic) MeshPeers() []peer.ID { return t.g.mesh.peers(t.topic.String()) }

// Close leaves the topic.
func (t *Topic) Close() error {
	t.sub.Cancel()
	err := t.topic.Close()
	if uerr := t.g.ps.UnregisterTopicValidator(t.topic.String()); err == nil {
		err = uerr
	}
	return err
}
