package p2p

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
)

var (
	signalCommunity = crdt.IDOf([]byte("signals community"))
	signalChannel   = crdt.IDOf([]byte("signals channel"))
)

func acceptSignals(crdt.Signal) Verdict { return Accept }

// signalPeer is a host on the test community's signal topic.
type signalPeer struct {
	h     host.Host
	g     *Gossip
	topic *SignalTopic
}

func newSignalPeer(t *testing.T, admit func(crdt.Signal) Verdict) signalPeer {
	t.Helper()
	h := testHost(t)
	g := testGossip(t, h)
	topic, err := g.JoinSignals(testSecret, signalCommunity, admit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topic.Close() })
	return signalPeer{h: h, g: g, topic: topic}
}

func (p signalPeer) meshHas(q signalPeer) bool {
	return hasPeer(p.g.mesh.peers(p.topic.topic.String()), q.h.ID())
}

func presence(t *testing.T, d *crdt.Device, status crdt.Status) []byte {
	t.Helper()
	b, err := d.SignSignal(crdt.Signal{Kind: crdt.SignalPresence, Community: signalCommunity, Status: status, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func typing(t *testing.T, d *crdt.Device) []byte {
	t.Helper()
	b, err := d.SignSignal(crdt.Signal{Kind: crdt.SignalTyping, Community: signalCommunity, Channel: signalChannel, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func publishSignal(t *testing.T, p signalPeer, b []byte) {
	t.Helper()
	if err := p.topic.Publish(t.Context(), b); err != nil {
		t.Fatal(err)
	}
}

// receiveSignal returns the next signal p delivers, within a deadline, and
// checks that it is the one d sent of kind.
func receiveSignal(t *testing.T, p signalPeer, kind crdt.SignalKind, d *crdt.Device) crdt.Signal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := p.topic.Next(ctx)
	if err != nil {
		t.Fatalf("no signal arrived: %v", err)
	}
	if s.Kind != kind || s.Author != d.ID() || s.User() != d.User() || s.Community != signalCommunity {
		t.Fatalf("delivered %+v, want a signal of kind %d by %v", s, kind, d.ID())
	}
	return s
}

func TestSignalsReachPeers(t *testing.T) {
	peers := []signalPeer{newSignalPeer(t, acceptSignals), newSignalPeer(t, acceptSignals), newSignalPeer(t, acceptSignals)}
	devices := []*crdt.Device{crdttest.NewDevice(t), crdttest.NewDevice(t), crdttest.NewDevice(t)}
	connect(t, peers[0].h, peers[1].h)
	connect(t, peers[1].h, peers[2].h)
	connect(t, peers[0].h, peers[2].h)
	for _, p := range peers {
		for _, q := range peers {
			if p.h != q.h {
				wait.For(t, "topic peers", func() bool { return hasPeer(p.topic.topic.ListPeers(), q.h.ID()) })
			}
		}
	}

	// A node delivers its own signal to its subscription before it sends
	// it to anyone, so each sender's own signal is queued ahead of the
	// next one from a peer that received it: that Next returns the peer's
	// shows its own was skipped.
	publishSignal(t, peers[0], presence(t, devices[0], crdt.StatusDND))
	for _, p := range peers[1:] {
		if s := receiveSignal(t, p, crdt.SignalPresence, devices[0]); s.Status != crdt.StatusDND || !s.Channel.IsZero() {
			t.Fatalf("delivered presence %+v", s)
		}
	}
	publishSignal(t, peers[1], typing(t, devices[1]))
	for _, p := range []signalPeer{peers[0], peers[2]} {
		if s := receiveSignal(t, p, crdt.SignalTyping, devices[1]); s.Channel != signalChannel || time.Since(s.Time) > crdt.MaxSignalAge {
			t.Fatalf("delivered typing %+v", s)
		}
	}
	publishSignal(t, peers[2], presence(t, devices[2], crdt.StatusOffline))
	for _, p := range peers[:2] {
		receiveSignal(t, p, crdt.SignalPresence, devices[2])
	}
}

// TestInvalidSignalsAreNeitherDeliveredNorForwarded: ends A and C are
// connected only through B. A runs a plain gossipsub router, so it sends
// whatever it likes; B must neither deliver nor forward an invalid signal,
// while it does forward a valid one.
func TestInvalidSignalsAreNeitherDeliveredNorForwarded(t *testing.T) {
	alice, bob, carol := crdttest.NewDevice(t), crdttest.NewDevice(t), crdttest.NewDevice(t)
	mallory := crdttest.NewDevice(t)
	forged := presence(t, alice, crdt.StatusOnline)
	forged[len(forged)-2] ^= 1
	stale, err := alice.SignSignal(crdt.Signal{Kind: crdt.SignalTyping, Community: signalCommunity, Channel: signalChannel, Time: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := alice.SignSignal(crdt.Signal{Kind: crdt.SignalPresence, Community: crdt.IDOf([]byte("another community")), Status: crdt.StatusIdle, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	attacks := map[string][]byte{
		"forged signature":     forged,
		"stale":                stale,
		"refused by admit":     presence(t, mallory, crdt.StatusOnline),
		"of another community": elsewhere,
	}
	for name, attack := range attacks {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := testHost(t)
			ps, err := pubsub.NewGossipSub(t.Context(), a,
				pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithNoAuthor(), pubsub.WithMessageIdFn(messageID),
				pubsub.WithFloodPublish(true))
			if err != nil {
				t.Fatal(err)
			}
			aTopic, err := ps.Join(SignalTopicName(testSecret, signalCommunity))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := aTopic.Subscribe(); err != nil {
				t.Fatal(err)
			}
			var refused atomic.Bool
			b := newSignalPeer(t, func(s crdt.Signal) Verdict {
				if s.User() == mallory.User() {
					refused.Store(true)
					return Reject
				}
				return Accept
			})
			var (
				mu     sync.Mutex
				judged []crdt.Signal // what C's admit hook was asked about, own signals too
			)
			c := newSignalPeer(t, func(s crdt.Signal) Verdict {
				mu.Lock()
				judged = append(judged, s)
				mu.Unlock()
				return Accept
			})
			connect(t, a, b.h)
			connect(t, b.h, c.h)
			wait.For(t, "A to see B on the topic", func() bool { return hasPeer(aTopic.ListPeers(), b.h.ID()) })
			wait.For(t, "the B-C mesh", func() bool { return b.meshHas(c) && c.meshHas(b) })

			// B forwards A's valid signals.
			if err := aTopic.Publish(t.Context(), presence(t, alice, crdt.StatusIdle)); err != nil {
				t.Fatal(err)
			}
			receiveSignal(t, b, crdt.SignalPresence, alice)
			receiveSignal(t, c, crdt.SignalPresence, alice)

			if err := aTopic.Publish(t.Context(), attack); err != nil {
				t.Fatal(err)
			}
			// A's score at B turns negative only when B rejects a message.
			wait.For(t, "B to reject the signal and penalize A", func() bool { return b.g.Score(a.ID()) < 0 })
			if refused.Load() != (name == "refused by admit") {
				t.Fatalf("B's admit hook refused a signal: %v", refused.Load())
			}

			// B is done with the attack, so it delivers nothing before a
			// signal sent now; C, behind B, neither.
			publishSignal(t, c, typing(t, carol))
			receiveSignal(t, b, crdt.SignalTyping, carol)
			publishSignal(t, b, typing(t, bob))
			receiveSignal(t, c, crdt.SignalTyping, bob)

			// Had B forwarded the attack, C would have delivered it (C
			// admits everyone) or rejected it and penalized B; wait for two
			// scoring rounds at C to see that it did neither.
			c.g.mu.Lock()
			after := c.g.rounds + 2
			c.g.mu.Unlock()
			wait.For(t, "two scoring rounds at C", func() bool {
				c.g.mu.Lock()
				defer c.g.mu.Unlock()
				return c.g.rounds >= after
			})
			if s := c.g.Score(b.h.ID()); s < 0 {
				t.Errorf("C scores B %v: B forwarded an invalid signal", s)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range judged {
				if s.Author != alice.ID() && s.Author != bob.ID() && s.Author != carol.ID() {
					t.Errorf("C was asked to admit %+v, which B should have stopped", s)
				}
			}
		})
	}
}

func TestOwnInvalidSignalsAreNotPublished(t *testing.T) {
	p := newSignalPeer(t, func(s crdt.Signal) Verdict {
		if s.Kind == crdt.SignalTyping {
			return Ignore
		}
		return Accept
	})
	d := crdttest.NewDevice(t)
	stale, err := d.SignSignal(crdt.Signal{Kind: crdt.SignalPresence, Community: signalCommunity, Status: crdt.StatusOnline, Time: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"stale": stale, "not admitted": typing(t, d), "garbage": []byte("not a signal")} {
		if err := p.topic.Publish(t.Context(), b); err == nil {
			t.Errorf("published a %s signal", name)
		}
	}
	publishSignal(t, p, presence(t, d, crdt.StatusOnline))
}

func TestSignalTopicNames(t *testing.T) {
	name := SignalTopicName(testSecret, signalCommunity)
	if name != SignalTopicName(testSecret, signalCommunity) {
		t.Fatal("signal topic names are not deterministic")
	}
	others := []string{
		TopicName(testSecret, signalCommunity),
		SignalTopicName([]byte("another secret"), signalCommunity),
		SignalTopicName(testSecret, signalChannel),
	}
	if slices.Contains(others, name) {
		t.Fatal("the signal topic name does not depend on its domain, secret and community")
	}
	if len(name) != len(others[0]) || name[:7] != others[0][:7] {
		t.Fatalf("signal topic %q does not look like a log topic (%q)", name, others[0])
	}
}

// TestSignalMessageID: a signal is no op, so its message ID is the hash of
// its bytes — the same signal twice is one message, and no variant can
// claim its ID.
func TestSignalMessageID(t *testing.T) {
	b := presence(t, crdttest.NewDevice(t), crdt.StatusOnline)
	if _, ok := crdt.WireID(b); ok {
		t.Fatal("WireID took a signal for an op")
	}
	sum := sha256.Sum256(b)
	if got := messageID(&pb.Message{Data: b}); got != "x"+string(sum[:]) {
		t.Fatalf("message ID %x, want x‖sha256 of the signal", got)
	}
}
