package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/testwait"
)

// soon is well under presenceTTL: what these tests check is that offline
// does not wait for the expiry.
var soon = testwait.Poll{Timeout: 10 * time.Second, Every: 20 * time.Millisecond}

// presenceCommunity starts an owner and joiners of one community, all
// joining through the owner (so joiners are connected to the owner, not
// to each other), and waits until every node sees every other online.
func presenceCommunity(t *testing.T, joiners int) (crdt.ID, []*live) {
	t.Helper()
	ctx := context.Background()
	owner := startNode(t, t.TempDir())
	id, err := owner.CreateCommunity(ctx, "Presence")
	if err != nil {
		t.Fatal(err)
	}
	nodes := []*live{owner}
	for range joiners {
		link, err := owner.CreateInvite(ctx, id, time.Hour, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := startNode(t, t.TempDir())
		if _, err := n.Join(ctx, link); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				user := b.Identity().User.ID()
				waitFor(t, "everyone online for everyone", func() bool { return a.UserStatus(id, user) == "online" })
			}
		}
	}
	return id, nodes
}

// TestPresenceGoodbye: a node that stops says so; a member that hears it
// only through another node (no connection of its own) sees it offline at
// once, not after presenceTTL.
func TestPresenceGoodbye(t *testing.T) {
	id, nodes := presenceCommunity(t, 2)
	a, c := nodes[1], nodes[2]
	if slices.Contains(a.Peers(), c.PeerID()) {
		t.Fatal("the joiners are connected to each other: the goodbye would not be what is tested")
	}
	userC := c.Identity().User.ID()
	c.stop(t)
	soon.For(t, "a to see c offline after c's goodbye", func() bool { return a.UserStatus(id, userC) == "offline" })
}

// TestPresenceConnectionLost: a device that drops off without a goodbye (a
// crash, a cable pulled) is offline as soon as its connection is lost.
func TestPresenceConnectionLost(t *testing.T) {
	id, nodes := presenceCommunity(t, 1)
	owner, b := nodes[0], nodes[1]
	userB := b.Identity().User.ID()
	if err := owner.Libp2p().Network().ClosePeer(b.PeerID()); err != nil {
		t.Fatal(err)
	}
	soon.For(t, "the owner to see b offline once the connection is gone", func() bool { return owner.UserStatus(id, userB) == "offline" })
}
