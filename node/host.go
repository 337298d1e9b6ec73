package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// What a feature (a capability in a package of its own: the relay link
// today; calls, files, DMs and search to come) gets from the core. A
// feature is attached to a Host, registers its hooks before Run, runs its
// own Run(ctx) beside the node's, and hands its routes (Route) to the
// local API. Features never import each other or node/api; node/app wires
// them (docs/architecture.md, "How a capability plugs in").

// Host is what a feature may use of the core: the methods of *Node that
// make up the host. A feature takes a Host, never a *Node, so that it
// reaches nothing else of the core (and a test may stand in for it).
type Host interface {
	// Who this node is, a relay login's swap of it, and its profile.
	Identity() *Identity
	SwapUser(seed []byte, then func() error) error
	Profile() Profile
	SetLocalProfile(ctx context.Context, p Profile) error
	// Where a feature keeps what is its own.
	DataDir() string
	FeatureDir(name string) (string, error)
	Settings() Settings
	// The communities and what a feature may need of them.
	Communities() []crdt.ID
	Community(id crdt.ID) (*crdt.Community, error)
	TopicSecret(id crdt.ID) ([]byte, error)
	EpochKeys(id crdt.ID) ([][]byte, error)
	StoredOp(id crdt.ID) ([]byte, error)
	OpenInfo(op *crdt.Op) (crdt.Info, error)
	ImportCommunity(ctx context.Context, id crdt.ID, topic []byte, keys [][]byte) error
	// Events on the local API's stream.
	Emit(typ string, data any)
	// The network: the libp2p host, peers to keep or drop.
	Libp2p() host.Host
	Gossip() *p2p.Gossip
	KeepConnected(pi peer.AddrInfo) bool
	Disconnect(id peer.ID)
	DeviceUser(p peer.ID) (crdt.UserID, bool)
	// The node's run: up, running, wiped.
	Ready() <-chan struct{}
	Running() bool
	Wipe() error
	// Hooks, registered before Run.
	OnPeer(f func(p peer.ID, connected bool))
	OnStored(f func(entries []store.Entry))
	OnCommunity(f func(before, after *crdt.Community))
	OnWipe(f func() error)
	SetInviteCodes(codes InviteCodes)
	SetCarriers(carriers Carriers)
}

var _ Host = (*Node)(nil)

// Settings are the node's small named values, kept in its store: what the
// local API and the features remember across restarts (each under names
// of its own).
type Settings struct{ st *store.Store }

// Get returns a setting's value; nil when it was never set.
func (s Settings) Get(name string) ([]byte, error) { return s.st.Setting(name) }

// Put sets a setting, durably.
func (s Settings) Put(name string, value []byte) error { return s.st.PutSetting(name, value) }

// Delete removes a setting.
func (s Settings) Delete(name string) error { return s.st.DeleteSetting(name) }

// Settings returns the node's settings.
func (n *Node) Settings() Settings { return Settings{n.store} }

// Route is a route of the local API a feature serves: a pattern
// ("METHOD /api/v1/path") and its handler, which answers a status and a
// JSON body or an error (a *httpjson.StatusError, or one the feature's
// error mapping knows).
type Route struct {
	Pattern string
	Handle  func(r *http.Request) (status int, body any, err error)
	// SwapsIdentity: the handler may change the node's identity
	// (SwapUser), so the API does not hold it around the request.
	SwapsIdentity bool
	MaxBody       int64 // the request body's cap in bytes; 0: the API's MaxBody
}

// hooks are the features' callbacks, registered before Run.
type hooks struct {
	mu        sync.Mutex
	peers     []func(peer.ID, bool)
	stored    []func([]store.Entry)
	community []func(before, after *crdt.Community)
	wipe      []func() error
	codes     InviteCodes
	carriers  Carriers
}

// OnPeer makes f hear of every connection to a peer coming (true) or
// going (false), in the libp2p notifier's goroutine: f must not block.
func (n *Node) OnPeer(f func(p peer.ID, connected bool)) {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	n.hooks.peers = append(n.hooks.peers, f)
}

func (n *Node) peerChanged(p peer.ID, connected bool) {
	n.hooks.mu.Lock()
	fs := n.hooks.peers
	n.hooks.mu.Unlock()
	for _, f := range fs {
		f(p, connected)
	}
}

// OnStored makes f hear of every committed batch of ops (ops of this
// device's and received ones alike), after the node itself has: the ops
// are in the store. f runs in the store's commit goroutine and must not
// block.
func (n *Node) OnStored(f func(entries []store.Entry)) {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	n.hooks.stored = append(n.hooks.stored, f)
}

func (n *Node) stored(entries []store.Entry) {
	n.hooks.mu.Lock()
	fs := n.hooks.stored
	n.hooks.mu.Unlock()
	for _, f := range fs {
		f(entries)
	}
}

// OnCommunity makes f hear of every rebuild of a community's state, which
// is how members joining, leaving or changing roles, rekeys, channels and
// the community's info arrive: after is the new state, before the one it
// replaced (nil, or without a Genesis, for a community just created or
// joined). Both are shared and must not be modified; f must not block.
func (n *Node) OnCommunity(f func(before, after *crdt.Community)) {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	n.hooks.community = append(n.hooks.community, f)
}

func (n *Node) communityChanged(before, after *crdt.Community) {
	n.hooks.mu.Lock()
	fs := n.hooks.community
	n.hooks.mu.Unlock()
	for _, f := range fs {
		f(before, after)
	}
}

// FeatureDir returns the folder a feature keeps its files in (files
// received, say): DATA/features/name, made (mode 0700) if needed.
func (n *Node) FeatureDir(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("node: feature folder %q is not a plain name", name)
	}
	dir := filepath.Join(n.cfg.DataDir, "features", name)
	return dir, os.MkdirAll(dir, 0o700)
}

// OnWipe makes f run when a wipe (Wipe) deletes the node's data, after
// the store is closed: a feature deletes what it keeps outside the store.
func (n *Node) OnWipe(f func() error) {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	n.hooks.wipe = append(n.hooks.wipe, f)
}

// InviteCodes gives invites short codes that stand for their links (the
// relay link does, with a relay session). The node revokes an invite's
// code with the invite.
type InviteCodes interface {
	// Create returns a code for link, or nil when there is none to be had
	// (the link works without one).
	Create(ctx context.Context, link string, ttl time.Duration, maxUses uint32) *string
	// Revoke revokes the code made for invite, if any.
	Revoke(ctx context.Context, invite crdt.ID)
	// Resolve returns the link code stands for.
	Resolve(ctx context.Context, code string) (string, error)
}

// ErrNoInviteCodes: nothing gives this node short invite codes.
var ErrNoInviteCodes = errors.New("short invite codes need a relay")

// SetInviteCodes makes codes the node's source of short invite codes.
func (n *Node) SetInviteCodes(codes InviteCodes) {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	n.hooks.codes = codes
}

func (n *Node) inviteCodes() InviteCodes {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	return n.hooks.codes
}

// Carriers knows which peers carry a community's logs for its members
// (the relay link's relay): one having an op makes it sent, as a member's
// device does (delivery.go).
type Carriers interface {
	Carries(p peer.ID, community crdt.ID) bool
}

// SetCarriers makes carriers the node's judge of which peers carry what.
func (n *Node) SetCarriers(carriers Carriers) {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	n.hooks.carriers = carriers
}

func (n *Node) carriers() Carriers {
	n.hooks.mu.Lock()
	defer n.hooks.mu.Unlock()
	return n.hooks.carriers
}

// InviteCode returns a short code for an invite link, or nil.
func (n *Node) InviteCode(ctx context.Context, link string, ttl time.Duration, maxUses uint32) *string {
	if c := n.inviteCodes(); c != nil {
		return c.Create(ctx, link, ttl, maxUses)
	}
	return nil
}

// ResolveInviteCode returns the invite link a short code stands for.
func (n *Node) ResolveInviteCode(ctx context.Context, code string) (string, error) {
	if c := n.inviteCodes(); c != nil {
		return c.Resolve(ctx, code)
	}
	return "", ErrNoInviteCodes
}

// Emit announces an event of a feature's on the local API's stream (see
// Event for what Data may be).
func (n *Node) Emit(typ string, data any) { n.emit(typ, data) }

// Libp2p is the node's libp2p host: for stream protocols of a feature's
// own (and tests that play the network's part).
func (n *Node) Libp2p() host.Host { return n.host }

// Gossip is the node's gossip router, for topics of a feature's own
// (derived from a community's secret, they are refused to its removed
// members like the core's); nil until Ready.
func (n *Node) Gossip() *p2p.Gossip {
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	return n.gossip
}

// KeepConnected has the node redial pi like a bootstrap peer while it
// runs (false before Run has started the dialer).
func (n *Node) KeepConnected(pi peer.AddrInfo) bool {
	n.comms.mu.Lock()
	d := n.dialer
	n.comms.mu.Unlock()
	if d == nil {
		return false
	}
	d.Add(pi)
	return true
}

// Disconnect stops redialing a peer and closes the connections to it.
func (n *Node) Disconnect(id peer.ID) {
	n.comms.mu.Lock()
	d := n.dialer
	n.comms.mu.Unlock()
	if d != nil {
		d.Remove(id)
	}
	_ = n.host.Network().ClosePeer(id)
}

// DeviceUser is the user whose device peer p is, as the node learned it
// from verified ops and signals; false for a peer not heard from yet.
func (n *Node) DeviceUser(p peer.ID) (crdt.UserID, bool) { return n.delivery.devices.User(p) }

// TopicSecret is community id's topic secret, from which its gossip topics
// and sync handles derive: what a relay that carries the community gets.
func (n *Node) TopicSecret(id crdt.ID) ([]byte, error) {
	c := n.comms.get(id)
	if c == nil {
		return nil, ErrUnknownCommunity
	}
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	return c.topic, nil
}

// EpochKeys are the epoch keys this node holds for community id, in no
// particular order: the community state's Current() names the current one.
func (n *Node) EpochKeys(id crdt.ID) ([][]byte, error) {
	c := n.comms.get(id)
	if c == nil {
		return nil, ErrUnknownCommunity
	}
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	keys := make([][]byte, 0, len(c.keys))
	for _, k := range c.keys {
		keys = append(keys, k.Bytes())
	}
	return keys, nil
}

// StoredOp returns the encoded op id as the store holds it.
func (n *Node) StoredOp(id crdt.ID) ([]byte, error) { return n.store.Op(id) }
