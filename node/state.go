package node

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"

	"github.com/ancore/ancore/crdt"
)

// Authoring a community's state — creating it, its channels and roles,
// its info, dissolving it — and reading it.

// CreateCommunity creates a community named name, with this node's user
// as owner, and a #general text channel.
func (n *Node) CreateCommunity(ctx context.Context, name string) (crdt.ID, error) {
	key, err := crdt.NewEpochKey()
	if err != nil {
		return crdt.ID{}, err
	}
	topic := make([]byte, 32)
	if _, err := rand.Read(topic); err != nil {
		return crdt.ID{}, err
	}
	g, err := n.Identity().Device.Sign(crdt.Draft{Kind: crdt.KindGenesis, HLC: n.clock.Now(),
		State: &crdt.StateBody{Info: &crdt.Info{Name: name}}}, key)
	if err != nil {
		return crdt.ID{}, err
	}
	c := newCommunity(g.ID, topic)
	c.keys[key.ID()] = key
	n.comms.add(c)
	if err := n.saveCommunity(c); err != nil {
		return crdt.ID{}, err
	}
	if err := n.pipe.IngestLocal(ctx, g); err != nil { // builds c's state
		return crdt.ID{}, err
	}
	if _, err := n.CreateChannel(ctx, g.ID, "general", crdt.ChannelText); err != nil {
		return crdt.ID{}, err
	}
	return g.ID, nil
}

// ChannelCommunity returns the state of the community channel belongs to;
// ErrUnknownChannel when this node knows no such channel or it is deleted,
// ErrDissolved when its community was dissolved.
func (n *Node) ChannelCommunity(channel crdt.ID) (*crdt.Community, error) {
	c := n.comms.ofLog(channel)
	if c == nil || c.id == channel {
		return nil, ErrUnknownChannel
	}
	state := n.comms.state(c)
	if ch := state.Channels[channel]; ch == nil || ch.Deleted {
		return nil, ErrUnknownChannel
	}
	if state.Dissolved {
		return nil, ErrDissolved
	}
	return state, nil
}

// Community returns the current state of community id.
func (n *Node) Community(id crdt.ID) (*crdt.Community, error) {
	c := n.comms.get(id)
	if c == nil {
		return nil, ErrUnknownCommunity
	}
	return n.comms.state(c), nil
}

// Communities lists the communities this node is in.
func (n *Node) Communities() []crdt.ID {
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	ids := make([]crdt.ID, 0, len(n.comms.byID))
	for id := range n.comms.byID {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, crdt.ID.Compare)
	return ids
}

// CreateChannel adds a channel to community id.
func (n *Node) CreateChannel(ctx context.Context, id crdt.ID, name string, typ crdt.ChannelType) (crdt.ID, error) {
	op, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindChannelPut,
		State: &crdt.StateBody{ChannelType: typ, Info: &crdt.Info{Name: name}}})
	if err != nil {
		return crdt.ID{}, err
	}
	return op.ID, nil
}

// changeState authors a state op in community id and applies it; it fails
// with ErrForbidden when the community's rules do not accept it.
func (n *Node) changeState(ctx context.Context, id crdt.ID, dr crdt.Draft) (*crdt.Op, error) {
	c := n.comms.get(id)
	if c == nil {
		return nil, ErrUnknownCommunity
	}
	c.author.Lock()
	defer c.author.Unlock()
	state := n.comms.state(c)
	var key *crdt.EpochKey
	if dr.State.Info != nil || dr.Kind == crdt.KindRekey {
		cur, ok := state.Current()
		if !ok {
			return nil, ErrUnknownCommunity
		}
		n.comms.mu.Lock()
		key = c.keys[cur.ID]
		n.comms.mu.Unlock()
	}
	return n.authorState(ctx, c, dr, key)
}

// authorState authors state op dr (author) citing the state's heads
// unless dr names its parents, and only if the community's rules accept
// it: an op they refuse is not stored at all. c.author is held.
func (n *Node) authorState(ctx context.Context, c *community, dr crdt.Draft, key *crdt.EpochKey) (*crdt.Op, error) {
	if dr.Parents == nil {
		dr.Parents = n.comms.state(c).Heads()
	}
	return n.author(ctx, c, dr, key, func(op *crdt.Op) error {
		ops, err := n.logOps(c.id)
		if err != nil {
			return err
		}
		if trial := crdt.BuildCommunity(c.id, append(ops, op)); !trial.Contains(op.ID) {
			return fmt.Errorf("%w: %v", ErrForbidden, trial.Rejected[op.ID])
		}
		return nil
	})
}

// UpdateCommunity renames community id and sets its icon.
func (n *Node) UpdateCommunity(ctx context.Context, id crdt.ID, name string, icon []byte) error {
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindMeta, State: &crdt.StateBody{Info: &crdt.Info{Name: name, Icon: icon}}})
	return err
}

// Dissolve deletes community id for everyone (the owner only).
func (n *Node) Dissolve(ctx context.Context, id crdt.ID) error {
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindDissolve, State: &crdt.StateBody{}})
	return err
}

// ChannelUpdate changes a channel; nil fields stay as they are.
type ChannelUpdate struct {
	Name, Topic *string
	Position    *int64
}

// UpdateChannel renames, re-topics or moves a channel of community id.
func (n *Node) UpdateChannel(ctx context.Context, id, channel crdt.ID, u ChannelUpdate) error {
	s := &crdt.StateBody{Position: u.Position}
	if u.Name != nil || u.Topic != nil {
		// Name and topic travel together, sealed: fill in the one kept.
		info, err := n.ChannelInfo(id, channel)
		if err != nil {
			return err
		}
		if u.Name != nil {
			info.Name = *u.Name
		}
		if u.Topic != nil {
			info.Topic = *u.Topic
		}
		s.Info = &crdt.Info{Name: info.Name, Topic: info.Topic}
	}
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindChannelPut, Target: channel, State: s})
	return err
}

// DeleteChannel deletes a channel of community id.
func (n *Node) DeleteChannel(ctx context.Context, id, channel crdt.ID) error {
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindChannelDelete, Target: channel, State: &crdt.StateBody{}})
	return err
}

// ChannelInfo opens a channel's name and topic.
func (n *Node) ChannelInfo(id, channel crdt.ID) (crdt.Info, error) {
	state, err := n.Community(id)
	if err != nil {
		return crdt.Info{}, err
	}
	ch := state.Channels[channel]
	if ch == nil || ch.Deleted {
		return crdt.Info{}, ErrUnknownChannel
	}
	return n.OpenInfo(ch.Info)
}

// OpenInfo opens the sealed info of a state op with this node's keys.
func (n *Node) OpenInfo(op *crdt.Op) (crdt.Info, error) {
	s, err := op.State()
	if err != nil {
		return crdt.Info{}, err
	}
	return op.OpenInfo(s, n.comms.keyring())
}

// RoleUpdate creates or changes a role; nil fields stay as they are.
type RoleUpdate struct {
	Name     *string
	Color    *uint32
	Perms    *crdt.Perm
	Position *int64
}

// PutRole creates a role (role zero) or changes one; it returns the
// role's ID.
func (n *Node) PutRole(ctx context.Context, id, role crdt.ID, u RoleUpdate) (crdt.ID, error) {
	s := &crdt.StateBody{Perms: u.Perms, Position: u.Position}
	if u.Name != nil || u.Color != nil {
		var info crdt.Info
		if state, err := n.Community(id); err == nil && state.Roles[role] != nil && state.Roles[role].Info != nil {
			if info, err = n.OpenInfo(state.Roles[role].Info); err != nil {
				return crdt.ID{}, err
			}
		}
		if u.Name != nil {
			info.Name = *u.Name
		}
		if u.Color != nil {
			info.Color = *u.Color
		}
		s.Info = &crdt.Info{Name: info.Name, Color: info.Color}
	}
	op, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindRolePut, Target: role, State: s})
	if err != nil {
		return crdt.ID{}, err
	}
	if role.IsZero() {
		return op.ID, nil
	}
	return role, nil
}

// DeleteRole deletes a role of community id.
func (n *Node) DeleteRole(ctx context.Context, id, role crdt.ID) error {
	_, err := n.changeState(ctx, id, crdt.Draft{Kind: crdt.KindRoleDelete, Target: role, State: &crdt.StateBody{}})
	return err
}
