// Package announce tells the members of this node's communities where it
// can be reached, and learns where they can (docs/protocol.md, "Address
// announcements"). Peer memory (p2p.PeerMemory) has a restarted node
// redial the peers it remembers; but the members who remember only its
// old addresses, or never reached it, can find it only if it tells them.
// So on each community's address topic the node publishes a signed peer
// record of its current addresses — when a peer joins the topic (a
// neighbour's mesh then carries it to the rest), when its addresses
// change, and every reannounceEvery — and dials the members' devices it
// hears of and is not connected to.
package announce

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

const (
	// reannounceEvery renews the announcement for members that missed
	// it (and well within the receivers' ten-minute freshness window).
	reannounceEvery = 5 * time.Minute
	// minGap spaces one topic's announcements: peers joining at once
	// (a reconnect to many) get one.
	minGap = time.Second
	// learnedAddrTTL is how long an announced address stays in the
	// peerstore; a member that moves announces again.
	learnedAddrTTL = time.Hour
	// maxPending bounds, per community, the announcements of users not
	// known to be members yet, kept until the community's state says.
	maxPending = 256
	// pendingFor is how long such an announcement is kept: the
	// receivers' freshness window.
	pendingFor = 10 * time.Minute
)

// Announcer is the feature.
type Announcer struct {
	host    node.Host
	log     *slog.Logger
	changed chan struct{} // the communities may have changed

	mu sync.Mutex
	// pending holds, per community, the announcements of devices not
	// known to be a member's when they arrived: a member's join and its
	// first announcement race, and the announcement is not repeated.
	pending map[crdt.ID]map[peer.ID]p2p.AddrAnnouncement
}

// New makes the feature; Open attaches it to a node.
func New() *Announcer {
	return &Announcer{changed: make(chan struct{}, 1), pending: map[crdt.ID]map[peer.ID]p2p.AddrAnnouncement{}}
}

// Open attaches the feature to h, before h runs.
func (a *Announcer) Open(h node.Host, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	a.host, a.log = h, logger.With("subsystem", "announce")
	// A community joined or left, or members that joined.
	h.OnCommunity(func(before, after *crdt.Community) { a.kick() })
	return nil
}

func (a *Announcer) kick() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// joined is a community's address topic and what runs on it.
type joined struct {
	topic *p2p.AddrTopic
	stop  context.CancelFunc
	done  chan struct{}
}

// Run follows the communities' address topics until ctx ends.
func (a *Announcer) Run(ctx context.Context) {
	select {
	case <-a.host.Ready():
	case <-ctx.Done():
		return
	}
	moved, err := a.host.Libp2p().EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		a.log.Error("address updates", "err", err)
		return
	}
	defer moved.Close()
	topics := map[crdt.ID]*joined{}
	defer func() {
		for _, j := range topics {
			j.close()
		}
	}()
	tick := time.NewTicker(reannounceEvery)
	defer tick.Stop()
	a.follow(ctx, topics)
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.changed:
			a.follow(ctx, topics)
			a.judgePending()
		case <-moved.Out():
			a.announceAll(ctx, topics)
		case <-tick.C:
			a.announceAll(ctx, topics)
		}
	}
}

// follow joins the address topics of the communities the node is in and
// leaves those of the others.
func (a *Announcer) follow(ctx context.Context, topics map[crdt.ID]*joined) {
	in := map[crdt.ID]bool{}
	for _, id := range a.host.Communities() {
		in[id] = true
		if topics[id] == nil {
			if j := a.join(ctx, id); j != nil {
				topics[id] = j
			}
		}
	}
	for id, j := range topics {
		if !in[id] {
			j.close()
			delete(topics, id)
		}
	}
}

func (a *Announcer) join(ctx context.Context, id crdt.ID) *joined {
	secret, err := a.host.TopicSecret(id)
	if err != nil {
		return nil // left meanwhile
	}
	topic, err := a.host.Gossip().JoinAddrs(secret, id, func(an p2p.AddrAnnouncement) p2p.Verdict { return a.admit(id, an) })
	if err != nil {
		a.log.Error("join address topic", "community", id, "err", err)
		return nil
	}
	ctx, stop := context.WithCancel(ctx)
	j := &joined{topic: topic, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.learn(ctx, topic)
		}()
		a.greet(ctx, topic)
		<-done
	}()
	return j
}

func (j *joined) close() {
	j.stop()
	<-j.done
	j.topic.Close()
}

// admit forwards the announcements of joined members' devices; others'
// are ignored, not penalized — this node may not know of a join yet — and
// kept for judgePending.
func (a *Announcer) admit(id crdt.ID, an p2p.AddrAnnouncement) p2p.Verdict {
	if a.isMember(id, an.User) {
		return p2p.Accept
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.pending[id]
	if m == nil {
		m = map[peer.ID]p2p.AddrAnnouncement{}
		a.pending[id] = m
	}
	if _, ok := m[an.Peer.ID]; ok || len(m) < maxPending {
		m[an.Peer.ID] = an
	}
	return p2p.Ignore
}

func (a *Announcer) isMember(id crdt.ID, u crdt.UserID) bool {
	c, err := a.host.Community(id)
	if err != nil {
		return false
	}
	m := c.Members[u]
	return m != nil && m.State == crdt.Joined
}

// judgePending dials the pending announcements' devices that are now
// known to be members', and forgets those too old or of communities left.
func (a *Announcer) judgePending() {
	var dial []p2p.AddrAnnouncement
	old := time.Now().Add(-pendingFor)
	a.mu.Lock()
	for id, m := range a.pending {
		for p, an := range m {
			switch member := a.isMember(id, an.User); {
			case member:
				dial = append(dial, an)
				fallthrough
			case an.Time.Before(old):
				delete(m, p)
			}
		}
		if _, err := a.host.Community(id); len(m) == 0 || err != nil {
			delete(a.pending, id)
		}
	}
	a.mu.Unlock()
	for _, an := range dial {
		a.reach(an)
	}
}

// greet announces on topic whenever peers join it, at most every minGap.
func (a *Announcer) greet(ctx context.Context, topic *p2p.AddrTopic) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-topic.Joined():
		}
		a.announce(ctx, topic)
		select {
		case <-ctx.Done():
			return
		case <-time.After(minGap):
		}
	}
}

// learn reaches the members' devices announced on topic.
func (a *Announcer) learn(ctx context.Context, topic *p2p.AddrTopic) {
	for {
		an, err := topic.Next(ctx)
		if err != nil {
			return
		}
		a.reach(an)
	}
}

// reach keeps a member's announced addresses and dials its device if the
// node is not connected to it.
func (a *Announcer) reach(an p2p.AddrAnnouncement) {
	h := a.host.Libp2p()
	h.Peerstore().AddAddrs(an.Peer.ID, an.Peer.Addrs, learnedAddrTTL)
	if h.Network().Connectedness(an.Peer.ID) != network.Connected {
		a.log.Debug("member announced", "peer", an.Peer.ID, "addrs", an.Peer.Addrs)
		a.host.KeepConnected(an.Peer)
	}
}

func (a *Announcer) announceAll(ctx context.Context, topics map[crdt.ID]*joined) {
	for _, j := range topics {
		a.announce(ctx, j.topic)
	}
}

// announce publishes where this node is now.
func (a *Announcer) announce(ctx context.Context, topic *p2p.AddrTopic) {
	h := a.host.Libp2p()
	addrs := bestFirst(h.Addrs())
	if len(addrs) == 0 {
		return
	}
	msg, err := p2p.SealAddrs(h.Peerstore().PrivKey(h.ID()), a.host.Identity().Device.Cert(), addrs, time.Now())
	if err != nil {
		a.log.Warn("seal addresses", "err", err)
		return
	}
	if err := topic.Publish(ctx, msg); err != nil && ctx.Err() == nil {
		a.log.Warn("announce addresses", "err", err)
	}
}

// bestFirst orders addresses as a member elsewhere would best try them:
// public, then private (a LAN), then loopback (the same machine), so that
// those an announcement cuts (p2p.MaxAnnouncedAddrs) are the least useful.
func bestFirst(addrs []ma.Multiaddr) []ma.Multiaddr {
	rank := func(m ma.Multiaddr) int {
		switch {
		case manet.IsPublicAddr(m):
			return 0
		case manet.IsPrivateAddr(m):
			return 1
		}
		return 2
	}
	out := slices.Clone(addrs)
	slices.SortStableFunc(out, func(x, y ma.Multiaddr) int { return cmp.Compare(rank(x), rank(y)) })
	return out
}
