package crdt

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCommunityLifecycle(t *testing.T) {
	w := newWorld(t)
	text := w.state("owner", KindChannelPut, StateBody{ChannelType: ChannelText, Info: &Info{Name: "general", Topic: "hi"}}, nil)
	voice := w.state("owner", KindChannelPut, StateBody{ChannelType: ChannelVoice, Info: &Info{Name: "lounge"}}, nil)
	pos := int64(3)
	w.stateOn("owner", KindChannelPut, text.ID, StateBody{Position: &pos})
	mod := w.role("owner", "mod", PermKick|PermManageMessages, 5)
	w.join("owner", "alice")
	w.join("owner", "bob")
	w.grant("owner", "alice", mod)
	w.state("alice", KindProfile, StateBody{Info: &Info{Name: "Alice"}}, nil)

	c := w.build()
	if len(c.Rejected) != 0 {
		t.Fatalf("rejected: %v", c.Rejected)
	}
	if c.Owner != w.uid("owner") || len(c.Members) != 3 || len(c.Channels) != 2 || len(c.Roles) != 2 {
		t.Fatalf("owner %v members %d channels %d roles %d", c.Owner == w.uid("owner"), len(c.Members), len(c.Channels), len(c.Roles))
	}
	if ch := c.Channels[text.ID]; ch.Position != 3 || ch.Type != ChannelText || ch.Info != text {
		t.Errorf("text channel %+v", ch)
	}
	if c.Channels[voice.ID].Type != ChannelVoice {
		t.Error("voice channel type lost")
	}
	member, perms, top := c.Standing(w.uid("alice"))
	if !member || !perms.Has(PermKick|PermSendMessages) || perms.Has(PermBan) || top != 5 {
		t.Errorf("alice: member %v perms %s top %d", member, perms, top)
	}
	info, err := c.Channels[text.ID].Info.OpenInfo(mustState(t, text), w.person("bob").keys)
	if err != nil || info.Name != "general" || info.Topic != "hi" {
		t.Errorf("bob reads channel info %+v: %v", info, err)
	}

	kick := w.state("alice", KindKick, StateBody{User: w.uid("bob")}, nil)
	c = w.build()
	w.mustAccept(c, kick)
	if m := c.Members[w.uid("bob")]; m.State != Kicked || m.Removed != kick {
		t.Fatalf("bob after kick: %+v", m)
	}
	if !c.NeedsRekey() {
		t.Fatal("a kick must call for a rekey")
	}
	next := newTestKey(t)
	dr, err := RekeyDraft(c, 0, next, w.person("owner").keys)
	if err != nil {
		t.Fatal(err)
	}
	rekey := w.sign("owner", dr, next)
	c = w.build()
	w.mustAccept(c, rekey)
	if c.NeedsRekey() {
		t.Fatal("still needs a rekey after one")
	}
	if cur, _ := c.Current(); cur.ID != next.ID() {
		t.Fatal("current epoch is not the new one")
	}
	alice, bob := Keyring{}, Keyring{}
	c.Unlock(w.person("alice").user, alice)
	secret := c.Unlock(w.person("bob").user, bob)
	if alice[next.ID()] == nil || alice[w.key.ID()] == nil {
		t.Error("alice cannot read the new and old epochs")
	}
	if bob[next.ID()] != nil {
		t.Error("kicked bob holds the new key")
	}
	if bob[w.key.ID()] == nil || string(secret) != string(w.secret) {
		t.Error("bob lost the keys and secret he was granted")
	}
}

func mustState(t *testing.T, o *Op) StateBody {
	t.Helper()
	s, err := o.State()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNonMembersAndSelfGrants(t *testing.T) {
	w := newWorld(t)
	admin := w.role("owner", "admin", PermAdministrator, 10)
	w.join("owner", "mallory")
	ops := []*Op{
		w.state("stranger", KindChannelPut, StateBody{Info: &Info{Name: "spam"}}, nil),
		w.state("stranger", KindProfile, StateBody{Info: &Info{Name: "x"}}, nil),
		w.grant("mallory", "mallory", admin),
		w.role("mallory", "mine", PermAdministrator, 1),
		w.state("mallory", KindKick, StateBody{User: w.uid("owner")}, nil),
		w.state("mallory", KindDissolve, StateBody{}, nil),
	}
	c := w.build()
	w.mustReject(c, ops...)
	for _, o := range ops {
		if !errors.Is(c.Rejected[o.ID], ErrUnauthorized) {
			t.Errorf("%s rejected with %v", o.Kind, c.Rejected[o.ID])
		}
	}
}

func TestRoleHierarchy(t *testing.T) {
	w := newWorld(t)
	high := w.role("owner", "high", PermManageRoles|PermKick, 10)
	low := w.role("owner", "low", PermKick, 5)
	top := w.role("owner", "top", PermBan, 20)
	w.join("owner", "mod")
	w.join("owner", "peer")
	w.grant("owner", "mod", high)
	w.grant("owner", "peer", high)
	ok := w.grant("mod", "mod", high, low)
	bad := []*Op{
		w.grant("mod", "mod", high, low, top),                         // above itself
		w.state("mod", KindKick, StateBody{User: w.uid("peer")}, nil), // an equal
		w.role("mod", "equal", PermKick, 10),
		w.role("mod", "wider", PermBan, 2), // a permission it lacks
	}
	c := w.build()
	w.mustAccept(c, ok)
	w.mustReject(c, bad...)
}

func TestConcurrentKickVoidsActions(t *testing.T) {
	w := newWorld(t)
	admin := w.role("owner", "admin", PermAdministrator, 10)
	w.join("owner", "eve")
	w.join("owner", "carol")
	w.grant("owner", "eve", admin)
	base := heads(w.ops)
	kick := w.state("owner", KindKick, StateBody{User: w.uid("eve")}, base)
	// Eve, not having seen the kick, acts.
	evil := []*Op{
		w.state("eve", KindKick, StateBody{User: w.uid("carol")}, base),
		w.state("eve", KindChannelPut, StateBody{Info: &Info{Name: "mine"}}, base),
	}
	// And after the kick.
	after := w.state("eve", KindProfile, StateBody{Info: &Info{Name: "still here"}}, nil)
	c := w.build()
	w.mustAccept(c, kick)
	w.mustReject(c, append(evil, after)...)
	if c.Members[w.uid("carol")].State != Joined {
		t.Error("carol was kicked by a voided op")
	}
}

func TestConcurrentDemotionVoidsUse(t *testing.T) {
	w := newWorld(t)
	admin := w.role("owner", "admin", PermKick|PermBan, 10)
	w.join("owner", "dan")
	w.join("owner", "victim")
	w.grant("owner", "dan", admin)
	base := heads(w.ops)
	demote := w.state("owner", KindMemberRoles, StateBody{User: w.uid("dan")}, base)
	kick := w.state("dan", KindKick, StateBody{User: w.uid("victim")}, base)
	profile := w.state("dan", KindProfile, StateBody{Info: &Info{Name: "Dan"}}, base)
	c := w.build()
	w.mustAccept(c, demote, profile)
	w.mustReject(c, kick)
	if c.Members[w.uid("victim")].State != Joined {
		t.Error("victim kicked by a demoted admin")
	}
}

func TestMutualRemovalsCancel(t *testing.T) {
	w := newWorld(t)
	low := w.role("owner", "low", PermKick, 5)
	high := w.role("owner", "high", PermKick, 10)
	w.join("owner", "a")
	w.join("owner", "b")
	w.grant("owner", "a", high)
	w.grant("owner", "b", low)
	base := heads(w.ops)
	// a kicks b, while the owner, concurrently, raises b above a and b
	// then kicks a: each kick was allowed in its own past.
	aKicksB := w.state("a", KindKick, StateBody{User: w.uid("b")}, base)
	roles := []ID{high.ID, low.ID}
	slices.SortFunc(roles, ID.Compare)
	raise := w.state("owner", KindMemberRoles, StateBody{User: w.uid("b"), Roles: roles}, base)
	lower := w.state("owner", KindMemberRoles, StateBody{User: w.uid("a"), Roles: []ID{low.ID}}, after(raise))
	bKicksA := w.state("b", KindKick, StateBody{User: w.uid("a")}, after(lower))
	c := w.build()
	w.mustAccept(c, raise, lower)
	w.mustReject(c, aKicksB, bKicksA)
	if c.Members[w.uid("a")].State != Joined || c.Members[w.uid("b")].State != Joined {
		t.Errorf("a %v, b %v: mutual removals must cancel", c.Members[w.uid("a")].State, c.Members[w.uid("b")].State)
	}
}

func TestRemovalBeatsConcurrentLeave(t *testing.T) {
	w := newWorld(t)
	w.join("owner", "a")
	base := heads(w.ops)
	kick := w.state("owner", KindKick, StateBody{User: w.uid("a")}, base)
	leave := w.state("a", KindLeave, StateBody{}, base)
	c := w.build()
	w.mustAccept(c, kick)
	w.mustReject(c, leave)
	if c.Members[w.uid("a")].State != Kicked {
		t.Errorf("a is %v", c.Members[w.uid("a")].State)
	}
}

func TestInviteRules(t *testing.T) {
	w := newWorld(t)
	w.role("owner", "x", PermKick, 1)
	_, once := w.invite("owner", 0, 1, nil)
	a := w.admit("owner", "a", once, nil)
	usedUp := w.admit("owner", "b", once, nil)

	_, expiring := w.invite("owner", testNow.Add(-time.Hour).UnixMilli(), 0, nil)
	expired := w.admit("owner", "c", expiring, nil)

	revokedOp, revoked := w.invite("owner", 0, 0, nil)
	w.stateOn("owner", KindInviteRevoke, revokedOp.ID, StateBody{})
	afterRevoke := w.admit("owner", "d", revoked, nil)

	_, open := w.invite("owner", 0, 0, nil)
	e := w.admit("owner", "e", open, nil)
	replay := w.admit("owner", "e", open, nil)

	// A proof for one user does not admit another.
	dr, err := AdmitDraft(w.build(), 0, open.Invite, w.uid("f"), open.Prove(w.uid("g")), w.secret, w.person("owner").keys)
	if err != nil {
		t.Fatal(err)
	}
	stolen := w.sign("owner", dr, nil)

	ban := w.state("owner", KindBan, StateBody{User: w.uid("e")}, nil)
	rejoin := w.admit("owner", "e", open, nil)

	c := w.build()
	w.mustAccept(c, a, e, ban)
	w.mustReject(c, usedUp, expired, afterRevoke, replay, stolen, rejoin)
	if !c.Banned[w.uid("e")] || c.Members[w.uid("e")].State != Banned {
		t.Errorf("e not banned: %+v", c.Members[w.uid("e")])
	}
	// Each refusal says why, as a typed reason within ErrUnauthorized.
	for _, r := range []struct {
		op   *Op
		why  error
		text string
	}{
		{usedUp, ErrInviteUsedUp, "unauthorized op: invite used up"},
		{expired, ErrInviteExpired, "unauthorized op: invite expired"},
		{afterRevoke, ErrInviteRevoked, "unauthorized op: invite revoked"},
		{stolen, ErrBadProof, "unauthorized op: bad invite proof"},
		{rejoin, ErrBanned, "unauthorized op: user is banned"},
	} {
		err := c.Rejected[r.op.ID]
		if !errors.Is(err, ErrUnauthorized) || !errors.Is(err, r.why) || err.Error() != r.text {
			t.Errorf("rejected with %v, want %q", err, r.text)
		}
	}
	if err := c.Rejected[replay.ID]; !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrBanned) || errors.Is(err, ErrBadProof) {
		t.Errorf("a second admission is refused with %v, want no joiner's reason", err)
	}

	unban := w.state("owner", KindUnban, StateBody{User: w.uid("e")}, nil)
	back := w.admit("owner", "e", open, nil)
	c = w.build()
	w.mustAccept(c, unban, back)
}

// TestCheckInvite: what a member checks before it drafts an admission (or
// shows the community to an invite's holder) gives the reason an admit op
// would be refused for.
func TestCheckInvite(t *testing.T) {
	w := newWorld(t)
	now := testNow.UnixMilli()
	onceOp, once := w.invite("owner", 0, 1, nil)
	w.admit("owner", "a", once, nil)
	expiringOp, _ := w.invite("owner", now+1000, 0, nil)
	revokedOp, _ := w.invite("owner", 0, 0, nil)
	w.stateOn("owner", KindInviteRevoke, revokedOp.ID, StateBody{})
	openOp, _ := w.invite("owner", 0, 0, nil)
	w.state("owner", KindBan, StateBody{User: w.uid("banned")}, nil)
	c := w.build()

	for _, tc := range []struct {
		name   string
		invite ID
		user   string
		now    int64
		want   error
	}{
		{"open", openOp.ID, "b", now, nil},
		{"not expired yet", expiringOp.ID, "b", now, nil},
		{"expired", expiringOp.ID, "b", now + 1001, ErrInviteExpired},
		{"used up", onceOp.ID, "b", now, ErrInviteUsedUp},
		{"revoked", revokedOp.ID, "b", now, ErrInviteRevoked},
		{"unknown", testIDs(1)[0], "b", now, ErrInviteUnknown},
		{"banned", openOp.ID, "banned", now, ErrBanned},
	} {
		inv, err := c.CheckInvite(tc.invite, w.uid(tc.user), tc.now)
		switch {
		case tc.want == nil && (err != nil || inv == nil || inv.ID != tc.invite):
			t.Errorf("%s: %v, %v", tc.name, inv, err)
		case tc.want != nil && (!errors.Is(err, tc.want) || !errors.Is(err, ErrUnauthorized) || inv != nil):
			t.Errorf("%s: %v, %v; want %v", tc.name, inv, err, tc.want)
		}
	}

	w.state("owner", KindDissolve, StateBody{}, nil)
	if _, err := w.build().CheckInvite(openOp.ID, w.uid("b"), now); !errors.Is(err, ErrDissolved) {
		t.Errorf("dissolved: %v", err)
	}
}

// A leave concurrent with a second admission of the same user ends both
// memberships (a removal wins), so a later admission is a readmission
// after a removal: the case TestCommunityProperties once flagged, with
// the ops it drew (two invites redeemed for u4 at once, u4 leaving from
// one of them, and a third invite admitting u4 again after both).
func TestLeaveEndsConcurrentAdmissions(t *testing.T) {
	w := newWorld(t)
	g := w.ops[0]
	invA, a := w.invite("owner", 0, 0, after(g))
	invB, b := w.invite("owner", 0, 0, after(g))
	first := w.admit("owner", "u4", a, after(invA))
	second := w.admit("owner", "u4", b, after(invB)) // concurrent with first
	leave := w.state("u4", KindLeave, StateBody{}, after(second))
	invC, cInv := w.invite("owner", 0, 0, after(first, leave))

	c := w.build()
	w.mustAccept(c, first, second, leave)
	if m := c.Members[w.uid("u4")]; m == nil || m.State != Left || m.Removed != leave {
		t.Fatalf("after the leave u4 is %+v, want left", m)
	}
	again := w.admit("owner", "u4", cInv, after(invC))
	c = w.build()
	w.mustAccept(c, again)
	if m := c.Members[w.uid("u4")]; m == nil || m.State != Joined || m.Joined != again {
		t.Fatalf("u4 is %+v, want joined by the readmission", m)
	}
	if a1 := unremovedAdmission(c, w.ops, again, ancestry(w.ops)); a1 != nil {
		t.Errorf("readmission model: admission %s still stands in the readmission's past", a1.ID)
	}
}

// A readmission after a removal counts even when an admission concurrent
// with the removal (which the removal defeats) sorts after it: membership
// is decided by every join, not only the latest in (HLC, ID) order.
func TestReadmissionBeatsLaterConcurrentAdmission(t *testing.T) {
	w := newWorld(t)
	g := w.ops[0]
	invA, a := w.invite("owner", 0, 0, after(g))
	invB, b := w.invite("owner", 0, 0, after(g))
	first := w.admit("owner", "u4", a, after(invA))
	leave := w.state("u4", KindLeave, StateBody{}, after(first))
	invC, cInv := w.invite("owner", 0, 0, after(leave))
	again := w.admit("owner", "u4", cInv, after(invC))
	// Signed last, so it sorts last, but concurrent with the leave and
	// the readmission.
	late := w.admit("owner", "u4", b, after(invB))
	w.unlock("u4")
	profile := w.state("u4", KindProfile, StateBody{Info: &Info{Name: "u4"}}, after(again))

	reversed := slices.Clone(w.ops)
	slices.Reverse(reversed)
	for _, ops := range [][]*Op{w.ops, reversed} {
		c := BuildCommunity(w.id, ops)
		w.mustAccept(c, first, leave, again, late, profile)
		if m := c.Members[w.uid("u4")]; m == nil || m.State != Joined || m.Joined != again {
			t.Fatalf("u4 is %+v, want joined by the readmission", m)
		}
		if member, _, _ := c.Standing(w.uid("u4")); !member {
			t.Error("u4 has no standing")
		}
	}
}

// An admission defeated by a concurrent removal may sort after it; the
// state still shows the user removed by that removal, not joined.
func TestDefeatedAdmissionSortingLast(t *testing.T) {
	w := newWorld(t)
	g := w.ops[0]
	invA, a := w.invite("owner", 0, 0, after(g))
	invB, b := w.invite("owner", 0, 0, after(g))
	first := w.admit("owner", "u4", a, after(invA))
	leave := w.state("u4", KindLeave, StateBody{}, after(first))
	late := w.admit("owner", "u4", b, after(invB)) // concurrent with both, sorts last

	c := w.build()
	w.mustAccept(c, first, leave, late)
	if m := c.Members[w.uid("u4")]; m == nil || m.State != Left || m.Removed != leave || m.Joined != late {
		t.Fatalf("u4 is %+v, want left by the leave", m)
	}
	if member, _, _ := c.Standing(w.uid("u4")); member {
		t.Error("u4 still has standing")
	}
	if slices.Contains(c.MemberUsers(), w.uid("u4")) {
		t.Error("u4 listed as a member")
	}
}

// Concurrent admissions of one user make one membership: roles given
// after either of them hold, whichever admission sorts last.
func TestRolesAfterEitherConcurrentAdmission(t *testing.T) {
	w := newWorld(t)
	g := w.ops[0]
	mod := w.role("owner", "mod", PermKick, 5)
	invA, a := w.invite("owner", 0, 0, after(mod))
	invB, b := w.invite("owner", 0, 0, after(g))
	first := w.admit("owner", "u4", a, after(invA))
	grant := w.state("owner", KindMemberRoles, StateBody{User: w.uid("u4"), Roles: []ID{mod.ID}}, after(first))
	late := w.admit("owner", "u4", b, after(invB)) // concurrent with both, sorts last

	c := w.build()
	w.mustAccept(c, first, grant, late)
	if m := c.Members[w.uid("u4")]; m == nil || m.State != Joined || !slices.Equal(m.Roles, []ID{mod.ID}) {
		t.Fatalf("u4 is %+v, want joined with the mod role", m)
	}
	if _, perms, top := c.Standing(w.uid("u4")); !perms.Has(PermKick) || top != 5 {
		t.Errorf("u4 perms %s top %d", perms, top)
	}
}
