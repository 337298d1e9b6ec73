package node

import (
	"context"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/testwait"
)

// soon is well under presenceTTL: what these tests check is that offline
// does not wait for the expiry.
var soon = testwait.Poll{Timeout: 10 * time.Second, Every: 20 * time.Millisecond}

// presenceCommunity starts an owner and joiners of one community, all
// joining through the owner, and waits until every node sees every other
// online.
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

// TestPresenceCleanStop: a node that stops is offline for the others at
// once (its goodbye, or the connection it closes), not after presenceTTL.
func TestPresenceCleanStop(t *testing.T) {
	id, nodes := presenceCommunity(t, 1)
	owner, b := nodes[0], nodes[1]
	userB := b.Identity().User.ID()
	b.stop(t)
	soon.For(t, "the owner to see b offline after b stopped", func() bool { return owner.UserStatus(id, userB) == "offline" })
}

// TestPresenceConnectionLost: a device that drops off without a goodbye (a
// crash, a cable pulled) is offline as soon as its connection is lost.
func TestPresenceConnectionLost(t *testing.T) {
	id, nodes := presenceCommunity(t, 1)
	owner, b := nodes[0], nodes[1]
	userB := b.Identity().User.ID()
	// The nodes redial each other at once and b is online again soon
	// after: what the owner says in between is its event, not a state a
	// poll may miss.
	offline := make(chan struct{}, 1)
	owner.OnEvent(func(e Event) {
		if p, ok := e.Data.(PresenceEvent); ok && e.Type == "user:presence" && p.Community == id.String() && p.User == userB.String() && p.Status == "offline" {
			select {
			case offline <- struct{}{}:
			default:
			}
		}
	})
	if err := owner.Libp2p().Network().ClosePeer(b.PeerID()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-offline:
	case <-time.After(soon.Timeout):
		t.Fatal("the owner did not see b offline once the connection was gone")
	}
}
