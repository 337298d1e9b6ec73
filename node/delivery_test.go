package node

import (
	"context"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/p2p/recon"
)

// TestSentMeansAMemberHasIt: a message is sent once a member's node has
// it, and stays pending while the only peer that has it is the device of a
// banned user (who still holds the topic secret and would sync).
func TestSentMeansAMemberHasIt(t *testing.T) {
	ctx := context.Background()
	a := startNode(t, t.TempDir())
	id, err := a.CreateCommunity(ctx, "Delivery")
	if err != nil {
		t.Fatal(err)
	}
	general := generalOf(t, a.Node, id)
	link, err := a.CreateInvite(ctx, id, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	dirB := t.TempDir()
	b, c := startNode(t, dirB), startNode(t, t.TempDir())
	for _, n := range []*live{b, c} {
		if _, err := n.Join(ctx, link); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a sees the joiner", isMember(a.Node, id, n.Identity().User.ID()))
	}
	pending := func(op *crdt.Op) bool {
		p, err := a.store.Pending(op.HLC, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	hello := send(t, a.Node, general, "hello, members")
	waitFor(t, "a's message sent with members online", func() bool { return !pending(hello) })

	// B goes offline; C is banned; A sends, and syncs with C.
	b.stop(t)
	userC := c.Identity().User.ID()
	if err := a.Ban(ctx, id, userC); err != nil {
		t.Fatal(err)
	}
	alone := send(t, a.Node, general, "who has this?")
	handle := p2p.TopicName(a.comms.get(id).topic, general)
	res, err := a.sync.Run(ctx, c.PeerID(), handle, a.pipe.SyncLog(general), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Held.Has(recon.Item{HLC: alone.HLC, ID: alone.ID}) {
		t.Fatal("the session did not cover the message")
	}
	if ok, _ := c.store.Has(alone.ID); !ok {
		t.Fatal("banned c did not store what the session sent it")
	}
	a.delivered(a.comms.get(id), general, c.PeerID(), res.Held)
	if !pending(alone) {
		t.Fatal("a banned user's device having the message made it sent")
	}

	// B, a member, comes back: now it is sent.
	b = startNode(t, dirB, a.Addrs()...)
	waitFor(t, "a's message sent once b has it", func() bool { return !pending(alone) })
	if ok, _ := b.store.Has(alone.ID); !ok {
		t.Fatal("sent, but b does not have it")
	}
}
