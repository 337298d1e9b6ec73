package crdt

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// The community view. A community's state is a deterministic function of
// the set of its state ops, computed by BuildCommunity:
//
//  1. Ops are ordered by (HLC, ID). An op's HLC must exceed its parents',
//     so the order extends causality. An op waits (Pending) until all its
//     ancestors are present.
//  2. Each op is authorized against the state of its causal past: only the
//     accepted ops among its ancestors count. A grant the author had not
//     seen cannot empower it, however early its timestamp.
//  3. Concurrent conflicts are settled by two rules, applied until nothing
//     changes: a removal (kick, ban, leave) of a user voids every op of
//     that user concurrent with it, and a demotion (a role taken away, a
//     role's permission narrowed or the role deleted) voids every
//     concurrent op of the demoted user that needed a lost permission.
//     Voided ops stay void even if the op that voided them is voided in a
//     later round, which makes the process terminate; a mutual kick of two
//     admins therefore voids both kicks.
//
// Ops are never partly applied: an op is accepted or rejected whole.

// ErrUnauthorized: an op its author was not allowed to make, or that a
// conflict rule voided.
var ErrUnauthorized = errors.New("unauthorized op")

// ErrNotYet: an op that cannot be judged until more of the community's log
// arrives (an unknown channel, an author not yet admitted as far as this
// replica knows, a gap in the author's chain).
var ErrNotYet = errors.New("op cannot be authorized yet")

// Why an admission is refused, for the joiner's sake: the refusals wrap
// ErrUnauthorized and one of these, so errors.Is finds both.
var (
	ErrInviteUnknown = errors.New("invite unknown")
	ErrInviteRevoked = errors.New("invite revoked")
	ErrInviteExpired = errors.New("invite expired")
	ErrInviteUsedUp  = errors.New("invite used up")
	ErrBadProof      = errors.New("bad invite proof")
	ErrBanned        = errors.New("user is banned")
	ErrDissolved     = errors.New("community dissolved")
)

// MemberState says whether a user is in the community.
type MemberState uint8

// Member states.
const (
	Joined MemberState = iota
	Left
	Kicked
	Banned
)

// Channel is a channel of a community.
type Channel struct {
	ID       ID
	Type     ChannelType
	Position int64
	Info     *Op // the op whose sealed Info holds the current name and topic
	Created  *Op
	Deleted  bool
}

// Role is a role of a community. The @everyone role's ID is the
// community's.
type Role struct {
	ID       ID
	Perms    Perm
	Position int64 // higher outranks lower; @everyone is 0
	Info     *Op   // name and colour; nil for @everyone
	Deleted  bool
}

// Member is a user who is or was in the community.
type Member struct {
	User    UserID
	State   MemberState
	Roles   []ID // current roles besides @everyone, sorted
	Joined  *Op  // the genesis or admit op of the current or last membership
	Removed *Op  // the leave, kick or ban that ended it, if it ended
	Profile *Op  // the member's latest profile op
}

// InviteInfo is the state of an invite.
type InviteInfo struct {
	ID      ID
	Creator UserID
	Key     [32]byte
	Expires int64 // Unix ms; 0: never
	MaxUses uint32
	Uses    int
	Revoked bool
}

// Epoch is a key epoch: the genesis op's or a rekey's.
type Epoch struct {
	ID EpochID
	Op *Op
}

// Community is a community's state.
type Community struct {
	ID        ID
	Owner     UserID
	Genesis   *Op
	Meta      *Op // the op whose Info holds the current name and icon
	Dissolved bool
	Channels  map[ID]*Channel
	Roles     map[ID]*Role // includes @everyone
	Members   map[UserID]*Member
	Banned    map[UserID]bool
	Invites   map[ID]*InviteInfo
	Epochs    []Epoch // in (HLC, ID) order; the last is current
	Rejected  map[ID]error
	Pending   []ID // waiting for ancestors

	ops      []*Op
	bodies   []StateBody
	pos      map[ID]int
	anc      []bitset
	accepted bitset
	hist     map[histKey][]int
	genesis  int
}

type histKey struct {
	what byte // see the key constructors below
	id   [IDSize]byte
}

func userKey(what byte, u UserID) histKey {
	var k histKey
	k.what = what
	copy(k.id[:], u[:])
	return k
}
func idKey(what byte, id ID) histKey { return histKey{what: what, id: id} }

const (
	hMembership = 'm' // genesis, admit, leave, kick, ban — by member
	hBans       = 'b' // ban, unban — by user
	hRoles      = 'r' // member-roles — by member
	hRoleDef    = 'd' // role-put, role-delete — by role
	hChannel    = 'c' // channel-put, channel-delete — by channel
	hInvite     = 'i' // invite, revoke, admit — by invite
	hMeta       = 'M' // genesis, meta
	hEpoch      = 'e' // genesis, rekey
	hDissolve   = 'x'
)

type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) or(o bitset) {
	for i := range o {
		b[i] |= o[i]
	}
}
func (b bitset) count() (n int) {
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}
func (b bitset) subsetOf(o bitset) bool {
	for i := range b {
		if b[i]&^o[i] != 0 {
			return false
		}
	}
	return true
}

// BuildCommunity computes the state of community id from ops: its state
// ops, in any order, duplicates allowed. Ops of other logs are rejected.
func BuildCommunity(id ID, ops []*Op) *Community {
	c := &Community{ID: id, Rejected: map[ID]error{}, pos: map[ID]int{}, genesis: -1}
	sorted := make([]*Op, 0, len(ops))
	seen := map[ID]bool{}
	for _, o := range ops {
		switch {
		case seen[o.ID]:
		case !o.Kind.IsState() || o.Community != id:
			c.Rejected[o.ID] = fmt.Errorf("%w: %s op of another log", ErrUnauthorized, o.Kind)
		default:
			sorted = append(sorted, o)
		}
		seen[o.ID] = true
	}
	slices.SortFunc(sorted, func(a, b *Op) int { return StampOf(a).Compare(StampOf(b)) })

	// Keep the ops whose ancestry is complete and whose clocks rise along
	// it; number them in order.
	all := map[ID]*Op{}
	for _, o := range sorted {
		all[o.ID] = o
	}
	for _, o := range sorted {
		var why error
		pending := false
		for _, p := range o.Parents {
			q := all[p]
			switch {
			case q != nil && q.HLC >= o.HLC:
				why = fmt.Errorf("%w: clock not after its parent's", ErrUnauthorized)
			case c.Rejected[p] != nil:
				why = fmt.Errorf("%w: parent rejected", ErrUnauthorized)
			default:
				if _, ok := c.pos[p]; !ok {
					pending = true // absent, or waiting itself
				}
			}
		}
		body, err := o.State()
		switch {
		case why != nil:
			c.Rejected[o.ID] = why
		case pending:
			c.Pending = append(c.Pending, o.ID)
		case err != nil:
			c.Rejected[o.ID] = err
		default:
			c.pos[o.ID] = len(c.ops)
			c.ops = append(c.ops, o)
			c.bodies = append(c.bodies, body)
		}
	}
	n := len(c.ops)
	c.anc = make([]bitset, n)
	for i, o := range c.ops {
		c.anc[i] = newBitset(n)
		for _, p := range o.Parents {
			j := c.pos[p]
			c.anc[i].or(c.anc[j])
			c.anc[i].set(j)
		}
	}

	void := newBitset(n)
	reasons := make([]error, n)
	for {
		c.replay(void, reasons)
		more := c.conflicts()
		if more.subsetOf(void) {
			break
		}
		for i := range n {
			if more.has(i) && !void.has(i) {
				reasons[i] = fmt.Errorf("%w: voided by a concurrent removal or demotion", ErrUnauthorized)
			}
		}
		void.or(more)
	}
	for i, o := range c.ops {
		if !c.accepted.has(i) {
			c.Rejected[o.ID] = reasons[i]
		}
	}
	c.materialize()
	return c
}

// replay accepts, in order, every op not voided whose author was allowed
// to make it in its causal past.
func (c *Community) replay(void bitset, reasons []error) {
	c.accepted = newBitset(len(c.ops))
	c.hist = map[histKey][]int{}
	c.genesis = -1
	for i := range c.ops {
		if void.has(i) {
			continue
		}
		if err := c.check(i); err != nil {
			reasons[i] = err
			continue
		}
		c.accept(i)
	}
}

// view restricts queries to some of the accepted ops.
type view func(j int) bool

func (c *Community) causal(i int) view { return c.anc[i].has }

// latest returns the last accepted op under key that v admits and keep
// accepts, or -1.
func (c *Community) latest(k histKey, v view, keep func(j int) bool) int {
	h := c.hist[k]
	for x := len(h) - 1; x >= 0; x-- {
		if j := h[x]; v(j) && (keep == nil || keep(j)) {
			return j
		}
	}
	return -1
}

func (c *Community) body(j int) StateBody { return c.bodies[j] }

// membership returns the op that made u a member in v, or -1. A join
// counts only if every removal of u in v is in its causal past: a removal
// wins over a concurrent admission. Of the joins that count (concurrent
// admissions of the same user make one membership), it returns the last.
// Every join is weighed, not only the last: an admission concurrent with
// a removal may sort after a readmission that followed the removal.
func (c *Community) membership(u UserID, v view) int {
	j := -1
	c.joins(u, v, func(i int) bool { j = i; return false })
	return j
}

// joins calls yield with each join of u that counts in v, last first,
// until yield returns false.
func (c *Community) joins(u UserID, v view, yield func(j int) bool) {
	h := c.hist[userKey(hMembership, u)]
joins:
	for x := len(h) - 1; x >= 0; x-- {
		j := h[x]
		if k := c.ops[j].Kind; !v(j) || k != KindGenesis && k != KindAdmit {
			continue
		}
		for _, r := range h {
			if k := c.ops[r].Kind; v(r) && k != KindGenesis && k != KindAdmit && !c.anc[j].has(r) {
				continue joins
			}
		}
		if !yield(j) {
			return
		}
	}
}

type standing struct {
	member bool
	owner  bool
	perms  Perm // effective
	top    int64
	roles  []ID
}

// standing computes what u may do in v.
func (c *Community) standing(u UserID, v view) standing {
	join := c.membership(u, v)
	if join < 0 {
		return standing{}
	}
	if c.ops[join].Kind == KindGenesis {
		return standing{member: true, owner: true, perms: permAll, top: math.MaxInt64}
	}
	s := standing{member: true, perms: c.role(c.ID, v).Perms}
	// Roles given in this membership: after one of its joins (concurrent
	// admissions make one membership), so after every removal.
	current := func(r int) bool {
		if c.anc[r].has(join) {
			return true
		}
		after := false
		c.joins(u, v, func(j int) bool { after = c.anc[r].has(j); return !after })
		return after
	}
	if r := c.latest(userKey(hRoles, u), v, current); r >= 0 {
		for _, id := range c.body(r).Roles {
			role := c.role(id, v)
			if role == nil || role.Deleted {
				continue
			}
			s.roles = append(s.roles, id)
			s.perms |= role.Perms
			s.top = max(s.top, role.Position)
		}
	}
	s.perms = s.perms.Effective()
	return s
}

// role returns role id as v sees it, or nil if it does not exist there.
func (c *Community) role(id ID, v view) *Role {
	k := idKey(hRoleDef, id)
	r := &Role{ID: id}
	if id == c.ID {
		r.Perms = DefaultPerms
	} else {
		create := c.latest(k, v, func(j int) bool { return c.ops[j].Target.IsZero() })
		if create < 0 {
			return nil
		}
	}
	for _, j := range c.hist[k] {
		if !v(j) {
			continue
		}
		o := c.ops[j]
		if o.Kind == KindRoleDelete {
			r.Deleted = true
			continue
		}
		s := c.body(j)
		if s.Perms != nil {
			r.Perms = *s.Perms
		}
		if s.Position != nil {
			r.Position = *s.Position
		}
		if s.HasInfo() {
			r.Info = o
		}
	}
	return r
}

// channel returns channel id as v sees it, or nil.
func (c *Community) channel(id ID, v view) *Channel {
	var ch *Channel
	for _, j := range c.hist[idKey(hChannel, id)] {
		if !v(j) {
			continue
		}
		o := c.ops[j]
		switch {
		case o.Kind == KindChannelPut && o.Target.IsZero():
			s := c.body(j)
			ch = &Channel{ID: id, Type: s.ChannelType, Info: o, Created: o}
			if s.Position != nil {
				ch.Position = *s.Position
			}
		case ch == nil:
		case o.Kind == KindChannelDelete:
			ch.Deleted = true
		default:
			s := c.body(j)
			if s.Position != nil {
				ch.Position = *s.Position
			}
			if s.HasInfo() {
				ch.Info = o
			}
		}
	}
	return ch
}

// invite returns invite id as v sees it, or nil.
func (c *Community) invite(id ID, v view) *InviteInfo {
	var inv *InviteInfo
	for _, j := range c.hist[idKey(hInvite, id)] {
		if !v(j) {
			continue
		}
		o := c.ops[j]
		switch o.Kind {
		case KindInvite:
			s := c.body(j)
			inv = &InviteInfo{ID: id, Creator: o.User(), Key: s.InviteKey, Expires: s.Expires, MaxUses: s.MaxUses}
		case KindInviteRevoke:
			inv.Revoked = true
		case KindAdmit:
			inv.Uses++
		}
	}
	return inv
}

func (c *Community) banned(u UserID, v view) bool {
	j := c.latest(userKey(hBans, u), v, nil)
	return j >= 0 && c.ops[j].Kind == KindBan
}

// required is the permission an op of kind k needs.
func required(k Kind) Perm {
	switch k {
	case KindMeta:
		return PermManageCommunity
	case KindChannelPut, KindChannelDelete:
		return PermManageChannels
	case KindRolePut, KindRoleDelete, KindMemberRoles:
		return PermManageRoles
	case KindInvite, KindAdmit:
		return PermCreateInvites
	case KindKick:
		return PermKick
	case KindBan, KindUnban:
		return PermBan
	}
	return 0
}

func deny(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnauthorized}, args...)...)
}

// refuse is deny for a reason the refused party is told (see ErrInviteUnknown).
func refuse(reason error) error { return fmt.Errorf("%w: %w", ErrUnauthorized, reason) }

// check decides whether op i is allowed in its causal past.
func (c *Community) check(i int) error {
	o, v, s := c.ops[i], c.causal(i), c.bodies[i]
	if o.Kind == KindGenesis {
		if o.ID != c.ID || o.Epoch.IsZero() {
			return deny("not this community's genesis")
		}
		return nil
	}
	if c.latest(histKey{what: hDissolve}, v, nil) >= 0 {
		return refuse(ErrDissolved)
	}
	me := c.standing(o.User(), v)
	if !me.member {
		return deny("author is not a member")
	}
	if !me.perms.Has(required(o.Kind)) {
		return deny("%s needs %s", o.Kind, required(o.Kind))
	}
	if !o.Epoch.IsZero() && o.Kind != KindRekey && !c.hasEpoch(o.Epoch, v) {
		return deny("unknown epoch")
	}
	// outranks reports whether the author may act on a member or role at
	// position p (strictly below its own top; the owner outranks all).
	outranks := func(p int64) bool { return me.owner || p < me.top }
	grantable := func(p Perm) bool { return me.owner || me.perms.Has(p.Effective()) }

	switch o.Kind {
	case KindMeta:
		if !s.HasInfo() {
			return deny("meta without info")
		}
	case KindChannelPut:
		if o.Target.IsZero() {
			if !s.HasInfo() || s.ChannelType > ChannelVoice {
				return deny("channel without name or with unknown type")
			}
		} else if ch := c.channel(o.Target, v); ch == nil || ch.Deleted {
			return deny("no such channel")
		}
	case KindChannelDelete:
		if ch := c.channel(o.Target, v); ch == nil || ch.Deleted {
			return deny("no such channel")
		}
	case KindRolePut:
		if s.Perms != nil && (!s.Perms.Valid() || !grantable(*s.Perms)) {
			return deny("role grants permissions the author lacks")
		}
		if s.Position != nil && (*s.Position <= 0 || !outranks(*s.Position)) {
			return deny("role position out of the author's reach")
		}
		switch {
		case o.Target.IsZero():
			if s.Position == nil || s.Perms == nil || !s.HasInfo() {
				return deny("new role needs a name, position and permissions")
			}
		case o.Target == c.ID:
			if s.Position != nil || s.HasInfo() {
				return deny("@everyone has no name or position")
			}
		default:
			if r := c.role(o.Target, v); r == nil || r.Deleted || !outranks(r.Position) {
				return deny("role out of the author's reach")
			}
		}
	case KindRoleDelete:
		if r := c.role(o.Target, v); o.Target == c.ID || r == nil || r.Deleted || !outranks(r.Position) {
			return deny("role out of the author's reach")
		}
	case KindMemberRoles:
		them := c.standing(s.User, v)
		if !them.member || them.owner && !me.owner || !them.owner && s.User != o.User() && !outranks(them.top) {
			return deny("member out of the author's reach")
		}
		old := map[ID]bool{}
		for _, r := range them.roles {
			old[r] = true
		}
		for _, id := range s.Roles {
			r := c.role(id, v)
			if id == c.ID || r == nil || r.Deleted {
				return deny("no such role")
			}
			if !old[id] && (!outranks(r.Position) || !grantable(r.Perms)) {
				return deny("role out of the author's reach")
			}
			delete(old, id)
		}
		for id := range old {
			if r := c.role(id, v); !outranks(r.Position) {
				return deny("role out of the author's reach")
			}
		}
	case KindInvite:
		if s.InviteKey == ([32]byte{}) || s.Expires < 0 {
			return deny("invite without key")
		}
	case KindInviteRevoke:
		inv := c.invite(o.Target, v)
		if inv == nil || (inv.Creator != o.User() && !me.perms.Has(PermManageCommunity)) {
			return deny("no such invite, or not the author's")
		}
	case KindAdmit:
		inv := c.invite(o.Target, v)
		if err := inviteOpen(inv, o.HLC.Millis()); err != nil {
			return err
		}
		switch {
		case !VerifyProof(inv.Key, c.ID, inv.ID, s.User, s.Proof):
			return refuse(ErrBadProof)
		case c.banned(s.User, v):
			return refuse(ErrBanned)
		case c.membership(s.User, v) >= 0:
			return deny("already a member")
		case s.Wraps == nil || len(s.Wraps.To) != 1 || s.Wraps.To[0].User != s.User:
			return deny("keys not wrapped for the joiner")
		}
	case KindProfile:
		if !s.HasInfo() {
			return deny("profile without info")
		}
	case KindLeave:
		if me.owner {
			return deny("the owner cannot leave")
		}
	case KindKick, KindBan:
		them := c.standing(s.User, v)
		switch {
		case s.User == o.User() || them.owner:
			return deny("cannot remove oneself or the owner")
		case them.member && !outranks(them.top):
			return deny("member out of the author's reach")
		case o.Kind == KindKick && !them.member:
			return deny("not a member")
		}
	case KindUnban:
		if !c.banned(s.User, v) {
			return deny("not banned")
		}
	case KindRekey:
		if o.Epoch.IsZero() || !s.HasInfo() || s.Wraps == nil || c.hasEpoch(o.Epoch, func(int) bool { return true }) {
			return deny("rekey needs a new epoch, keys and wraps")
		}
		if !slices.Equal(s.Wraps.Users(), c.memberList(v)) {
			return deny("rekey not wrapped for exactly the members")
		}
	case KindDissolve:
		if !me.owner {
			return deny("only the owner dissolves")
		}
	}
	return nil
}

// inviteOpen says whether inv admits anyone at time millis (Unix ms).
func inviteOpen(inv *InviteInfo, millis int64) error {
	switch {
	case inv == nil:
		return refuse(ErrInviteUnknown)
	case inv.Revoked:
		return refuse(ErrInviteRevoked)
	case inv.Expires != 0 && millis > inv.Expires:
		return refuse(ErrInviteExpired)
	case inv.MaxUses != 0 && inv.Uses >= int(inv.MaxUses):
		return refuse(ErrInviteUsedUp)
	}
	return nil
}

// CheckInvite says whether invite could admit user at time now (Unix ms)
// as far as c's state knows, before a member drafts the admission (or
// shows the community to the invite's holder): the community is not
// dissolved, the invite exists and is neither revoked, expired nor used
// up, and user is not banned. The proof is the caller's to check.
func (c *Community) CheckInvite(invite ID, user UserID, now int64) (*InviteInfo, error) {
	if c.Dissolved {
		return nil, refuse(ErrDissolved)
	}
	inv := c.invite(invite, c.accepted.has)
	if err := inviteOpen(inv, now); err != nil {
		return nil, err
	}
	if c.banned(user, c.accepted.has) {
		return nil, refuse(ErrBanned)
	}
	return inv, nil
}

func (c *Community) hasEpoch(e EpochID, v view) bool {
	for _, j := range c.hist[histKey{what: hEpoch}] {
		if v(j) && c.ops[j].Epoch == e {
			return true
		}
	}
	return false
}

// memberList returns the members in v, sorted.
func (c *Community) memberList(v view) []UserID {
	var us []UserID
	for k := range c.hist {
		if k.what != hMembership {
			continue
		}
		var u UserID
		copy(u[:], k.id[:])
		if c.membership(u, v) >= 0 {
			us = append(us, u)
		}
	}
	slices.SortFunc(us, compareUsers)
	return us
}

// accept records op i in the histories its queries read.
func (c *Community) accept(i int) {
	o := c.ops[i]
	c.accepted.set(i)
	add := func(k histKey) { c.hist[k] = append(c.hist[k], i) }
	s := c.body(i)
	switch o.Kind {
	case KindGenesis:
		c.genesis = i
		add(userKey(hMembership, o.User()))
		add(histKey{what: hMeta})
		add(histKey{what: hEpoch})
	case KindMeta:
		add(histKey{what: hMeta})
	case KindChannelPut:
		if o.Target.IsZero() {
			add(idKey(hChannel, o.ID))
		} else {
			add(idKey(hChannel, o.Target))
		}
	case KindChannelDelete:
		add(idKey(hChannel, o.Target))
	case KindRolePut:
		if o.Target.IsZero() {
			add(idKey(hRoleDef, o.ID))
		} else {
			add(idKey(hRoleDef, o.Target))
		}
	case KindRoleDelete:
		add(idKey(hRoleDef, o.Target))
	case KindMemberRoles:
		add(userKey(hRoles, s.User))
	case KindInvite:
		add(idKey(hInvite, o.ID))
	case KindInviteRevoke, KindAdmit:
		add(idKey(hInvite, o.Target))
		if o.Kind == KindAdmit {
			add(userKey(hMembership, s.User))
		}
	case KindProfile:
		add(userKey('p', o.User()))
	case KindLeave:
		add(userKey(hMembership, o.User()))
	case KindKick:
		add(userKey(hMembership, s.User))
	case KindBan:
		add(userKey(hBans, s.User))
		if c.membership(s.User, c.causal(i)) >= 0 {
			add(userKey(hMembership, s.User))
		}
	case KindUnban:
		add(userKey(hBans, s.User))
	case KindRekey:
		add(histKey{what: hEpoch})
	case KindDissolve:
		add(histKey{what: hDissolve})
	}
}

// concurrent reports whether ops i and j are concurrent.
func (c *Community) concurrent(i, j int) bool {
	return i != j && !c.anc[i].has(j) && !c.anc[j].has(i)
}

// conflicts returns the accepted ops the conflict rules void.
func (c *Community) conflicts() bitset {
	n := len(c.ops)
	out := newBitset(n)
	byUser := map[UserID][]int{}
	for i := range n {
		if c.accepted.has(i) {
			byUser[c.ops[i].User()] = append(byUser[c.ops[i].User()], i)
		}
	}
	// voidConcurrent voids u's ops concurrent with r: all of them, or
	// those that needed a permission in lost.
	voidConcurrent := func(r int, u UserID, everything bool, lost Perm) {
		for _, x := range byUser[u] {
			if c.concurrent(r, x) && (everything || required(c.ops[x].Kind)&lost != 0) {
				out.set(x)
			}
		}
	}
	with := func(i int) view { return func(j int) bool { return j == i || c.anc[i].has(j) } }
	for i := range n {
		if !c.accepted.has(i) {
			continue
		}
		o := c.ops[i]
		switch o.Kind {
		case KindLeave:
			voidConcurrent(i, o.User(), true, 0)
		case KindKick, KindBan:
			u := c.body(i).User
			voidConcurrent(i, u, true, 0)
			if o.Kind == KindBan {
				for _, j := range c.hist[userKey(hMembership, u)] {
					if c.ops[j].Kind == KindAdmit && c.concurrent(i, j) {
						out.set(j)
					}
				}
			}
		case KindMemberRoles, KindRolePut, KindRoleDelete:
			if o.Kind == KindRolePut && o.Target.IsZero() {
				continue // a new role takes nothing away
			}
			var users []UserID
			if o.Kind == KindMemberRoles {
				users = []UserID{c.body(i).User}
			} else {
				for _, u := range c.memberList(c.causal(i)) {
					if slices.Contains(c.standing(u, c.causal(i)).roles, o.Target) || o.Target == c.ID {
						users = append(users, u)
					}
				}
			}
			for _, u := range users {
				lost := c.standing(u, c.causal(i)).perms &^ c.standing(u, with(i)).perms
				if lost != 0 {
					voidConcurrent(i, u, false, lost)
				}
			}
		}
	}
	return out
}

// materialize fills the exported fields from the accepted ops.
func (c *Community) materialize() {
	all := c.accepted.has
	c.Channels, c.Roles, c.Members = map[ID]*Channel{}, map[ID]*Role{}, map[UserID]*Member{}
	c.Banned, c.Invites = map[UserID]bool{}, map[ID]*InviteInfo{}
	c.Epochs = nil
	if c.genesis < 0 {
		return
	}
	c.Genesis = c.ops[c.genesis]
	c.Owner = c.Genesis.User()
	c.Dissolved = c.latest(histKey{what: hDissolve}, all, nil) >= 0
	for _, j := range c.hist[histKey{what: hMeta}] {
		c.Meta = c.ops[j]
	}
	for _, j := range c.hist[histKey{what: hEpoch}] {
		c.Epochs = append(c.Epochs, Epoch{ID: c.ops[j].Epoch, Op: c.ops[j]})
	}
	c.Roles[c.ID] = c.role(c.ID, all)
	for k, h := range c.hist {
		var u UserID
		copy(u[:], k.id[:])
		switch k.what {
		case hChannel:
			if ch := c.channel(k.id, all); ch != nil {
				c.Channels[k.id] = ch
			}
		case hRoleDef:
			if r := c.role(k.id, all); r != nil {
				c.Roles[k.id] = r
			}
		case hInvite:
			c.Invites[k.id] = c.invite(k.id, all)
		case hBans:
			c.Banned[u] = c.banned(u, all)
			if !c.Banned[u] {
				delete(c.Banned, u)
			}
		case hMembership:
			m := &Member{User: u, State: Joined}
			if j := c.membership(u, all); j >= 0 {
				m.Joined = c.ops[j]
				m.Roles = c.standing(u, all).roles
				slices.SortFunc(m.Roles, ID.Compare)
			} else {
				// Not a member, so some removal is in h; the last join
				// may sort after it (an admission concurrent with it).
				states := map[Kind]MemberState{KindLeave: Left, KindKick: Kicked, KindBan: Banned}
				for x := len(h) - 1; x >= 0; x-- {
					o := c.ops[h[x]]
					if st, ok := states[o.Kind]; ok && m.Removed == nil {
						m.Removed, m.State = o, st
					}
					if (o.Kind == KindAdmit || o.Kind == KindGenesis) && m.Joined == nil {
						m.Joined = o
					}
				}
			}
			c.Members[u] = m
		}
	}
	for u := range c.Banned {
		if m := c.Members[u]; m != nil && m.State != Joined {
			m.State = Banned
		}
	}
	for k, h := range c.hist {
		if k.what != 'p' {
			continue
		}
		var u UserID
		copy(u[:], k.id[:])
		if m := c.Members[u]; m != nil {
			m.Profile = c.ops[h[len(h)-1]]
		}
	}
}

// OpenProfile opens u's newest profile whose Info opens with keys and is
// valid. A profile this node cannot read — sealed under an epoch it lacks,
// or carrying what OpenInfo refuses, such as an oversized avatar — leaves
// the one before it in place rather than blanking the member's name.
func (c *Community) OpenProfile(u UserID, keys Keyring) (Info, *Op) {
	h := c.hist[userKey('p', u)]
	for x := len(h) - 1; x >= 0; x-- {
		if info, err := c.ops[h[x]].OpenInfo(c.bodies[h[x]], keys); err == nil {
			return info, c.ops[h[x]]
		}
	}
	return Info{}, nil
}

// Standing is what a user may do now.
func (c *Community) Standing(u UserID) (member bool, perms Perm, top int64) {
	s := c.standing(u, c.accepted.has)
	return s.member, s.perms, s.top
}

// MemberUsers lists the current members, sorted.
func (c *Community) MemberUsers() []UserID { return c.memberList(c.accepted.has) }

// EpochTips returns the epochs no later epoch succeeds: the keys a new
// member or a new epoch must carry so that every earlier key can be
// reached (each rekey's Info carries the tips it succeeded).
func (c *Community) EpochTips() []Epoch {
	var tips []Epoch
	h := c.hist[histKey{what: hEpoch}]
	for _, i := range h {
		succeeded := false
		for _, j := range h {
			if c.anc[j].has(i) {
				succeeded = true
				break
			}
		}
		if !succeeded {
			tips = append(tips, Epoch{ID: c.ops[i].Epoch, Op: c.ops[i]})
		}
	}
	return tips
}

// Current returns the epoch new messages are sealed under, or false when
// the community has none yet.
func (c *Community) Current() (Epoch, bool) {
	if len(c.Epochs) == 0 {
		return Epoch{}, false
	}
	return c.Epochs[len(c.Epochs)-1], true
}

// NeedsRekey reports whether the current epoch's key may be known to
// someone who is no longer a member, or is missing for a member admitted
// concurrently with it: then the next member to send rotates first.
func (c *Community) NeedsRekey() bool {
	cur, ok := c.Current()
	if !ok {
		return false
	}
	i := c.pos[cur.Op.ID]
	for _, u := range c.MemberUsers() {
		j := c.membership(u, c.accepted.has)
		covered := j == i || c.anc[j].has(i) ||
			cur.Op.Kind == KindRekey && slices.Contains(c.body(i).Wraps.Users(), u)
		if !covered {
			return true
		}
	}
	for j := range c.ops {
		if c.accepted.has(j) && j != i && !c.anc[i].has(j) {
			switch c.ops[j].Kind {
			case KindLeave, KindKick, KindBan:
				return true
			}
		}
	}
	return false
}

// Heads returns the accepted and rejected ops no other op names as parent:
// what a new state op cites.
func (c *Community) Heads() []ID {
	cited := newBitset(len(c.ops))
	for i := range c.ops {
		cited.or(c.anc[i])
	}
	var heads []ID
	for i, o := range c.ops {
		if !cited.has(i) {
			heads = append(heads, o.ID)
		}
	}
	return heads
}

// Contains reports whether op id is accepted.
func (c *Community) Contains(id ID) bool {
	i, ok := c.pos[id]
	return ok && c.accepted.has(i)
}

// Chain reports whether op target lies on its device's Prev chain at or
// before op last (both in the same log). It returns ErrNotYet when an op
// of the chain is not at hand.
type Chain func(last, target ID) (bool, error)

// AuthorizeChannelOp decides whether a channel op may take effect: its
// channel must exist; its author must be a member holding the permission
// the kind needs, or a removed member whose op the removal's cut-off for
// that channel and device covers (see Seen). Permissions are today's:
// taking a permission away hides nothing already shown, but ops arriving
// later are judged by it.
func (c *Community) AuthorizeChannelOp(o *Op, chain Chain) error {
	if c.Genesis == nil {
		return ErrNotYet
	}
	if c.Dissolved {
		return refuse(ErrDissolved)
	}
	ch := c.Channels[o.Channel]
	switch {
	case ch == nil:
		return fmt.Errorf("%w: unknown channel", ErrNotYet)
	case ch.Deleted:
		return deny("channel deleted")
	}
	m := c.Members[o.User()]
	if m == nil {
		return fmt.Errorf("%w: author not a member", ErrNotYet)
	}
	if m.State != Joined {
		cut := slices.IndexFunc(c.bodies[c.pos[m.Removed.ID]].Seen, func(s Seen) bool {
			return s.Log == o.Channel && s.Device == o.Author
		})
		if cut < 0 {
			return deny("author removed")
		}
		ok, err := chain(c.bodies[c.pos[m.Removed.ID]].Seen[cut].Last, o.ID)
		switch {
		case err != nil:
			return err
		case !ok:
			return deny("written after the author's removal")
		}
		return nil
	}
	_, perms, _ := c.Standing(o.User())
	need := PermSendMessages
	switch o.Kind {
	case KindReact, KindUnreact:
		need = PermAddReactions
	case KindDelete:
		need = 0 // deleting others' messages is the delete policy's
	}
	if !perms.Has(need) {
		return deny("%s needs %s", o.Kind, need)
	}
	return nil
}

// MayDelete is the delete policy of c's channels: moderators with manage
// messages delete anyone's messages.
func (c *Community) MayDelete(del *Op, _ *Message) bool {
	member, perms, _ := c.Standing(del.User())
	return member && perms.Has(PermManageMessages)
}

// WalkChain is a Chain over stored ops: load returns an op's stored bytes,
// and found false when it is not stored. It walks the device's Prev chain
// back from last until it meets target, or passes target's HLC (when
// target is stored), or ends; a missing chain op gives ErrNotYet.
func WalkChain(last, target ID, load func(ID) (raw []byte, found bool, err error)) (bool, error) {
	want, ok, err := load(target)
	if err != nil {
		return false, err
	}
	var wantHLC HLC
	if ok {
		op, err := DecodeStored(want)
		if err != nil {
			return false, err
		}
		wantHLC = op.HLC
	}
	for id := last; !id.IsZero(); {
		if id == target {
			return true, nil
		}
		raw, found, err := load(id)
		if err != nil {
			return false, err
		}
		if !found {
			return false, fmt.Errorf("%w: chain op %s not here", ErrNotYet, id)
		}
		op, err := DecodeStored(raw)
		if err != nil {
			return false, err
		}
		if ok && op.HLC < wantHLC {
			return false, nil
		}
		id = op.Prev
	}
	return false, nil
}
