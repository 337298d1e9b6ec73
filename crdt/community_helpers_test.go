package crdt

import (
	"slices"
	"testing"
)

// world authors community-state ops for tests: named people, each with a
// user and a device, a shared clock, and the ops so far.
type world struct {
	t      testing.TB
	people map[string]*person
	key    *EpochKey // epoch 0
	clock  HLC
	ops    []*Op
	id     ID
	secret []byte
}

type person struct {
	user *User
	dev  *Device
	keys Keyring
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, people: map[string]*person{}, key: newTestKey(t), clock: hlcAt(0, 0), secret: []byte("topic secret")}
	g := w.sign("owner", Draft{Kind: KindGenesis, State: &StateBody{Info: &Info{Name: "Test"}}}, w.key)
	w.id = g.ID
	w.person("owner").keys[w.key.ID()] = w.key
	return w
}

func (w *world) person(name string) *person {
	p := w.people[name]
	if p == nil {
		u := newTestUser(w.t)
		p = &person{user: u, dev: newTestDevice(w.t, u), keys: Keyring{}}
		w.people[name] = p
	}
	return p
}

func (w *world) uid(name string) UserID { return w.person(name).user.ID() }

// sign signs dr as name: the community, a fresh HLC above its parents
// and, when dr names none, every op so far as parents.
func (w *world) sign(name string, dr Draft, key *EpochKey) *Op {
	w.t.Helper()
	if dr.Kind != KindGenesis {
		dr.Community = w.id
		if dr.Parents == nil {
			dr.Parents = heads(w.ops)
		}
	}
	w.clock++
	dr.HLC = w.clock
	op := mustSign(w.t, w.person(name).dev, dr, key)
	w.ops = append(w.ops, op)
	return op
}

// heads returns the ops of ops that no other op of ops cites.
func heads(ops []*Op) []ID {
	cited := map[ID]bool{}
	for _, o := range ops {
		for _, p := range o.Parents {
			cited[p] = true
		}
	}
	var hs []ID
	for _, o := range ops {
		if !cited[o.ID] && !slices.Contains(hs, o.ID) {
			hs = append(hs, o.ID)
		}
	}
	if len(hs) > MaxParents {
		hs = hs[len(hs)-MaxParents:]
	}
	return hs
}

// after returns parents naming exactly ops.
func after(ops ...*Op) []ID {
	ids := make([]ID, len(ops))
	for i, o := range ops {
		ids[i] = o.ID
	}
	return ids
}

func (w *world) build() *Community { return BuildCommunity(w.id, w.ops) }

func (w *world) state(name string, k Kind, s StateBody, parents []ID) *Op {
	w.t.Helper()
	return w.sign(name, Draft{Kind: k, State: &s, Parents: parents}, w.key)
}

// stateOn signs a state op of name's acting on target, after everything.
func (w *world) stateOn(name string, k Kind, target ID, s StateBody) *Op {
	w.t.Helper()
	return w.sign(name, Draft{Kind: k, Target: target, State: &s}, w.key)
}

// invite has name create an invite; it returns the op and the link's
// content.
func (w *world) invite(name string, expires int64, maxUses uint32, parents []ID) (*Op, Invite) {
	w.t.Helper()
	seed, pub, err := NewInviteKey()
	if err != nil {
		w.t.Fatal(err)
	}
	op := w.state(name, KindInvite, StateBody{InviteKey: pub, Expires: expires, MaxUses: maxUses}, parents)
	return op, Invite{Community: w.id, Invite: op.ID, Seed: seed}
}

// admit has admitter admit joiner through inv, as the causal past parents
// (nil: everything so far) sees the community.
func (w *world) admit(admitter, joiner string, inv Invite, parents []ID) *Op {
	w.t.Helper()
	view := w.build()
	if parents != nil {
		view = BuildCommunity(w.id, w.past(parents))
	}
	dr, err := AdmitDraft(view, 0, inv.Invite, w.uid(joiner), inv.Prove(w.uid(joiner)), w.secret, w.person(admitter).keys)
	if err != nil {
		w.t.Fatal(err)
	}
	dr.Parents = parents
	return w.sign(admitter, dr, nil)
}

// join runs the whole invite flow: owner-made invite unless inv is given,
// admission, and the joiner unlocking its keys.
func (w *world) join(admitter, joiner string) *Op {
	w.t.Helper()
	_, inv := w.invite(admitter, 0, 0, nil)
	op := w.admit(admitter, joiner, inv, nil)
	w.unlock(joiner)
	return op
}

func (w *world) unlock(name string) {
	p := w.person(name)
	w.build().Unlock(p.user, p.keys)
}

// past returns the ops among w.ops that are parents or ancestors of ids.
func (w *world) past(ids []ID) []*Op {
	byID := map[ID]*Op{}
	for _, o := range w.ops {
		byID[o.ID] = o
	}
	var out []*Op
	seen := map[ID]bool{}
	var walk func(id ID)
	walk = func(id ID) {
		if seen[id] {
			return
		}
		seen[id] = true
		o := byID[id]
		for _, p := range o.Parents {
			walk(p)
		}
		out = append(out, o)
	}
	for _, id := range ids {
		walk(id)
	}
	return out
}

// role has name create a role with perms at position pos.
func (w *world) role(name, roleName string, perms Perm, pos int64) *Op {
	w.t.Helper()
	return w.state(name, KindRolePut, StateBody{Info: &Info{Name: roleName}, Perms: &perms, Position: &pos}, nil)
}

func (w *world) grant(name, member string, roles ...*Op) *Op {
	w.t.Helper()
	ids := make([]ID, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	slices.SortFunc(ids, ID.Compare)
	return w.state(name, KindMemberRoles, StateBody{User: w.uid(member), Roles: ids}, nil)
}

func (w *world) mustAccept(c *Community, ops ...*Op) {
	w.t.Helper()
	for _, o := range ops {
		if !c.Contains(o.ID) {
			w.t.Errorf("%s op rejected: %v", o.Kind, c.Rejected[o.ID])
		}
	}
}

func (w *world) mustReject(c *Community, ops ...*Op) {
	w.t.Helper()
	for _, o := range ops {
		if c.Contains(o.ID) {
			w.t.Errorf("%s op accepted", o.Kind)
		}
	}
}
