package crdt

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The community property test. Three replicas author ops from their own
// partial views (which makes concurrency common) and now and then merge.
// Honest members act within their rights as their view shows them; mixed
// in are adversarial ops that must never take effect: a stranger's ops, a
// member granting itself roles or acting beyond its permissions, a removed
// member acting after its removal, admissions through replayed, expired,
// revoked or stolen invites, and ops with forged signatures. Then:
//
//   - every order and duplication of the ops builds the same state;
//   - no adversarial op is accepted;
//   - no accepted op of a removed user is concurrent with its removal.
func TestCommunityProperties(t *testing.T) {
	names := []string{"owner", "u1", "u2", "u3", "u4"}
	rapid.Check(t, func(rt *rapid.T) {
		w := newWorld(t)
		p := &propertyRun{w: w, rt: rt, names: names, verifier: NewVerifier()}
		p.replicas = [][]*Op{slices.Clone(w.ops), slices.Clone(w.ops), slices.Clone(w.ops)}
		steps := rapid.IntRange(10, 60).Draw(rt, "steps")
		for range steps {
			r := rapid.IntRange(0, 2).Draw(rt, "replica")
			if rapid.IntRange(0, 5).Draw(rt, "merge?") == 0 {
				s := rapid.IntRange(0, 2).Draw(rt, "from")
				p.replicas[r] = union(p.replicas[r], p.replicas[s])
				continue
			}
			p.step(r)
		}

		all := w.ops
		ref := BuildCommunity(w.id, all)
		// Any order, any duplication.
		shuffled := rapid.Permutation(append(slices.Clone(all), all[:rapid.IntRange(0, len(all)).Draw(rt, "dups")]...)).Draw(rt, "order")
		again := BuildCommunity(w.id, shuffled)
		for _, o := range all {
			if ref.Contains(o.ID) != again.Contains(o.ID) {
				rt.Fatalf("%s op accepted in one order only", o.Kind)
			}
		}
		if fmt.Sprint(summary(ref)) != fmt.Sprint(summary(again)) {
			rt.Fatalf("states differ:\n%v\n%v", summary(ref), summary(again))
		}
		for _, o := range p.bad {
			if ref.Contains(o.ID) {
				rt.Fatalf("adversarial %s op by %s accepted (%s)", o.Kind, p.nameOf(o.User()), p.why[o.ID])
			}
		}
		p.checkRemovals(ref)
		p.checkMembers(ref)
	})
}

type propertyRun struct {
	w        *world
	rt       *rapid.T
	names    []string
	replicas [][]*Op
	invites  []Invite
	bad      []*Op
	why      map[ID]string
	verifier *Verifier
}

func (p *propertyRun) nameOf(u UserID) string {
	for n, q := range p.w.people {
		if q.user.ID() == u {
			return n
		}
	}
	return "?"
}

func union(a, b []*Op) []*Op {
	seen := map[ID]bool{}
	var out []*Op
	for _, o := range append(slices.Clone(a), b...) {
		if !seen[o.ID] {
			seen[o.ID] = true
			out = append(out, o)
		}
	}
	return out
}

// step has someone at replica r author one op from r's view.
func (p *propertyRun) step(r int) {
	rt, w := p.rt, p.w
	view := BuildCommunity(w.id, p.replicas[r])
	parents := heads(p.replicas[r])
	// Mostly members of this view act; sometimes anyone.
	var members []string
	for _, n := range p.names {
		if m := view.Members[w.uid(n)]; m != nil && m.State == Joined {
			members = append(members, n)
		}
	}
	name := rapid.SampledFrom(append(p.names, "stranger")).Draw(rt, "anyone")
	if rapid.IntRange(0, 4).Draw(rt, "member acts?") > 0 {
		name = rapid.SampledFrom(members).Draw(rt, "member")
	}
	me := w.uid(name)
	member, perms, _ := view.Standing(me)
	others := rapid.SampledFrom(p.names).Draw(rt, "other")
	var roles []ID
	for id := range view.Roles {
		if id != view.ID {
			roles = append(roles, id)
		}
	}
	slices.SortFunc(roles, ID.Compare)

	var op *Op
	bad := ""
	add := func(o *Op, why string) {
		op = o
		bad = why
	}
	switch rapid.IntRange(0, 13).Draw(rt, "action") {
	case 0: // invite, some already expired
		expires := rapid.SampledFrom([]int64{0, 0, testNow.UnixMilli() - 1}).Draw(rt, "expires")
		o, inv := w.invite(name, expires, uint32(rapid.IntRange(0, 2).Draw(rt, "max uses")), parents)
		inv.Expires = expires
		p.invites = append(p.invites, inv)
		add(o, "")
	case 12: // revoke an invite
		if len(p.invites) == 0 {
			return
		}
		inv := rapid.SampledFrom(p.invites).Draw(rt, "invite")
		add(w.sign(name, Draft{Kind: KindInviteRevoke, Target: inv.Invite, Parents: parents, State: &StateBody{}}, nil), "")
	case 1, 2, 13: // admit through some invite, mostly one this view knows
		var known []Invite
		for _, inv := range p.invites {
			if view.Invites[inv.Invite] != nil {
				known = append(known, inv)
			}
		}
		if len(p.invites) == 0 {
			return
		}
		inv := rapid.SampledFrom(p.invites).Draw(rt, "invite")
		if len(known) > 0 && rapid.IntRange(0, 3).Draw(rt, "known invite?") > 0 {
			inv = rapid.SampledFrom(known).Draw(rt, "known invite")
		}
		if member {
			// Admitters need the keys their view can grant.
			view.Unlock(w.person(name).user, w.person(name).keys)
		}
		dr, err := AdmitDraft(view, 0, inv.Invite, w.uid(others), inv.Prove(w.uid(others)), w.secret, w.person(name).keys)
		if err != nil {
			return // no keys: a non-member
		}
		dr.Parents = parents
		o := w.sign(name, dr, nil)
		// Only the owner's ops can never be voided, so only theirs
		// make a tag certain.
		why := ""
		for _, x := range p.replicas[r] {
			if x.User() != w.uid("owner") || !view.Contains(x.ID) {
				continue
			}
			switch {
			case x.Kind == KindInviteRevoke && x.Target == inv.Invite:
				why = "revoked invite"
			case x.Kind == KindBan && mustStateRT(rt, x).User == w.uid(others):
				why = "banned joiner"
			case x.Kind == KindUnban && mustStateRT(rt, x).User == w.uid(others):
				why = ""
			}
		}
		if inv.Expires != 0 {
			why = "expired invite"
		}
		add(o, why)
	case 3: // stolen or expired invite
		if len(p.invites) == 0 {
			return
		}
		inv := rapid.SampledFrom(p.invites).Draw(rt, "invite")
		view.Unlock(w.person(name).user, w.person(name).keys)
		dr, err := AdmitDraft(view, 0, inv.Invite, w.uid("stranger"), inv.Prove(w.uid(others)), w.secret, w.person(name).keys)
		if err != nil {
			return
		}
		dr.Parents = parents
		add(w.sign(name, dr, nil), "stolen proof")
	case 4: // kick or ban
		k := rapid.SampledFrom([]Kind{KindKick, KindBan}).Draw(rt, "removal")
		add(w.state(name, k, StateBody{User: w.uid(others)}, parents), "")
	case 5: // leave
		add(w.state(name, KindLeave, StateBody{}, parents), "")
	case 6: // role
		perm := Perm(rapid.Uint64Range(0, uint64(permAll)).Draw(rt, "perms"))
		pos := int64(rapid.IntRange(1, 20).Draw(rt, "position"))
		why := ""
		if member && !perms.Has(PermManageRoles) {
			why = "role without manage-roles"
		}
		add(w.state(name, KindRolePut, StateBody{Info: &Info{Name: "r"}, Perms: &perm, Position: &pos}, parents), why)
	case 7, 8: // assign roles (often to oneself)
		if len(roles) == 0 {
			return
		}
		target := others
		if rapid.Bool().Draw(rt, "self?") {
			target = name
		}
		pick := rapid.SliceOfNDistinct(rapid.SampledFrom(roles), 1, len(roles), func(id ID) string { return id.String() }).Draw(rt, "roles")
		slices.SortFunc(pick, ID.Compare)
		why := ""
		if member && !perms.Has(PermManageRoles) {
			why = "roles without manage-roles"
		}
		add(w.state(name, KindMemberRoles, StateBody{User: w.uid(target), Roles: pick}, parents), why)
	case 9: // channel
		add(w.state(name, KindChannelPut, StateBody{Info: &Info{Name: "c"}}, parents), "")
	case 10: // rekey
		if !member {
			return
		}
		view.Unlock(w.person(name).user, w.person(name).keys)
		next := newTestKey(p.w.t)
		dr, err := RekeyDraft(view, 0, next, w.person(name).keys)
		if err != nil {
			return
		}
		dr.Parents = parents
		add(w.sign(name, dr, next), "")
	case 11: // a forged signature: never even decodes
		o := w.state(name, KindProfile, StateBody{Info: &Info{Name: "forged"}}, parents)
		enc := slices.Clone(o.Encoded())
		enc[len(enc)-1] ^= 1
		if _, err := p.verifier.Decode(enc, testNow.Add(time.Hour)); err == nil {
			rt.Fatal("forged signature decoded")
		}
		add(o, "")
	}
	if op == nil {
		return
	}
	// Views can be overruled by ops they have not seen (a voided
	// admission, a voided kick), so an op is tagged as adversarial only
	// when no history could make it valid.
	if bad == "role without manage-roles" || bad == "roles without manage-roles" {
		if !p.onlyDefaults(name, r) {
			bad = ""
		}
	}
	if !member && !p.everAdmitted(name, r) {
		bad = "non-member author"
	}
	if name == "stranger" {
		bad = "stranger"
	}
	if bad != "" {
		if p.why == nil {
			p.why = map[ID]string{}
		}
		p.bad = append(p.bad, op)
		p.why[op.ID] = bad
	}
	p.replicas[r] = append(p.replicas[r], op)
}

// everAdmitted reports whether replica r holds any admission of name.
func (p *propertyRun) everAdmitted(name string, r int) bool {
	if name == "owner" {
		return true
	}
	for _, o := range p.replicas[r] {
		if o.Kind == KindAdmit && mustStateRT(p.rt, o).User == p.w.uid(name) {
			return true
		}
	}
	return false
}

// onlyDefaults reports whether, in replica r, nothing could have given
// name more than @everyone's default permissions.
func (p *propertyRun) onlyDefaults(name string, r int) bool {
	if name == "owner" {
		return false
	}
	for _, o := range p.replicas[r] {
		if o.Kind == KindMemberRoles && mustStateRT(p.rt, o).User == p.w.uid(name) ||
			o.Kind == KindRolePut && o.Target == p.w.id {
			return false
		}
	}
	return true
}

// checkRemovals verifies the removal rule on the final state with its own
// ancestry walk.
func (p *propertyRun) checkRemovals(c *Community) {
	ancestor := ancestry(p.w.ops)
	for _, r := range p.w.ops {
		if !c.Contains(r.ID) {
			continue
		}
		if r.Kind == KindAdmit {
			if a1 := unremovedAdmission(c, p.w.ops, r, ancestor); a1 != nil {
				p.rt.Fatalf("%s admitted twice without a removal between", p.nameOf(mustStateRT(p.rt, r).User))
			}
		}
		var u UserID
		switch r.Kind {
		case KindKick, KindBan:
			u = mustStateRT(p.rt, r).User
		case KindLeave:
			u = r.User()
		default:
			continue
		}
		for _, x := range p.w.ops {
			if x == r || x.User() != u || !c.Contains(x.ID) || ancestor(x, r) {
				continue
			}
			if !ancestor(r, x) {
				p.rt.Fatalf("%s of %s accepted concurrently with its %s", x.Kind, p.nameOf(u), r.Kind)
			}
			// After the removal: only through a later admission.
			readmitted := slices.ContainsFunc(p.w.ops, func(a *Op) bool {
				return a.Kind == KindAdmit && c.Contains(a.ID) && mustStateRT(p.rt, a).User == u &&
					ancestor(r, a) && ancestor(a, x)
			})
			if !readmitted {
				p.rt.Fatalf("%s of %s accepted after its %s", x.Kind, p.nameOf(u), r.Kind)
			}
		}
	}
}

// checkMembers verifies who the final state shows as joined against the
// rule with its own walk: a user is a member when some accepted join
// (genesis or admission) of theirs has every accepted removal of them in
// its past.
func (p *propertyRun) checkMembers(c *Community) {
	ancestor := ancestry(p.w.ops)
	for _, n := range append(p.names, "stranger") {
		u := p.w.uid(n)
		want := slices.ContainsFunc(p.w.ops, func(j *Op) bool {
			s, _ := j.State()
			if !c.Contains(j.ID) || !(j.Kind == KindGenesis && j.User() == u || j.Kind == KindAdmit && s.User == u) {
				return false
			}
			return !slices.ContainsFunc(p.w.ops, func(r *Op) bool {
				return removes(r, u) && c.Contains(r.ID) && !ancestor(r, j)
			})
		})
		m := c.Members[u]
		if got := m != nil && m.State == Joined; got != want {
			p.rt.Fatalf("%s joined %v, want %v", n, got, want)
		}
	}
}

// ancestry returns whether op a is an ancestor of op of, over ops.
func ancestry(ops []*Op) func(a, of *Op) bool {
	byID := map[ID]*Op{}
	for _, o := range ops {
		byID[o.ID] = o
	}
	return func(a, of *Op) bool {
		seen := map[ID]bool{}
		stack := slices.Clone(of.Parents)
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if id == a.ID {
				return true
			}
			if !seen[id] {
				seen[id] = true
				stack = append(stack, byID[id].Parents...)
			}
		}
		return false
	}
}

// removes reports whether r is a removal (kick, ban, leave) of u.
func removes(r *Op, u UserID) bool {
	s, _ := r.State()
	return (r.Kind == KindKick || r.Kind == KindBan) && s.User == u || r.Kind == KindLeave && r.User() == u
}

// unremovedAdmission returns an accepted admission of a2's user, earlier
// than a2 (an ancestor of it), whose membership still stood in a2's causal
// past, or nil. a1 stands there unless some accepted removal of the user
// in a2's past is not in a1's past: a removal after a1 ends it, and so
// does one concurrent with a1 ("a removal wins" over a concurrent
// admission, docs/protocol.md). Admissions concurrent with a2 are not
// readmissions: two members admitting the same user at once make one
// membership, and both stay accepted.
func unremovedAdmission(c *Community, ops []*Op, a2 *Op, ancestor func(a, of *Op) bool) *Op {
	s2, _ := a2.State()
	u := s2.User
	for _, a1 := range ops {
		if s1, _ := a1.State(); a1.Kind != KindAdmit || !c.Contains(a1.ID) || s1.User != u || !ancestor(a1, a2) {
			continue
		}
		ended := slices.ContainsFunc(ops, func(r *Op) bool {
			return removes(r, u) && c.Contains(r.ID) && ancestor(r, a2) && !ancestor(r, a1)
		})
		if !ended {
			return a1
		}
	}
	return nil
}

func mustStateRT(rt *rapid.T, o *Op) StateBody {
	s, err := o.State()
	if err != nil {
		rt.Fatal(err)
	}
	return s
}

// summary renders what a community state shows, for comparison.
func summary(c *Community) []string {
	var out []string
	for u, m := range c.Members {
		out = append(out, fmt.Sprintf("member %x %d %v", u[:4], m.State, m.Roles))
	}
	for id, ch := range c.Channels {
		out = append(out, fmt.Sprintf("channel %s %v %d", id, ch.Deleted, ch.Position))
	}
	for id, r := range c.Roles {
		out = append(out, fmt.Sprintf("role %s %s %d %v", id, r.Perms, r.Position, r.Deleted))
	}
	for id, inv := range c.Invites {
		out = append(out, fmt.Sprintf("invite %s %d %v", id, inv.Uses, inv.Revoked))
	}
	for _, e := range c.Epochs {
		out = append(out, fmt.Sprintf("epoch %x", e.ID))
	}
	slices.Sort(out)
	return out
}
