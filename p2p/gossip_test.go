package p2p

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/testwait"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

var testSecret = []byte("community secret for tests")

// testHost starts a host on loopback with a fresh device key and small
// limits.
func testHost(t *testing.T) host.Host {
	t.Helper()
	return testHostOn(t, "/ip4/127.0.0.1/tcp/0")
}

func testHostOn(t *testing.T, listen string) host.Host {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	h, err := NewHost(HostConfig{DeviceSeed: seed, Listen: []string{listen}, Memory: 32 << 20, FDs: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func connect(t *testing.T, a, b host.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

// wait is how long p2p's tests wait for hosts and topics to settle.
var wait = testwait.Poll{Timeout: 20 * time.Second, Every: 10 * time.Millisecond}

func testGossip(t *testing.T, h host.Host) *Gossip {
	t.Helper()
	g, err := NewGossip(t.Context(), h, AdmitAll)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func join(t *testing.T, g *Gossip, log crdt.ID) *Topic {
	t.Helper()
	topic, err := g.Join(testSecret, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topic.Close() })
	return topic
}

// receive returns the next op on topic within a deadline.
func receive(t *testing.T, topic *Topic) *crdt.Op {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	op, _, err := topic.Next(ctx)
	if err != nil {
		t.Fatalf("no op arrived: %v", err)
	}
	return op
}

// line starts n hosts joined to one topic, connected in a line, and waits
// until each has its neighbours in its mesh for the topic.
func line(t *testing.T, n int, log crdt.ID) ([]host.Host, []*Topic) {
	t.Helper()
	hosts := make([]host.Host, n)
	topics := make([]*Topic, n)
	for i := range hosts {
		hosts[i] = testHost(t)
		topics[i] = join(t, testGossip(t, hosts[i]), log)
	}
	for i := 1; i < n; i++ {
		connect(t, hosts[i-1], hosts[i])
	}
	for i := 1; i < n; i++ {
		wait.For(t, "topic mesh", func() bool {
			return hasPeer(topics[i-1].MeshPeers(), hosts[i].ID()) && hasPeer(topics[i].MeshPeers(), hosts[i-1].ID())
		})
	}
	return hosts, topics
}

func hasPeer(ps []peer.ID, p peer.ID) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func TestGossipDeliversVerifiedOps(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	_, topics := line(t, 3, a.Channel)
	post := a.Post(t, "hello over gossip")
	if err := topics[0].Publish(t.Context(), post.Op); err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics[1:] {
		got := receive(t, topic)
		if got.ID != post.ID {
			t.Fatalf("received %s, want %s", got.ID, post.ID)
		}
	}
	other := crdttest.NewAuthor(t, "c", "random")
	if err := topics[0].Publish(t.Context(), other.Post(t, "wrong topic").Op); err == nil {
		t.Fatal("published an op of another log")
	}
}

func TestTopicNamesHideLogs(t *testing.T) {
	log := crdt.IDOf([]byte("channel"))
	a, b := TopicName(testSecret, log), TopicName([]byte("another secret"), log)
	if a == b || a == TopicName(testSecret, crdt.IDOf([]byte("other"))) {
		t.Fatal("topic names do not depend on both the secret and the log")
	}
	if a != TopicName(testSecret, log) {
		t.Fatal("topic names are not deterministic")
	}
}

// TestMaliciousPeer: a peer publishing forged, malformed, oversized,
// purged and misplaced ops through a plain gossipsub router gets none of
// them delivered or forwarded, and its score drops; honest ops still flow.
func TestMaliciousPeer(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	hosts, topics := line(t, 3, a.Channel) // honest A - B - C

	evil := testHost(t)
	ps, err := pubsub.NewGossipSub(t.Context(), evil,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithNoAuthor(), pubsub.WithMessageIdFn(messageID),
		pubsub.WithFloodPublish(true))
	if err != nil {
		t.Fatal(err)
	}
	evilTopic, err := ps.Join(TopicName(testSecret, a.Channel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evilTopic.Subscribe(); err != nil {
		t.Fatal(err)
	}
	connect(t, evil, hosts[1])
	wait.For(t, "B to see the attacker on the topic", func() bool { return hasPeer(topics[1].Peers(), evil.ID()) })
	wait.For(t, "the attacker to see B on the topic", func() bool { return hasPeer(evilTopic.ListPeers(), hosts[1].ID()) })

	post := a.Post(t, "real")
	forged := append([]byte(nil), post.Encoded()...)
	forged[len(forged)-2] ^= 1
	elsewhere := crdttest.NewAuthor(t, "c", "random").Post(t, "wrong log")
	attacks := map[string][]byte{
		"forged signature": forged,
		"malformed":        []byte("definitely not an op"),
		"oversized":        make([]byte, crdt.MaxOpSize+1),
		"purged copy":      a.Post(t, "stripped").Purge().Encoded(),
		"other log":        elsewhere.Encoded(),
	}
	for name, b := range attacks {
		if err := evilTopic.Publish(t.Context(), b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for i := range 50 { // a flood of garbage
		if err := evilTopic.Publish(t.Context(), []byte{byte(i), 0xff}); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, "the attacker's score to drop", func() bool {
		return topics[1].g.Score(evil.ID()) < 0
	})

	// Honest traffic flows, and it is the first thing B and C deliver:
	// nothing of the attack got through or was forwarded.
	if err := topics[0].Publish(t.Context(), post.Op); err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics[1:] {
		if got := receive(t, topic); got.ID != post.ID {
			t.Fatalf("delivered %s, want the honest op %s", got.ID, post.ID)
		}
	}
	// B forwarded none of it: after two more scoring rounds, C holds
	// nothing against B.
	c := topics[2].g
	c.mu.Lock()
	after := c.rounds + 2
	c.mu.Unlock()
	wait.For(t, "two scoring rounds at C", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.rounds >= after
	})
	if s := c.Score(hosts[1].ID()); s < 0 {
		t.Fatalf("C scores B %v: B forwarded invalid ops", s)
	}
}
