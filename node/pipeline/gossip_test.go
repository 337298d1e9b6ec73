package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/testwait"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// replica is one in-process peer: a store fed by a pipeline that follows
// the channel's gossip topic.
type replica struct {
	author *crdttest.Author
	host   host.Host
	gossip *p2p.Gossip
	store  *store.Store
	topic  *p2p.Topic
}

// newReplica starts a replica that follows its topic; stored, if not nil,
// hears of each committed batch.
func newReplica(t testing.TB, author *crdttest.Author, stored func([]store.Entry)) *replica {
	t.Helper()
	r, pipe := startReplica(t, author, []byte("secret"))
	if stored != nil {
		pipe.OnStored(stored)
	}
	runInBackground(t, "follow", func(ctx context.Context) error { return p2p.Follow(ctx, r.topic, pipe.IngestVerified) })
	return r
}

// startReplica builds a replica's host, gossip topic, store and pipeline.
func startReplica(t testing.TB, author *crdttest.Author, secret []byte) (*replica, *Pipeline) {
	t.Helper()
	h := newHost(t)
	g, err := p2p.NewGossip(context.Background(), h, p2p.AdmitAll)
	if err != nil {
		t.Fatal(err)
	}
	topic, err := g.Join(secret, author.Channel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topic.Close() })
	st := newStore(t)
	return &replica{author: author, host: h, gossip: g, store: st, topic: topic}, New(st, author.Keyring)
}

// runInBackground runs fn until the test ends, then cancels it and checks
// that it returned cleanly.
func runInBackground(t testing.TB, what string, fn func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// newHost starts a loopback host with small limits.
func newHost(t testing.TB) host.Host {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	h, err := p2p.NewHost(p2p.HostConfig{DeviceSeed: seed, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Memory: 64 << 20, FDs: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// write authors an op the way a node does: it gossips the op while storing
// it, and returns once both are done. Publishing need not wait for the
// local commit: if that failed, peers would still have the op.
func (r *replica) write(t testing.TB, o crdt.Opened) {
	t.Helper()
	stored := make(chan error, 1)
	go func() {
		stored <- r.store.Ingest(context.Background(), []store.Entry{{Op: o.Op, Body: o.Body, Readable: true, Local: true}})
	}()
	if err := r.topic.Publish(context.Background(), o.Op); err != nil {
		t.Fatal(err)
	}
	if err := <-stored; err != nil {
		t.Fatal(err)
	}
}

// wait is how long the pipeline's tests wait for replicas to get there.
var wait = testwait.Poll{Timeout: 30 * time.Second, Every: 20 * time.Millisecond}

func inMesh(r *replica, p peer.ID) bool {
	for _, q := range r.topic.MeshPeers() {
		if q == p {
			return true
		}
	}
	return false
}

// TestTenReplicasConverge: ten peers on a random connected graph, random
// publishers posting, editing and reacting; every replica ends with the
// same channel, byte for byte.
func TestTenReplicasConverge(t *testing.T) {
	const n, ops = 10, 120
	first := crdttest.NewAuthor(t, "c", "general")
	rs := replicas(t, n, first, nil)
	var ids []crdt.ID
	var posts []crdt.ID
	for i := range ops {
		r := rs[mrand.IntN(n)]
		var o crdt.Opened
		switch k := mrand.IntN(10); {
		case len(posts) == 0 || k < 6:
			o = r.author.Post(t, fmt.Sprintf("message %d", i))
			posts = append(posts, o.ID)
		case k < 8:
			o = r.author.Sign(t, crdt.KindReact, posts[mrand.IntN(len(posts))], crdt.Body{Emoji: "👍"})
		default:
			// Only the author's edits count; others' are ops all the same.
			o = r.author.Sign(t, crdt.KindEdit, posts[mrand.IntN(len(posts))], crdt.Body{Text: fmt.Sprintf("edit %d", i)})
		}
		r.write(t, o)
		ids = append(ids, o.ID)
	}
	for i, r := range rs {
		wait.For(t, fmt.Sprintf("replica %d to hold every op", i), func() bool {
			for _, id := range ids {
				if ok, err := r.store.Has(id); err != nil || !ok {
					return false
				}
			}
			return true
		})
	}
	want := channelBytes(t, rs[0].store, first.Channel)
	for i, r := range rs[1:] {
		if got := channelBytes(t, r.store, first.Channel); !bytes.Equal(got, want) {
			t.Fatalf("replica %d differs from replica 0", i+1)
		}
	}
}

// replicas starts n replicas, first writing as author and the others as
// its peers, on a random connected graph, and waits for the topic's mesh.
func replicas(t testing.TB, n int, author *crdttest.Author, stored func(i int, es []store.Entry)) []*replica {
	t.Helper()
	rs := make([]*replica, n)
	for i := range rs {
		a := author
		if i > 0 {
			a = author.Peer(t)
		}
		var hook func([]store.Entry)
		if stored != nil {
			hook = func(es []store.Entry) { stored(i, es) }
		}
		rs[i] = newReplica(t, a, hook)
	}
	// A line keeps the graph connected; extra random edges make it a mesh.
	type edge struct{ a, b int }
	var edges []edge
	for i := 1; i < n; i++ {
		edges = append(edges, edge{i - 1, i})
		if j := mrand.IntN(i); j != i-1 {
			edges = append(edges, edge{j, i})
		}
	}
	for _, e := range edges {
		a, b := rs[e.a].host, rs[e.b].host
		if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range edges {
		wait.For(t, "the mesh to form", func() bool {
			return inMesh(rs[e.a], rs[e.b].host.ID()) && inMesh(rs[e.b], rs[e.a].host.ID())
		})
	}
	return rs
}

// channelBytes renders every live row of a channel, newest page first.
func channelBytes(t testing.TB, st *store.Store, channel crdt.ID) []byte {
	t.Helper()
	var out bytes.Buffer
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		msgs, err := st.Messages(channel, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out.Bytes()
		}
		for _, m := range msgs {
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
		}
		page.Before = msgs[0].ID
	}
}
