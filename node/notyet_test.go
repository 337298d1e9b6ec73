package node

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/testwait"
)

// notYetDeadline is how soon an op that was ignored only for now must be
// stored once the reason is gone: well below p2p.SyncInterval, so that
// the periodic sync cannot be what brings it.
const notYetDeadline = 10 * time.Second

// unknownMember is a community where the owner a has admitted a user c
// that member b has not heard of: the admission is stored on a only, as
// when a's gossip of it did not reach b (b ignored it, or was not on the
// topic yet).
type unknownMember struct {
	a, b      *live
	community crdt.ID
	general   crdt.ID
	c         *crdt.Device // the admitted user's device
}

func newUnknownMember(t *testing.T) *unknownMember {
	t.Helper()
	if p2p.SyncInterval < time.Minute {
		t.Fatalf("p2p.SyncInterval is %v: the test needs the periodic sync out of its way", p2p.SyncInterval)
	}
	ctx := context.Background()
	a := startNode(t, t.TempDir())
	id, err := a.CreateCommunity(ctx, "Not yet")
	if err != nil {
		t.Fatal(err)
	}
	general := generalOf(t, a.Node, id)
	link, err := a.CreateInvite(ctx, id, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := startNode(t, t.TempDir())
	if _, err := b.Join(ctx, link); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b is a member that knows the channel", func() bool {
		c, err := b.Community(id)
		return err == nil && isMember(b.Node, id, b.Identity().User.ID())() && c.Channels[general] != nil
	})
	for _, log := range []crdt.ID{id, general} {
		waitFor(t, "a sees b on the log's topic", func() bool {
			return slices.Contains(a.replicaOf(id, log).topic.Peers(), b.host.ID())
		})
	}

	user, err := crdt.NewUser()
	if err != nil {
		t.Fatal(err)
	}
	dev, err := crdt.NewDevice(user)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := crdt.ParseInvite(link)
	if err != nil {
		t.Fatal(err)
	}
	c := a.comms.get(id)
	dr, err := crdt.AdmitDraft(a.comms.state(c), 0, inv.Invite, user.ID(), inv.Prove(user.ID()), c.topic, a.comms.keyring())
	if err != nil {
		t.Fatal(err)
	}
	admit := a.sign(t, a.Identity().Device, dr, nil)
	if err := a.pipe.IngestVerified(ctx, []*crdt.Op{admit}); err != nil { // stored, not published
		t.Fatal(err)
	}
	if !isMember(a.Node, id, user.ID())() {
		t.Fatal("a did not admit c")
	}
	if isMember(b.Node, id, user.ID())() {
		t.Fatal("b heard of c's admission")
	}
	return &unknownMember{a: a, b: b, community: id, general: general, c: dev}
}

// replicaOf returns n's replica of log in community id.
func (n *Node) replicaOf(id, log crdt.ID) *replica {
	c := n.comms.get(id)
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	return c.logs[log]
}

// sign signs dr as dev in a's community: parents are the heads of dr's
// log on a and the clock is a's.
func (a *live) sign(t *testing.T, dev *crdt.Device, dr crdt.Draft, key *crdt.EpochKey) *crdt.Op {
	t.Helper()
	log := dr.Community
	if !dr.Channel.IsZero() {
		log = dr.Channel
	}
	heads, err := a.store.Heads(log)
	if err != nil {
		t.Fatal(err)
	}
	dr.Parents, dr.HLC = heads, a.clock.Now()
	op, err := dev.Sign(dr, key)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// currentKey returns the key of the community's current epoch on n.
func currentKey(t *testing.T, n *Node, id crdt.ID) *crdt.EpochKey {
	t.Helper()
	state, err := n.Community(id)
	if err != nil {
		t.Fatal(err)
	}
	cur, ok := state.Current()
	if !ok || n.comms.keyring()[cur.ID] == nil {
		t.Fatal("no current epoch key")
	}
	return n.comms.keyring()[cur.ID]
}

// forward publishes op on its log's topic from a, which knows its author
// but does not store it: as a forwards an op it accepted before its store
// has committed it, so b cannot fetch it from a by sync.
func (m *unknownMember) forward(t *testing.T, op *crdt.Op) {
	t.Helper()
	if v := m.a.admit(op); v != p2p.Accept {
		t.Fatalf("a's validator gives %v to the op", v)
	}
	if err := m.a.replicaOf(m.community, op.Log()).topic.Publish(context.Background(), op); err != nil {
		t.Fatal(err)
	}
}

// TestIgnoredPostComesSoon: a member's post reaches b by gossip before
// that member's admission has; b's validator ignores it (author not a
// member yet), and still b has the post within seconds — not at the next
// periodic sync, a minute away — though the peer it came from never
// stored it: b fetches the admission from that peer and then takes the
// post it kept.
func TestIgnoredPostComesSoon(t *testing.T) {
	m := newUnknownMember(t)
	post := m.a.sign(t, m.c, crdt.Draft{Community: m.community, Channel: m.general, Kind: crdt.KindPost,
		Body: crdt.Body{Text: "before my admission reached you"}}, currentKey(t, m.a.Node, m.community))
	if v := m.b.admit(post); v != p2p.Ignore {
		t.Fatalf("b's validator gives %v to the post of a member it has not heard of", v)
	}
	m.forward(t, post)
	waitWithin(t, notYetDeadline, "b stores the post", func() bool { ok, _ := m.b.store.Has(post.ID); return ok })
	if !isMember(m.b.Node, m.community, m.c.User())() {
		t.Error("b stored the post but does not know its author as a member")
	}
	if !hasText(t, m.b.Node, m.general, "before my admission reached you")() {
		t.Error("b does not show the post")
	}
}

// TestIgnoredStateOpComesSoon: the same for a state op (the member's
// profile), which b's validator ignores while it does not know the
// author: b has it, and the admission, within seconds.
func TestIgnoredStateOpComesSoon(t *testing.T) {
	m := newUnknownMember(t)
	profile := m.a.sign(t, m.c, crdt.Draft{Community: m.community, Kind: crdt.KindProfile,
		State: &crdt.StateBody{Info: &crdt.Info{Name: "Carol"}}}, currentKey(t, m.a.Node, m.community))
	if v := m.b.admit(profile); v != p2p.Ignore {
		t.Fatalf("b's validator gives %v to the state op of a member it has not heard of", v)
	}
	m.forward(t, profile)
	waitWithin(t, notYetDeadline, "b stores the profile and the admission", func() bool {
		ok, _ := m.b.store.Has(profile.ID)
		return ok && isMember(m.b.Node, m.community, m.c.User())()
	})
}

// waitWithin polls cond until it holds, failing the test after d.
func waitWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.Poll{Timeout: d, Every: 20 * time.Millisecond}.For(t, fmt.Sprintf("%s (within %v)", what, d), cond)
}
