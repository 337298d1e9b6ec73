package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/testwait"
	"github.com/libp2p/go-libp2p/core/peer"
)

// live is a node running in the background.
type live struct {
	*Node
	cancel context.CancelFunc
	done   chan error
}

func startNode(t *testing.T, dir string, bootstrap ...string) *live {
	t.Helper()
	cfg := testConfig(dir)
	cfg.Bootstrap = bootstrap
	return startConfig(t, cfg)
}

// startConfig runs a node built from cfg until the test ends.
func startConfig(t *testing.T, cfg Config) *live {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{Node: n, cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- n.Run(ctx) }()
	waitFor(t, "node running", n.Running)
	t.Cleanup(func() { l.stop(t) })
	return l
}

func (l *live) stop(t *testing.T) {
	t.Helper()
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.cancel = nil
	if err := <-l.done; err != nil {
		t.Error(err)
	}
}

// wait is how long tests wait for nodes on loopback to converge.
var wait = testwait.Poll{Timeout: 30 * time.Second, Every: 20 * time.Millisecond}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	wait.For(t, what, cond)
}

// texts returns the readable texts of channel on n, oldest first.
// generalOf is the channel community id was created with: its only one.
func generalOf(t testing.TB, n *Node, id crdt.ID) crdt.ID {
	t.Helper()
	state, err := n.Community(id)
	if err != nil || len(state.Channels) != 1 {
		t.Fatalf("community %s: %v, %d channels, want its only one", id, err, len(state.Channels))
	}
	for ch := range state.Channels {
		return ch
	}
	panic("unreachable")
}

func texts(t *testing.T, n *Node, channel crdt.ID) []string {
	t.Helper()
	msgs, err := n.Messages(channel, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if !m.Deleted {
			out = append(out, m.Text)
		}
	}
	return out
}

func hasText(t *testing.T, n *Node, channel crdt.ID, text string) func() bool {
	return func() bool {
		for _, s := range texts(t, n, channel) {
			if s == text {
				return true
			}
		}
		return false
	}
}

func memberState(n *Node, id crdt.ID, u crdt.UserID) (crdt.MemberState, bool) {
	c, err := n.Community(id)
	if err != nil || c.Members[u] == nil {
		return 0, false
	}
	return c.Members[u].State, true
}

func isMember(n *Node, id crdt.ID, u crdt.UserID) func() bool {
	return func() bool { s, ok := memberState(n, id, u); return ok && s == crdt.Joined }
}

func send(t *testing.T, n *Node, channel crdt.ID, text string) *crdt.Op {
	t.Helper()
	op, err := n.Send(context.Background(), channel, crdt.Body{Text: text})
	if err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	return op
}

// TestCommunityScenario: the owner creates a community with two channels
// and an invite; B joins; C joins through B while the owner is offline;
// all chat and converge; the owner kicks C, who leaves the topics and
// reads nothing new and whose new posts every peer refuses; banned, C
// cannot come back even with a fresh invite.
func TestCommunityScenario(t *testing.T) {
	ctx := context.Background()
	dirA := t.TempDir()
	a := startNode(t, dirA)
	id, err := a.CreateCommunity(ctx, "Test")
	if err != nil {
		t.Fatal(err)
	}
	random, err := a.CreateChannel(ctx, id, "random", crdt.ChannelText)
	if err != nil {
		t.Fatal(err)
	}
	state, _ := a.Community(id)
	var general crdt.ID
	for ch := range state.Channels {
		if ch != random {
			general = ch
		}
	}
	link, err := a.CreateInvite(ctx, id, 24*time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}

	b := startNode(t, t.TempDir())
	if _, err := b.Join(ctx, link); err != nil {
		t.Fatal(err)
	}
	userA, userB := a.Identity().User.ID(), b.Identity().User.ID()
	waitFor(t, "b sees itself a member with both channels", func() bool {
		c, err := b.Community(id)
		return err == nil && isMember(b.Node, id, userB)() && len(c.Channels) == 2
	})
	send(t, a.Node, general, "hello from a")
	send(t, b.Node, general, "hello from b")
	send(t, b.Node, random, "random from b")
	for _, n := range []*Node{a.Node, b.Node} {
		waitFor(t, "both messages everywhere", func() bool {
			return hasText(t, n, general, "hello from a")() && hasText(t, n, general, "hello from b")() &&
				hasText(t, n, random, "random from b")()
		})
	}

	// The owner goes offline; B admits C.
	a.stop(t)
	linkB, err := b.CreateInvite(ctx, id, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := startNode(t, t.TempDir())
	if _, err := c.Join(ctx, linkB); err != nil {
		t.Fatal(err)
	}
	userC := c.Identity().User.ID()
	waitFor(t, "c reads the history", hasText(t, c.Node, general, "hello from a"))
	send(t, c.Node, general, "hello from c")
	waitFor(t, "b reads c", hasText(t, b.Node, general, "hello from c"))

	// The owner comes back and catches up.
	a = startNode(t, dirA, b.Addrs()...)
	waitFor(t, "a sees c admitted", isMember(a.Node, id, userC))
	waitFor(t, "a reads c", hasText(t, a.Node, general, "hello from c"))

	// The owner kicks C.
	if err := a.Kick(ctx, id, userC); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Node{b.Node, c.Node} {
		waitFor(t, "everyone sees the kick", func() bool { s, _ := memberState(n, id, userC); return s == crdt.Kicked })
	}
	stateA, _ := a.Community(id)
	epoch, _ := stateA.Current()
	waitFor(t, "b holds the new key", func() bool { return b.comms.keyring()[epoch.ID] != nil })
	if c.comms.keyring()[epoch.ID] != nil {
		t.Fatal("kicked c holds the new epoch key")
	}
	secret := send(t, a.Node, general, "after the kick")
	if secret.Epoch != epoch.ID {
		t.Fatal("a did not send under the new epoch")
	}
	waitFor(t, "b reads the new message", hasText(t, b.Node, general, "after the kick"))
	// Kicked, C is out of the community's topics and sync (delivery.go).
	handle := p2p.TopicName(c.comms.get(id).topic, general)
	for name, n := range map[string]*Node{"a": a.Node, "b": b.Node} {
		waitFor(t, name+" drops c from #general's topic", func() bool { return !slices.Contains(topicPeers(n, id, general), c.PeerID()) })
		if _, ok := n.syncLogs(c.PeerID(), handle); ok {
			t.Errorf("%s serves #general to kicked c", name)
		}
	}
	// A ciphertext that reaches C anyway (from a member who has not heard
	// of the kick yet) stays sealed.
	if err := c.pipe.IngestVerified(ctx, []*crdt.Op{secret}); err != nil {
		t.Fatal(err)
	}
	if hasText(t, c.Node, general, "after the kick")() {
		t.Fatal("kicked c reads a message sent after the kick")
	}
	if sealed, _ := c.store.Sealed(epoch.ID); len(sealed) == 0 {
		t.Error("c's copy is not kept sealed")
	}

	// C's new posts: its own node refuses, and so does every peer.
	if _, err := c.Send(ctx, general, crdt.Body{Text: "let me in"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("kicked c sent: %v", err)
	}
	forged := forgePost(t, c.Node, id, general, "after my kick")
	for name, n := range map[string]*Node{"a": a.Node, "b": b.Node} {
		if v := n.admit(forged); v != p2p.Reject {
			t.Errorf("%s's gossip validator gives %v to a kicked member's post", name, v)
		}
		if _, err := n.pipe.Ingest(ctx, [][]byte{forged.Encoded()}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := n.store.Has(forged.ID); ok {
			t.Errorf("%s stored a kicked member's post", name)
		}
	}

	// Banned, C cannot rejoin, even with a fresh invite.
	if err := a.Ban(ctx, id, userC); err != nil {
		t.Fatal(err)
	}
	fresh, err := a.CreateInvite(ctx, id, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(ctx, fresh); !errors.Is(err, ErrJoin) || !errors.Is(err, crdt.ErrBanned) {
		t.Fatalf("banned c joined again: %v", err)
	}
	if s, _ := memberState(a.Node, id, userC); s != crdt.Banned {
		t.Fatalf("c is %v on a", s)
	}
	for _, u := range []crdt.UserID{userA, userB} {
		if !isMember(a.Node, id, u)() || !isMember(b.Node, id, u)() {
			t.Fatal("a remaining member lost its membership")
		}
	}
}

// forgePost signs a post as n's device on the current epoch it holds,
// bypassing n's own checks: what a modified client would send.
func forgePost(t *testing.T, n *Node, community, channel crdt.ID, text string) *crdt.Op {
	t.Helper()
	c := n.comms.get(community)
	state := n.comms.state(c)
	var key *crdt.EpochKey
	for _, e := range state.Epochs {
		if k := n.comms.keyring()[e.ID]; k != nil {
			key = k
		}
	}
	heads, err := n.store.Heads(channel)
	if err != nil {
		t.Fatal(err)
	}
	op, err := n.Identity().Device.Sign(crdt.Draft{Community: community, Channel: channel, Kind: crdt.KindPost,
		HLC: n.clock.Now(), Parents: heads, Body: crdt.Body{Text: fmt.Sprint(text)}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// TestCommunityManagement: the owner renames things, makes a moderator
// role and gives it to B; B may then do what the role allows and nothing
// more, and every change reaches B.
func TestCommunityManagement(t *testing.T) {
	ctx := context.Background()
	a := startNode(t, t.TempDir())
	id, err := a.CreateCommunity(ctx, "Before")
	if err != nil {
		t.Fatal(err)
	}
	link, err := a.CreateInvite(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := startNode(t, t.TempDir())
	if _, err := b.Join(ctx, link); err != nil {
		t.Fatal(err)
	}
	userB := b.Identity().User.ID()
	waitFor(t, "b admitted", isMember(b.Node, id, userB))

	if err := a.UpdateCommunity(ctx, id, "After", []byte("icon")); err != nil {
		t.Fatal(err)
	}
	voice, err := a.CreateChannel(ctx, id, "talk", crdt.ChannelVoice)
	if err != nil {
		t.Fatal(err)
	}
	name, topic, pos := "voice", "say hi", int64(7)
	if err := a.UpdateChannel(ctx, id, voice, ChannelUpdate{Name: &name, Topic: &topic, Position: &pos}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateChannel(ctx, id, "mine", crdt.ChannelText); !errors.Is(err, ErrForbidden) {
		t.Fatalf("b created a channel without the permission: %v", err)
	}
	perms := crdt.PermManageChannels | crdt.PermKick
	modName, modPos := "mod", int64(5)
	mod, err := a.PutRole(ctx, id, crdt.ID{}, RoleUpdate{Name: &modName, Perms: &perms, Position: &modPos})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetMemberRoles(ctx, id, userB, []crdt.ID{mod}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b holds the role", func() bool {
		c, err := b.Community(id)
		return err == nil && c.Members[userB] != nil && slices.Contains(c.Members[userB].Roles, mod)
	})
	mine, err := b.CreateChannel(ctx, id, "mine", crdt.ChannelText)
	if err != nil {
		t.Fatalf("b with manage-channels: %v", err)
	}
	if err := b.SetProfile(ctx, id, Profile{Name: "Bee"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Dissolve(ctx, id); !errors.Is(err, ErrForbidden) {
		t.Fatalf("b dissolved the community: %v", err)
	}
	waitFor(t, "a sees b's channel", func() bool { c, _ := a.Community(id); return c.Channels[mine] != nil })
	if err := a.DeleteChannel(ctx, id, mine); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "b sees every change", func() bool {
		c, err := b.Community(id)
		if err != nil || c.Channels[mine] == nil || !c.Channels[mine].Deleted || c.Channels[voice] == nil {
			return false
		}
		meta, err1 := b.OpenInfo(c.Meta)
		info, err2 := b.ChannelInfo(id, voice)
		return err1 == nil && err2 == nil && meta.Name == "After" && string(meta.Icon) == "icon" &&
			info.Name == "voice" && info.Topic == "say hi" && c.Channels[voice].Position == 7 &&
			c.Channels[voice].Type == crdt.ChannelVoice
	})
	waitFor(t, "a sees b's profile", func() bool {
		c, _ := a.Community(id)
		if m := c.Members[userB]; m != nil && m.Profile != nil {
			info, err := a.OpenInfo(m.Profile)
			return err == nil && info.Name == "Bee"
		}
		return false
	})
	if _, err := b.Send(ctx, mine, crdt.Body{Text: "into a deleted channel"}); err == nil {
		t.Fatal("sent into a deleted channel")
	}
}

// topicPeers returns the peers n sees on the topic of a log of community.
func topicPeers(n *Node, community, log crdt.ID) []peer.ID {
	c := n.comms.get(community)
	n.comms.mu.Lock()
	r := c.logs[log]
	n.comms.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.topic.Peers()
}
