package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ancore/ancore/crdt"
)

// CreateInvite creates an invite to community id that lasts ttl (0:
// never) for at most maxUses admissions (0: any number), and returns its
// link, which carries this node's addresses.
func (n *Node) CreateInvite(ctx context.Context, id crdt.ID, ttl time.Duration, maxUses uint32) (string, error) {
	seed, pub, err := crdt.NewInviteKey()
	if err != nil {
		return "", err
	}
	var expires int64
	if ttl > 0 {
		expires = time.Now().Add(ttl).UnixMilli()
	}
	op, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindInvite,
		State: &crdt.StateBody{InviteKey: pub, Expires: expires, MaxUses: maxUses}})
	if err != nil {
		return "", err
	}
	addrs := n.Addrs()
	if len(addrs) > crdt.MaxInviteAddrs {
		addrs = addrs[:crdt.MaxInviteAddrs]
	}
	return crdt.Invite{Community: id, Invite: op.ID, Seed: seed, Addrs: addrs, Expires: expires}.Link(), nil
}

// RevokeInvite revokes invite inv of community id.
func (n *Node) RevokeInvite(ctx context.Context, id, inv crdt.ID) error {
	if _, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindInviteRevoke, Target: inv, State: &crdt.StateBody{}}); err != nil {
		return err
	}
	if c := n.inviteCodes(); c != nil {
		c.Revoke(ctx, inv)
	}
	return nil
}

// Kick removes user from community id and rotates the keys, so the
// removed member reads nothing sent afterwards.
func (n *Node) Kick(ctx context.Context, id crdt.ID, user crdt.UserID) error {
	return n.remove(ctx, id, crdt.KindKick, user)
}

// Ban removes user from community id for good (until unbanned) and
// rotates the keys.
func (n *Node) Ban(ctx context.Context, id crdt.ID, user crdt.UserID) error {
	return n.remove(ctx, id, crdt.KindBan, user)
}

// Unban lets user be admitted to community id again.
func (n *Node) Unban(ctx context.Context, id crdt.ID, user crdt.UserID) error {
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindUnban, State: &crdt.StateBody{User: user}})
	return err
}

// Leave takes this node's user out of community id. The remaining
// members rotate the keys when they next send.
func (n *Node) Leave(ctx context.Context, id crdt.ID) error {
	return n.remove(ctx, id, crdt.KindLeave, n.Identity().User.ID())
}

func (n *Node) remove(ctx context.Context, id crdt.ID, k crdt.Kind, user crdt.UserID) error {
	c := n.comms.get(id)
	if c == nil {
		return ErrUnknownCommunity
	}
	seen, err := n.cutoffs(c, user)
	if err != nil {
		return err
	}
	s := &crdt.StateBody{Seen: seen}
	if k != crdt.KindLeave {
		s.User = user
	}
	c.author.Lock()
	defer c.author.Unlock()
	if _, err := n.authorState(ctx, c, crdt.Draft{Kind: k, State: s}, nil); err != nil {
		return err
	}
	if k == crdt.KindLeave {
		return nil
	}
	return n.rekey(ctx, c)
}

// cutoffs records, for each channel and each device of user, the last op
// this node holds: what stays of the user's writing once removed.
func (n *Node) cutoffs(c *community, user crdt.UserID) ([]crdt.Seen, error) {
	var seen []crdt.Seen
	for log, ch := range n.comms.state(c).Channels {
		if ch.Deleted {
			continue
		}
		devices := map[crdt.DeviceID]bool{}
		_, err := n.lastBy(log, func(op *crdt.Op) bool {
			if op.User() == user && !devices[op.Author] {
				devices[op.Author] = true
				seen = append(seen, crdt.Seen{Log: log, Device: op.Author, Last: op.ID})
			}
			return false
		})
		if err != nil {
			return nil, err
		}
	}
	if len(seen) > crdt.MaxSeen {
		return nil, fmt.Errorf("%d cut-offs, at most %d", len(seen), crdt.MaxSeen)
	}
	slices.SortFunc(seen, func(a, b crdt.Seen) int { return a.Log.Compare(b.Log) })
	return seen, nil
}

// rekey starts a new epoch wrapped for every current member. c.author is
// held.
func (n *Node) rekey(ctx context.Context, c *community) error {
	next, err := crdt.NewEpochKey()
	if err != nil {
		return err
	}
	n.comms.mu.Lock()
	keys := make(crdt.Keyring, len(c.keys))
	for id, k := range c.keys {
		keys[id] = k
	}
	n.comms.mu.Unlock()
	dr, err := crdt.RekeyDraft(n.comms.state(c), 0, next, keys)
	if err != nil {
		return err
	}
	// The new key must be held before the op is applied, so that what
	// arrives under it opens at once.
	n.comms.mu.Lock()
	c.keys[next.ID()] = next
	n.comms.mergeKeys(c)
	n.comms.mu.Unlock()
	if err := n.saveCommunity(c); err != nil {
		return err
	}
	dr.Parents = nil
	_, err = n.authorState(ctx, c, dr, next)
	return err
}

// SetMemberRoles sets the roles (besides @everyone) of user in community
// id.
func (n *Node) SetMemberRoles(ctx context.Context, id crdt.ID, user crdt.UserID, roles []crdt.ID) error {
	roles = slices.Clone(roles)
	slices.SortFunc(roles, crdt.ID.Compare)
	roles = slices.Compact(roles)
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindMemberRoles, State: &crdt.StateBody{User: user, Roles: roles}})
	return err
}

// Profile is what a user shows the members of a community. It travels
// sealed, like every name.
type Profile struct {
	Name       string
	StatusText string // the custom status; empty for none
	Avatar     []byte // PNG or JPEG within crdt.MaxAvatarSize; empty for none
}

// SetProfile sets this user's profile in community id.
func (n *Node) SetProfile(ctx context.Context, id crdt.ID, p Profile) error {
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindProfile,
		State: &crdt.StateBody{Info: &crdt.Info{Name: p.Name, StatusText: p.StatusText, Avatar: p.Avatar}}})
	return err
}
