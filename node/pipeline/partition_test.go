package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

func newAutoReplica(t *testing.T, author *crdttest.Author, secret []byte) *replica {
	t.Helper()
	r, pipe := startReplica(t, author, secret)
	handle := p2p.TopicName(secret, author.Channel)
	s := p2p.NewSync(r.host, func(_ peer.ID, hd string) (p2p.SyncLog, bool) {
		return pipe.SyncLog(author.Channel), hd == handle
	})
	rep := p2p.NewReplica(r.host, s, r.topic, pipe.SyncLog(author.Channel), handle)
	s.OnServed(func(p peer.ID, _ string, _ int) { rep.Learned(p) })
	runInBackground(t, "replica", rep.Run)
	return r
}

// holdsAll reports whether every replica stores every op.
func holdsAll(rs []*replica, ids []crdt.ID) bool {
	for _, r := range rs {
		for _, id := range ids {
			if ok, err := r.store.Has(id); err != nil || !ok {
				return false
			}
		}
	}
	return true
}

func sameChannels(t *testing.T, rs []*replica, channel crdt.ID) {
	t.Helper()
	want := channelBytes(t, rs[0].store, channel)
	for i, r := range rs[1:] {
		if !bytes.Equal(channelBytes(t, r.store, channel), want) {
			t.Fatalf("replica %d differs from replica 0", i+1)
		}
	}
}

// TestPartitionAndHeal: ten replicas split into two groups that both
// write; once connected again, sync on reconnect brings all ten to the
// same channel.
func TestPartitionAndHeal(t *testing.T) {
	const n = 10
	secret := []byte("partition secret")
	first := crdttest.NewAuthor(t, "c", "general")
	rs := make([]*replica, n)
	for i := range rs {
		a := first
		if i > 0 {
			a = first.Peer(t)
		}
		rs[i] = newAutoReplica(t, a, secret)
	}
	link := func(i, j int) {
		if err := rs[i].host.Connect(context.Background(), peer.AddrInfo{ID: rs[j].host.ID(), Addrs: rs[j].host.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	// Two lines, 0–4 and 5–9, joined by the edges 4–5 and 2–7.
	for i := 1; i < n; i++ {
		link(i-1, i)
	}
	link(2, 7)
	for _, e := range [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}, {8, 9}, {2, 7}} {
		wait.For(t, "the mesh to form", func() bool {
			return inMesh(rs[e[0]], rs[e[1]].host.ID()) && inMesh(rs[e[1]], rs[e[0]].host.ID())
		})
	}
	var ids []crdt.ID
	write := func(from []*replica, count int, what string) {
		for i := range count {
			r := from[i%len(from)]
			o := r.author.Post(t, fmt.Sprintf("%s %d", what, i))
			r.write(t, o)
			ids = append(ids, o.ID)
		}
	}
	write(rs, 20, "before")
	wait.For(t, "everyone to hold the first ops", func() bool { return holdsAll(rs, ids) })

	// Partition: cut the edges between the groups.
	cut := func() {
		for _, e := range [][2]int{{4, 5}, {2, 7}} {
			rs[e[0]].host.Network().ClosePeer(rs[e[1]].host.ID())
			rs[e[1]].host.Network().ClosePeer(rs[e[0]].host.ID())
		}
	}
	cut()
	wait.For(t, "the partition", func() bool {
		return len(rs[4].host.Network().ConnsToPeer(rs[5].host.ID())) == 0 && len(rs[2].host.Network().ConnsToPeer(rs[7].host.ID())) == 0
	})
	left, right := rs[:5], rs[5:]
	before := len(ids)
	write(left, 30, "left")
	leftIDs := ids[before:]
	before = len(ids)
	write(right, 30, "right")
	rightIDs := ids[before:]
	wait.For(t, "each side to converge on its own writes", func() bool {
		return holdsAll(left, leftIDs) && holdsAll(right, rightIDs)
	})
	for _, id := range rightIDs {
		if ok, _ := left[0].store.Has(id); ok {
			t.Fatal("an op crossed the partition")
		}
	}

	// Heal.
	link(4, 5)
	link(2, 7)
	wait.For(t, "all replicas to converge after the heal", func() bool { return holdsAll(rs, ids) })
	sameChannels(t, rs, first.Channel)
}

// An op that arrives by gossip naming parents this replica lacks makes it
// fetch them by sync.
func TestMissingParentsAreFetched(t *testing.T) {
	secret := []byte("parents secret")
	a := crdttest.NewAuthor(t, "c", "general")
	A, B := newAutoReplica(t, a, secret), newAutoReplica(t, a.Peer(t), secret)
	if err := B.host.Connect(context.Background(), peer.AddrInfo{ID: A.host.ID(), Addrs: A.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the mesh to form", func() bool { return inMesh(A, B.host.ID()) && inMesh(B, A.host.ID()) })

	// A writes four posts without gossiping them, then gossips a fifth,
	// whose parent is the fourth.
	chain := a.Posts(t, 5, 30)
	ingestLocal(t, A.store, chain[:4])
	A.write(t, chain[4])
	var ids []crdt.ID
	for _, o := range chain {
		ids = append(ids, o.ID)
	}
	wait.For(t, "B to fetch the missing parents", func() bool { return holdsAll([]*replica{B}, ids) })
	if missing, err := B.store.Missing(a.Channel); err != nil || len(missing) != 0 {
		t.Fatalf("B still misses %v, %v", missing, err)
	}
}
