package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/fxamacker/cbor/v2"
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
