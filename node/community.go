package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Communities on a node. Each community this node belongs to has its
// secrets (the topic secret and the epoch keys it could unlock) in the
// store's settings, and while the node runs, a replica — a gossip topic
// and sync — for its state log and for each of its channels. Its state is
// rebuilt from the stored state log whenever state ops arrive.

// Errors of the community operations.
var (
	ErrUnknownCommunity = errors.New("unknown community")
	ErrUnknownChannel   = errors.New("unknown channel")
	// ErrDissolved: the community was dissolved by its owner; it is gone
	// for everyone.
	ErrDissolved  = errors.New("the community was dissolved")
	ErrForbidden  = errors.New("not allowed")
	ErrNotRunning = errors.New("node not running")
)

const settingCommunities = "communities" // the ids of this node's communities

func settingSecrets(id crdt.ID) string { return "community/" + id.String() }

// secrets are what a member keeps of a community.
type secrets struct {
	Topic []byte   `cbor:"1,keyasint"`
	Keys  [][]byte `cbor:"2,keyasint"`
}

// community is one community this node is in. Its fields after id are
// guarded by communities.mu.
type community struct {
	id      crdt.ID
	signals *p2p.SignalTopic // presence and typing; set while running
	topic   []byte           // the topic secret
	keys    crdt.Keyring
	state   *crdt.Community
	logs    map[crdt.ID]*replica // the state log and the channels

	author  sync.Mutex // one local op at a time: parents, clock and Prev stay consistent
	refresh sync.Mutex // one rebuild at a time, so an older state never replaces a newer
}

func newCommunity(id crdt.ID, topic []byte) *community {
	return &community{id: id, topic: topic, keys: crdt.Keyring{}, logs: map[crdt.ID]*replica{}}
}

// replica is one replicated log.
type replica struct {
	sync   *p2p.Replica
	topic  *p2p.Topic
	cancel context.CancelFunc
	prev   crdt.ID // this device's last op in the log
}

// communities is the node's set, safe for concurrent use.
type communities struct {
	mu     sync.Mutex
	byID   map[crdt.ID]*community
	byLog  map[crdt.ID]*community
	handle map[string]crdt.ID // sync handle → log
	keys   crdt.Keyring       // every community's keys, for the pipeline
}

func (cs *communities) get(id crdt.ID) *community {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.byID[id]
}

func (cs *communities) ofLog(log crdt.ID) *community {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.byLog[log]
}

func (cs *communities) keyring() crdt.Keyring {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.keys
}

// state returns c's current state: empty until its log has been read.
func (cs *communities) state(c *community) *crdt.Community {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c.state == nil {
		c.state = crdt.BuildCommunity(c.id, nil)
	}
	return c.state
}

// loadCommunities reads the node's communities from its store and builds
// their states.
func (n *Node) loadCommunities() error {
	n.comms = &communities{byID: map[crdt.ID]*community{}, byLog: map[crdt.ID]*community{},
		handle: map[string]crdt.ID{}, keys: crdt.Keyring{}}
	v, err := n.store.Setting(settingCommunities)
	if err != nil || v == nil {
		return err
	}
	var ids [][]byte
	if err := cbor.Unmarshal(v, &ids); err != nil {
		return fmt.Errorf("communities: %w", err)
	}
	for _, b := range ids {
		id, err := crdt.IDFromBytes(b)
		if err != nil {
			return fmt.Errorf("communities: %w", err)
		}
		raw, err := n.store.Setting(settingSecrets(id))
		if err != nil {
			return err
		}
		var s secrets
		if err := cbor.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("community %s: secrets: %w", id, err)
		}
		c := newCommunity(id, s.Topic)
		addKeys(c.keys, s.Keys)
		n.comms.add(c)
	}
	return nil
}

func addKeys(k crdt.Keyring, raw [][]byte) {
	for _, b := range raw {
		if key, err := crdt.EpochKeyFromBytes(b); err == nil {
			k[key.ID()] = key
		}
	}
}

func (cs *communities) add(c *community) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.byID[c.id] = c
	cs.byLog[c.id] = c
	cs.mergeKeys(c)
}

// mergeKeys publishes c's keys to the pipeline's keyring (copy on write).
func (cs *communities) mergeKeys(c *community) {
	keys := make(crdt.Keyring, len(cs.keys)+len(c.keys))
	for id, k := range cs.keys {
		keys[id] = k
	}
	for id, k := range c.keys {
		keys[id] = k
	}
	cs.keys = keys
}

// saveCommunity records c's secrets and membership of the list.
func (n *Node) saveCommunity(c *community) error {
	n.comms.mu.Lock()
	s := secrets{Topic: c.topic}
	for _, k := range c.keys {
		s.Keys = append(s.Keys, k.Bytes())
	}
	var ids [][]byte
	for id := range n.comms.byID {
		ids = append(ids, id[:])
	}
	n.comms.mu.Unlock()
	slices.SortFunc(s.Keys, func(a, b []byte) int { return slices.Compare(a, b) })
	slices.SortFunc(ids, func(a, b []byte) int { return slices.Compare(a, b) })
	raw, err := cbor.Marshal(s)
	if err != nil {
		return err
	}
	if err := n.store.PutSetting(settingSecrets(c.id), raw); err != nil {
		return err
	}
	list, err := cbor.Marshal(ids)
	if err != nil {
		return err
	}
	return n.store.PutSetting(settingCommunities, list)
}

// refresh rebuilds c's state from its stored log, unlocks the keys it now
// can, opens what those keys open, and replicates new channels.
func (n *Node) refresh(ctx context.Context, c *community) error {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	ops, err := n.logOps(c.id)
	if err != nil {
		return err
	}
	state := crdt.BuildCommunity(c.id, ops)
	keys := crdt.Keyring{}
	n.comms.mu.Lock()
	for id, k := range c.keys {
		keys[id] = k
	}
	n.comms.mu.Unlock()
	secret := state.Unlock(n.Identity().User, keys)
	n.comms.mu.Lock()
	before := c.state
	c.state = state
	if c.topic == nil {
		c.topic = secret
	}
	fresh := crdt.Keyring{}
	for id, k := range keys {
		if c.keys[id] == nil {
			c.keys[id], fresh[id] = k, k
		}
	}
	n.comms.mergeKeys(c)
	for id, ch := range state.Channels {
		if !ch.Deleted {
			n.comms.byLog[id] = c
		}
	}
	n.comms.mu.Unlock()
	if len(fresh) > 0 {
		if err := n.saveCommunity(c); err != nil {
			return err
		}
		if err := n.reopen(ctx, fresh); err != nil {
			return err
		}
	}
	n.emitState(before, state)
	n.communityChanged(before, state)
	n.replicate(c)
	// What the new state allows may have been refused before: offer what
	// gossip brought again and fetch what sync brought.
	n.comms.mu.Lock()
	for log, r := range c.logs {
		if log != c.id {
			r.sync.SyncAll()
		}
	}
	n.comms.mu.Unlock()
	return nil
}

// logOps returns every op stored in log.
func (n *Node) logOps(log crdt.ID) ([]*crdt.Op, error) {
	stamps, err := n.store.Stamps(log)
	if err != nil {
		return nil, err
	}
	ids := make([]crdt.ID, len(stamps))
	for i, s := range stamps {
		ids[i] = s.ID
	}
	raws, err := n.store.Ops(ids)
	if err != nil {
		return nil, err
	}
	ops := make([]*crdt.Op, 0, len(raws))
	for _, raw := range raws {
		op, err := crdt.DecodeStored(raw)
		if err != nil {
			return nil, fmt.Errorf("stored op: %w", err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// reopen feeds the ops sealed under keys now held through the pipeline
// again, which applies them.
func (n *Node) reopen(ctx context.Context, keys crdt.Keyring) error {
	for id := range keys {
		ops, err := n.store.Sealed(id)
		if err != nil {
			return err
		}
		if len(ops) > 0 {
			if err := n.pipe.IngestVerified(ctx, ops); err != nil {
				return err
			}
		}
	}
	return nil
}

// replicate starts replicas for c's state log and live channels that have
// none, if the node runs and c's topic secret is known.
func (n *Node) replicate(c *community) {
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	if n.runCtx == nil || n.runCtx.Err() != nil || c.topic == nil {
		return
	}
	n.joinSignals(n.runCtx, c)
	logs := []crdt.ID{c.id}
	if c.state != nil {
		for id, ch := range c.state.Channels {
			if !ch.Deleted {
				logs = append(logs, id)
			} else if r := c.logs[id]; r != nil {
				r.cancel() // a deleted channel is no longer replicated
				delete(c.logs, id)
			}
		}
	}
	for _, log := range logs {
		if c.logs[log] != nil {
			continue
		}
		topic, err := n.gossip.Join(c.topic, log)
		if err != nil {
			n.log.Error("join topic", "log", log, "err", err)
			continue
		}
		handle := p2p.TopicName(c.topic, log)
		n.delivery.topics.Store(handle, c.id)
		ctx, cancel := context.WithCancel(n.runCtx)
		r := p2p.NewReplica(n.host, n.sync, topic, n.pipe.SyncLog(log), handle)
		r.Progress = func(p peer.ID, done, total int) { n.syncProgress(log, p, done, total) }
		r.Ignored = func(from peer.ID) { n.syncState(c, from) }
		r.Synced = n.synced(c, log)
		c.logs[log] = &replica{sync: r, topic: topic, cancel: cancel}
		n.comms.byLog[log] = c
		n.comms.handle[handle] = log
		n.replicas.Add(1)
		go func() {
			defer n.replicas.Done()
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("replica stopped", "log", log, "err", err)
			}
			topic.Close()
		}()
	}
}

// syncState asks for a sync of c's state log with p, which sent an op
// this node could not judge yet (p2p.Replica.Ignored). p accepted the op,
// so its state holds what is missing here: most often the author's
// admission. Storing the admission runs refresh before the store call
// returns, and refresh calls SyncAll on the channels only after the new
// state is in place, so the kept op is offered again — and the channels
// synced again — against the state that admits its author, never before.
func (n *Node) syncState(c *community, p peer.ID) {
	n.comms.mu.Lock()
	r := c.logs[c.id]
	n.comms.mu.Unlock()
	if r != nil {
		r.sync.SyncWith(p)
	}
}

// onStored reacts to a committed batch: state ops change their
// community's state. It runs in the goroutine that stored the batch, so
// whoever stores a state op sees its effect once the store call returns.
func (n *Node) onStored(entries []store.Entry) {
	n.emitStored(entries)
	n.learnDevices(entries)
	defer n.stored(entries) // after the refreshes below: features see the new state
	logs := map[crdt.ID]bool{}
	for _, e := range entries {
		if e.Op.Kind.IsState() {
			logs[e.Op.Community] = true
		}
	}
	ctx := context.Background()
	for log := range logs {
		if c := n.comms.get(log); c != nil {
			if err := n.refresh(ctx, c); err != nil {
				n.log.Error("community refresh", "community", log, "err", err)
			}
		}
	}
}

// authorize is the pipeline's and gossip's judgement of an op: state ops
// of a known community go to its state log (where the community view
// decides what they do); channel ops must pass the community's rules.
func (n *Node) authorize(op *crdt.Op) error {
	c := n.comms.get(op.Community)
	if c == nil {
		return fmt.Errorf("%w: %s", ErrUnknownCommunity, op.Community)
	}
	if op.Kind.IsState() {
		return nil
	}
	return n.comms.state(c).AuthorizeChannelOp(op, n.chain)
}

// admit is the gossip validators' membership check.
func (n *Node) admit(op *crdt.Op) p2p.Verdict {
	c := n.comms.get(op.Community)
	if c == nil {
		return p2p.Reject
	}
	if op.Kind.IsState() {
		// Members' state ops travel; the state view judges them. Others'
		// are not forwarded, but their author may just be newer than our
		// state: ignore rather than penalize.
		if m := n.comms.state(c).Members[op.User()]; m != nil && m.State == crdt.Joined {
			return p2p.Accept
		}
		return p2p.Ignore
	}
	err := n.authorize(op)
	switch {
	case err == nil:
		return p2p.Accept
	case errors.Is(err, crdt.ErrNotYet):
		return p2p.Ignore
	}
	return p2p.Reject
}

// chain walks a device's Prev chain in the store (crdt.WalkChain).
func (n *Node) chain(last, target crdt.ID) (bool, error) {
	return crdt.WalkChain(last, target, func(id crdt.ID) ([]byte, bool, error) {
		raw, err := n.store.Op(id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		return raw, err == nil, err
	})
}

// mayDelete is the stores' delete policy.
func (n *Node) mayDelete(del *crdt.Op, target *crdt.Message) bool {
	c := n.comms.get(del.Community)
	return c != nil && n.comms.state(c).MayDelete(del, target)
}

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
