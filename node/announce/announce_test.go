package announce

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/nodetest"
)

// start runs a node on a fresh data folder with the feature.
func start(t *testing.T) *nodetest.Live {
	t.Helper()
	n, err := node.New(nodetest.Config(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	a := New()
	if err := a.Open(n, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return nodetest.Run(t, n, a.Run)
}

func connected(x, y *nodetest.Live) bool {
	return slices.Contains(x.Peers(), y.Libp2p().ID())
}

// B and C join A's community through A's invites, which name only A: they
// know nothing of each other's addresses, and nothing else (no LAN
// discovery, no bootstrap peer, no memory) would ever connect them. Their
// announcements, forwarded by A, do.
func TestMembersFindEachOther(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b, c := start(t), start(t), start(t)
	id, err := a.CreateCommunity(ctx, "Walkers")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*nodetest.Live{b, c} {
		link, err := a.CreateInvite(ctx, id, time.Hour, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Join(ctx, link); err != nil {
			t.Fatal(err)
		}
	}
	nodetest.Wait.For(t, "B and C connected", func() bool { return connected(b, c) && connected(c, b) })
	for _, x := range []*nodetest.Live{b, c} {
		state, err := x.Community(id)
		if err != nil {
			t.Fatal(err)
		}
		if m := state.Members[x.Identity().User.ID()]; m == nil || m.State != crdt.Joined {
			t.Fatalf("%s is not a joined member", x.Identity().User.ID())
		}
	}
}
