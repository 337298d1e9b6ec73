// Package crdttest makes signed ops for tests and benchmarks of the
// packages above crdt.
package crdttest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ancore/ancore/crdt"
)

// Author writes message ops into one channel of one community.
type Author struct {
	User      *crdt.User
	Device    *crdt.Device
	Key       *crdt.EpochKey
	Clock     *crdt.Clock
	Community crdt.ID
	Channel   crdt.ID
	// Heads are the parents of the next op; Sign advances them.
	Heads []crdt.ID
}

// NewAuthor returns an author with fresh keys, writing to a channel named
// by channel in a community named by community.
func NewAuthor(tb testing.TB, community, channel string) *Author {
	tb.Helper()
	u, d := newIdentity(tb)
	k, err := crdt.NewEpochKey()
	if err != nil {
		tb.Fatal(err)
	}
	return &Author{
		User: u, Device: d, Key: k, Clock: crdt.NewClock(nil),
		Community: crdt.IDOf([]byte("community:" + community)),
		Channel:   crdt.IDOf([]byte("channel:" + channel)),
	}
}

// Peer returns an author for another user writing to the same channel
// under the same epoch key, with a clock and heads of its own.
func (a *Author) Peer(tb testing.TB) *Author {
	tb.Helper()
	u, d := newIdentity(tb)
	return &Author{User: u, Device: d, Key: a.Key, Clock: crdt.NewClock(nil), Community: a.Community, Channel: a.Channel}
}

// NewDevice returns a fresh user's first device.
func NewDevice(tb testing.TB) *crdt.Device {
	tb.Helper()
	_, d := newIdentity(tb)
	return d
}

func newIdentity(tb testing.TB) (*crdt.User, *crdt.Device) {
	tb.Helper()
	u, err := crdt.NewUser()
	if err != nil {
		tb.Fatal(err)
	}
	d, err := crdt.NewDevice(u)
	if err != nil {
		tb.Fatal(err)
	}
	return u, d
}

// Keyring returns a ring holding the author's epoch key.
func (a *Author) Keyring() crdt.Keyring { return crdt.Keyring{a.Key.ID(): a.Key} }

// Sign signs an op of kind on target with body, citing the current heads,
// and makes it the only head.
func (a *Author) Sign(tb testing.TB, kind crdt.Kind, target crdt.ID, body crdt.Body) crdt.Opened {
	tb.Helper()
	op, err := a.Device.Sign(crdt.Draft{
		Community: a.Community, Channel: a.Channel, Kind: kind, HLC: a.Clock.Now(),
		Parents: a.Heads, Target: target, Body: body,
	}, a.Key)
	if err != nil {
		tb.Fatal(err)
	}
	a.Heads = []crdt.ID{op.ID}
	return crdt.Opened{Op: op, Body: body}
}

// Post signs a message with text.
func (a *Author) Post(tb testing.TB, text string) crdt.Opened {
	tb.Helper()
	return a.Sign(tb, crdt.KindPost, crdt.ID{}, crdt.Body{Text: text})
}

// Posts signs n messages in a chain, each with a text of textLen bytes.
func (a *Author) Posts(tb testing.TB, n, textLen int) []crdt.Opened {
	tb.Helper()
	out := make([]crdt.Opened, n)
	for i := range out {
		out[i] = a.Post(tb, Text(i, textLen))
	}
	return out
}

// Text returns a printable text of exactly n bytes (n ≥ 8) that differs
// for every i.
func Text(i, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz     "
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	b := []byte(fmt.Sprintf("%08d", i))
	for len(b) < n {
		b = append(b, letters[r.IntN(len(letters))])
	}
	return string(b[:n])
}

// Community is a community its view accepts: a genesis, one text channel,
// an invite and the admission of every member but the owner, all signed
// for real, so AuthorizeChannelOp judges its members' posts as a relay or
// node would.
type Community struct {
	ID      crdt.ID
	Channel crdt.ID
	Secret  []byte // the topic secret the admissions hand over
	// State holds the community's state ops in the order they were signed;
	// each cites the one before.
	State []*crdt.Op
	// Members write to Channel under the genesis epoch key; Members[0] is
	// the owner.
	Members []*Author
}

// NewCommunity makes a community with members members (at least 1).
func NewCommunity(tb testing.TB, members int) *Community {
	tb.Helper()
	key, err := crdt.NewEpochKey()
	if err != nil {
		tb.Fatal(err)
	}
	c := &Community{Secret: []byte("topic secret")}
	clock := crdt.NewClock(nil)
	ownerUser, owner := newIdentity(tb)
	sign := func(dr crdt.Draft, key *crdt.EpochKey) *crdt.Op {
		tb.Helper()
		dr.Community, dr.HLC = c.ID, clock.Now()
		if n := len(c.State); n > 0 && dr.Parents == nil {
			dr.Parents = []crdt.ID{c.State[n-1].ID}
		}
		op, err := owner.Sign(dr, key)
		if err != nil {
			tb.Fatalf("sign %s: %v", dr.Kind, err)
		}
		c.State = append(c.State, op)
		return op
	}
	c.ID = sign(crdt.Draft{Kind: crdt.KindGenesis, State: &crdt.StateBody{Info: &crdt.Info{Name: "test"}}}, key).ID
	c.Channel = sign(crdt.Draft{Kind: crdt.KindChannelPut, State: &crdt.StateBody{
		ChannelType: crdt.ChannelText, Info: &crdt.Info{Name: "general"}}}, key).ID
	seed, pub, err := crdt.NewInviteKey()
	if err != nil {
		tb.Fatal(err)
	}
	inv := crdt.Invite{Community: c.ID, Invite: sign(crdt.Draft{Kind: crdt.KindInvite, State: &crdt.StateBody{InviteKey: pub}}, key).ID, Seed: seed}
	author := func(u *crdt.User, d *crdt.Device) *Author {
		return &Author{User: u, Device: d, Key: key, Clock: crdt.NewClock(nil), Community: c.ID, Channel: c.Channel}
	}
	c.Members = append(c.Members, author(ownerUser, owner))
	// The epoch tips do not change while members join: one view serves
	// every admission.
	view := crdt.BuildCommunity(c.ID, c.State)
	for range members - 1 {
		u, d := newIdentity(tb)
		dr, err := crdt.AdmitDraft(view, 0, inv.Invite, u.ID(), inv.Prove(u.ID()), c.Secret, crdt.Keyring{key.ID(): key})
		if err != nil {
			tb.Fatal(err)
		}
		dr.Parents = nil
		sign(dr, nil)
		c.Members = append(c.Members, author(u, d))
	}
	if got := len(c.View().MemberUsers()); got != members {
		tb.Fatalf("community has %d members, want %d", got, members)
	}
	return c
}

// View builds the community's state from its state ops.
func (c *Community) View() *crdt.Community { return crdt.BuildCommunity(c.ID, c.State) }
