package p2p

import (
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestReplicaQueueKeepsEveryPeer: asking for syncs with more peers than
// any fixed queue would hold loses none, and a peer asked twice before its
// turn is synced once.
func TestReplicaQueueKeepsEveryPeer(t *testing.T) {
	r := NewReplica(nil, nil, nil, nil, "")
	const peers = 500
	for round := range 2 {
		for i := range peers {
			r.ask(peer.ID(fmt.Sprint(i)))
		}
		if round == 0 && len(r.due) != 1 {
			t.Fatal("no token while syncs are pending")
		}
	}
	for i := range peers {
		p, ok, more := r.next()
		if !ok || p != peer.ID(fmt.Sprint(i)) {
			t.Fatalf("turn %d: %q, %v; want peer %d", i, p, ok, i)
		}
		if more != (i < peers-1) {
			t.Fatalf("turn %d: more = %v", i, more)
		}
	}
	if _, ok, _ := r.next(); ok {
		t.Fatal("a peer asked twice was synced twice")
	}
}
