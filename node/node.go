// Package node is the core of an Ancore node: it wires a device's
// identity, its store and its libp2p host (with LAN discovery and
// redialing of known peers) into one running node, with the communities it
// belongs to — their state, keys, invites, joins, members and messages —
// replicated over gossip topics and sync (node/pipeline) and authorized by
// the community rules of crdt. It announces what changed as Events, and
// offers features (packages of their own, such as node/relaylink) a host
// (host.go). The local API (node/api) is built on it; node/app wires the
// three for the programs.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/joinproto"
	"github.com/ancore/ancore/node/pipeline"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// StoreFile is the name of the store inside the data folder.
const StoreFile = "ancore.db"

// Config says how to build a node.
type Config struct {
	// DataDir holds the node's store; it is created (mode 0700) if needed.
	DataDir string
	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger
	// Listen holds libp2p multiaddrs; none means TCP and QUIC on every
	// interface, on the ports the node had last time (p2p.NewRememberingHost), random
	// ones the first time or when those are taken.
	Listen []string
	// Bootstrap holds peers to connect to (multiaddrs ending in /p2p/ID).
	Bootstrap []string
	// NoLAN turns mDNS discovery off.
	NoLAN bool
	// HostOptions are libp2p options the features need of the host (the
	// relay link's NAT traversal).
	HostOptions []libp2p.Option
}

// Node is one running Ancore node (one device).
type Node struct {
	cfg       Config
	log       *slog.Logger
	store     *store.Store
	identity  atomic.Pointer[Identity] // swapped by SwapUser (a relay login)
	host      host.Host
	bootstrap []peer.AddrInfo
	clock     *crdt.Clock
	verifier  *crdt.Verifier
	pipe      *pipeline.Pipeline
	comms     *communities
	events    atomic.Pointer[func(Event)] // OnEvent
	presence  *presence
	peers     *p2p.PeerMemory
	delivery  delivery
	syncing   struct {
		sync.Mutex
		sessions map[string]SyncEvent // channel/peer → progress
	}
	hooks  hooks
	wiping atomic.Bool // set by Wipe: Run deletes the data when it ends
	// identityMu is held for reading by every API request (HoldIdentity)
	// but a relay login, and for writing by SwapUser while it swaps the
	// identity, so that no request sees half of each. A feature takes its
	// own locks after it.
	identityMu sync.RWMutex

	ready chan struct{} // closed once Run has the node on the network (Ready)

	// Set by Run.
	runCtx   context.Context    // under comms.mu
	stopRun  context.CancelFunc // under comms.mu
	gossip   *p2p.Gossip
	sync     *p2p.Sync
	dialer   *p2p.Dialer
	replicas sync.WaitGroup
}

// New opens the node's data folder, its store and its identity (creating
// an identity on first start).
func New(cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("node: no data folder given")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data folder: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("subsystem", "node"), clock: crdt.NewClock(nil),
		verifier: crdt.NewVerifier(), presence: newPresence(), ready: make(chan struct{})}
	st, err := store.Open(filepath.Join(cfg.DataDir, StoreFile), &store.Options{MayDelete: n.mayDelete})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n.store = st
	n.syncing.sessions = map[string]SyncEvent{}
	id, err := loadIdentity(st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	n.identity.Store(id)
	if err := n.loadCommunities(); err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	if n.peers, err = p2p.LoadPeerMemory(n.Settings(), n.log); err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	n.pipe = pipeline.New(st, n.comms.keyring)
	n.pipe.Authorize(n.authorize)
	n.pipe.OnStored(n.onStored)
	n.delivery.devices = p2p.NewDevices(n.learnedDevice)
	n.OnCommunity(n.standingChanged)
	for _, c := range n.comms.byID {
		if err := n.refresh(context.Background(), c); err != nil {
			st.Close()
			return nil, fmt.Errorf("node: community %s: %w", c.id, err)
		}
	}
	for _, a := range cfg.Bootstrap {
		pi, err := peer.AddrInfoFromString(a)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("node: bootstrap address %q: %w", a, err)
		}
		n.bootstrap = append(n.bootstrap, *pi)
	}
	hc := p2p.HostConfig{DeviceSeed: id.Device.Seed(), Listen: cfg.Listen, Options: cfg.HostOptions}
	if len(cfg.Listen) == 0 {
		n.host, err = p2p.NewRememberingHost(hc, n.Settings())
	} else {
		n.host, err = p2p.NewHost(hc)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	return n, nil
}

// Ready is closed once Run has the node on the network: its gossip, sync,
// replicas and LAN discovery are up, and requests that need them can be
// served (the local API starts answering then).
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Running reports whether Run has started the node's networking (and has
// not stopped): embedders wait for it before they use the network.
func (n *Node) Running() bool {
	n.comms.mu.Lock()
	defer n.comms.mu.Unlock()
	return n.runCtx != nil && n.runCtx.Err() == nil
}

// syncLogs serves the logs of this node's communities to peers that name
// their handle (which only holders of the topic secret can compute).
func (n *Node) syncLogs(p peer.ID, handle string) (p2p.SyncLog, bool) {
	n.comms.mu.Lock()
	log, ok := n.comms.handle[handle]
	n.comms.mu.Unlock()
	if !ok || n.refuses(p, handle) {
		return nil, false
	}
	n.metPeer(p)
	return n.pipe.SyncLog(log), true
}

// Addrs returns the node's full libp2p addresses (with /p2p/ID), which
// other nodes can take as bootstrap addresses.
func (n *Node) Addrs() []string {
	var out []string
	for _, a := range n.host.Addrs() {
		out = append(out, a.String()+"/p2p/"+n.host.ID().String())
	}
	return out
}

// Peers returns the peers the node is connected to.
func (n *Node) Peers() []peer.ID { return n.host.Network().Peers() }

// PeerID is the node's libp2p peer ID (its device key).
func (n *Node) PeerID() peer.ID { return n.host.ID() }

// PeerAddrs returns the remote addresses of the node's connections to p.
func (n *Node) PeerAddrs(p peer.ID) []string {
	out := []string{}
	for _, c := range n.host.Network().ConnsToPeer(p) {
		out = append(out, c.RemoteMultiaddr().String())
	}
	return out
}

// Identity returns the node's user and device identity. The user changes
// when a relay login restores another (on a node without communities).
func (n *Node) Identity() *Identity { return n.identity.Load() }

// HoldIdentity keeps the identity from changing until release is called:
// the local API holds it around every request but the relay login, so
// that no request sees half of one identity and half of another.
func (n *Node) HoldIdentity() (release func()) {
	n.identityMu.RLock()
	return n.identityMu.RUnlock
}

// DataDir returns the node's data folder.
func (n *Node) DataDir() string { return n.cfg.DataDir }

// Run keeps the node connected — to bootstrap peers, to the peers of its
// communities it remembers (peers.go) and, unless NoLAN, to peers found on
// the LAN — until ctx is done, then closes the host and the
// store, which waits for every queued write to commit. After Wipe it stops
// by itself, deletes the store (and what the features' OnWipe hooks
// delete), and returns ErrWiped.
func (n *Node) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	u, d := n.Identity().User.ID(), n.Identity().Device.ID()
	n.log.Info("node running", "user", u.String(), "device", d.String(), "data", n.cfg.DataDir, "addrs", n.Addrs())
	// Connection changes are worth a line in the log: they are what a
	// user checks first when messages do not arrive.
	kickOutbox := make(chan struct{}, 1)
	notify := &network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			n.log.Info("peer connected", "peer", c.RemotePeer(), "addr", c.RemoteMultiaddr())
			n.emit("network:update", PeerUpdate{Peer: c.RemotePeer().String(), Connected: true})
			n.peerChanged(c.RemotePeer(), true)
			select {
			case kickOutbox <- struct{}{}:
			default:
			}
		},
		DisconnectedF: func(_ network.Network, c network.Conn) {
			n.log.Info("peer disconnected", "peer", c.RemotePeer())
			n.emit("network:update", PeerUpdate{Peer: c.RemotePeer().String(), Connected: false})
			if n.host.Network().Connectedness(c.RemotePeer()) != network.Connected {
				n.peerGone(c.RemotePeer())
			}
			n.peerChanged(c.RemotePeer(), false)
		},
	}
	n.host.Network().Notify(notify)
	defer n.host.Network().StopNotify(notify)
	dialer := p2p.NewDialer(n.host)
	for _, pi := range n.bootstrap {
		dialer.Add(pi)
	}
	for _, pi := range n.peers.Remembered() {
		dialer.Add(pi)
	}
	// The gossip outlives ctx by the presence goodbye (announcePresence).
	gossipCtx, stopGossip := context.WithCancel(context.WithoutCancel(ctx))
	defer stopGossip()
	gossip, err := p2p.NewGossip(gossipCtx, n.host, n.admit, p2p.Refusing(n.refuses))
	if err != nil {
		return errors.Join(fmt.Errorf("node: gossip: %w", err), n.host.Close(), n.store.Close())
	}
	n.comms.mu.Lock()
	n.gossip, n.dialer, n.sync = gossip, dialer, p2p.NewSync(n.host, n.syncLogs)
	n.runCtx, n.stopRun = ctx, stop
	n.comms.mu.Unlock()
	n.host.SetStreamHandler(joinproto.Protocol, n.serveJoin)
	n.host.SetStreamHandler(joinproto.ProtocolV1, n.serveJoin)
	for _, id := range n.Communities() {
		n.replicate(n.comms.get(id))
	}
	if !n.cfg.NoLAN {
		var lan *p2p.LAN
		if lan, err = p2p.StartLAN(n.host, dialer); err != nil {
			err = fmt.Errorf("node: LAN discovery: %w", err)
		} else {
			defer lan.Close()
		}
	}
	if err == nil {
		var bg sync.WaitGroup
		close(n.ready)
		bg.Go(func() { n.flushOutbox(ctx, kickOutbox) })
		bg.Go(func() { n.announcePresence(ctx) })
		dialer.Run(ctx)
		bg.Wait()
	}
	close(n.presence.said)
	stopGossip()
	n.log.Info("node stopping")
	if rerr := n.peers.RememberMet(n.host); rerr != nil {
		n.log.Warn("remember peers", "err", rerr)
	}
	n.host.RemoveStreamHandler(joinproto.Protocol)
	n.host.RemoveStreamHandler(joinproto.ProtocolV1)
	n.sync.Close()
	n.replicas.Wait()
	err = errors.Join(err, n.host.Close(), n.store.Close())
	if !n.wiping.Load() {
		return err
	}
	if werr := n.wipe(); werr != nil {
		return errors.Join(err, fmt.Errorf("node: wipe: %w", werr))
	}
	n.log.Warn("identity and data wiped", "data", n.cfg.DataDir)
	return errors.Join(err, ErrWiped)
}

// ErrWiped is what Run returns after Wipe: the store is deleted, so the
// next start makes a new identity. The program should exit.
var ErrWiped = errors.New("this device's identity and data were wiped")

// Wipe stops the running node; Run then deletes the store and the
// features' folders, runs the OnWipe hooks and returns ErrWiped. ErrNotRunning before Run has started.
func (n *Node) Wipe() error {
	n.comms.mu.Lock()
	stop, running := n.stopRun, n.runCtx != nil && n.runCtx.Err() == nil
	n.comms.mu.Unlock()
	if !running {
		return ErrNotRunning
	}
	n.log.Warn("wiping this device's identity and data")
	n.wiping.Store(true)
	stop()
	return nil
}

// wipe deletes the store (closed by then) and the features' folders, and
// runs the OnWipe hooks.
func (n *Node) wipe() error {
	errs := []error{}
	if err := os.Remove(filepath.Join(n.cfg.DataDir, StoreFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	errs = append(errs, os.RemoveAll(filepath.Join(n.cfg.DataDir, "features")))
	n.hooks.mu.Lock()
	fs := n.hooks.wipe
	n.hooks.mu.Unlock()
	for _, f := range fs {
		errs = append(errs, f())
	}
	return errors.Join(errs...)
}
