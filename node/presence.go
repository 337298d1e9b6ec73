package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Presence and typing: ephemeral, signed signals on each community's
// signal topic, never stored. A node announces its user's status every
// presenceInterval and whenever it changes, and offline when it stops; a
// user is offline once the connection to the device last heard from is
// lost (a node that crashed says no goodbye), or when not heard of for
// presenceTTL. The goodbye is handed to the transport for every peer
// before the connections close, but closing them may still cut it off, so
// for members who hear a device only through others it is best effort and
// the expiry remains their fallback. Typing lasts
// TypingTTL unless repeated.

const (
	presenceInterval = 30 * time.Second
	presenceTTL      = 3 * presenceInterval
	// TypingTTL is how long a typing signal holds.
	TypingTTL = 8 * time.Second
	// goodbyeTimeout bounds announcing offline when the node stops.
	goodbyeTimeout = 2 * time.Second
)

// Statuses a user can choose; "invisible" is announced as offline.
var statuses = map[string]crdt.Status{"online": crdt.StatusOnline, "idle": crdt.StatusIdle,
	"dnd": crdt.StatusDND, "invisible": crdt.StatusOffline}

// ValidStatus reports whether s is a status a user can choose.
func ValidStatus(s string) bool {
	_, ok := statuses[s]
	return ok
}

var statusNames = map[crdt.Status]string{crdt.StatusOnline: "online", crdt.StatusIdle: "idle",
	crdt.StatusDND: "dnd", crdt.StatusOffline: "offline"}

const settingStatus = "status"

// PresenceEvent is a user's status in a community (event user:presence).
type PresenceEvent struct {
	Community string `json:"community"`
	User      string `json:"user"`
	Status    string `json:"status"`
}

// TypingEvent says a user is typing in a channel until Until (event
// user:typing).
type TypingEvent struct {
	Community string    `json:"community"`
	Channel   string    `json:"channel"`
	User      string    `json:"user"`
	Until     time.Time `json:"until"`
}

// presence is what a node knows of others' statuses.
type presence struct {
	mu   sync.Mutex
	seen map[crdt.ID]map[crdt.UserID]seenStatus
	kick chan struct{} // announce now
	// said is closed once the goodbye is said (or none will be): the
	// signal topics stay open until then.
	said chan struct{}
}

type seenStatus struct {
	status crdt.Status
	at     time.Time // when heard
	sent   time.Time // when said (the signal's time)
	device peer.ID   // the device it came from
}

func newPresence() *presence {
	return &presence{seen: map[crdt.ID]map[crdt.UserID]seenStatus{}, kick: make(chan struct{}, 1), said: make(chan struct{})}
}

// Status returns the local user's chosen status.
func (n *Node) Status() string {
	v, _ := n.store.Setting(settingStatus)
	if _, ok := statuses[string(v)]; !ok {
		return "online"
	}
	return string(v)
}

// SetStatus sets the local user's status and announces it.
func (n *Node) SetStatus(s string) error {
	if _, ok := statuses[s]; !ok {
		return fmt.Errorf("status must be online, idle, dnd or invisible")
	}
	if err := n.store.PutSetting(settingStatus, []byte(s)); err != nil {
		return err
	}
	n.presence.announce()
	return nil
}

// announce asks for this user's status to be sent now.
func (p *presence) announce() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// UserStatus returns what this node knows of u's status in a community.
func (n *Node) UserStatus(community crdt.ID, u crdt.UserID) string {
	if u == n.Identity().User.ID() {
		if s := n.Status(); s != "invisible" {
			return s
		}
		return "offline"
	}
	n.presence.mu.Lock()
	defer n.presence.mu.Unlock()
	s, ok := n.presence.seen[community][u]
	if !ok || time.Since(s.at) > presenceTTL {
		return "offline"
	}
	return statusNames[s.status]
}

// joinSignals joins c's signal topic and follows it until ctx ends.
// comms.mu is held.
func (n *Node) joinSignals(ctx context.Context, c *community) {
	if c.signals != nil {
		return
	}
	n.delivery.topics.Store(p2p.SignalTopicName(c.topic, c.id), c.id)
	n.delivery.topics.Store(p2p.AddrTopicName(c.topic, c.id), c.id) // node/announce's
	topic, err := n.gossip.JoinSignals(c.topic, c.id, func(s crdt.Signal) p2p.Verdict {
		n.delivery.devices.Learn(s.Author, s.User())
		if m := n.comms.state(c).Members[s.User()]; m != nil && m.State == crdt.Joined {
			return p2p.Accept
		}
		return p2p.Ignore
	})
	if err != nil {
		n.log.Error("join signal topic", "community", c.id, "err", err)
		return
	}
	c.signals = topic
	n.presence.announce()
	n.replicas.Add(1)
	go func() {
		defer n.replicas.Done()
		defer func() {
			<-n.presence.said
			topic.Close()
		}()
		for {
			s, err := topic.Next(ctx)
			if err != nil {
				return
			}
			n.signal(s)
		}
	}()
}

// signal records and announces a peer's signal.
func (n *Node) signal(s crdt.Signal) {
	switch s.Kind {
	case crdt.SignalPresence:
		n.presence.mu.Lock()
		m := n.presence.seen[s.Community]
		if m == nil {
			m = map[crdt.UserID]seenStatus{}
			n.presence.seen[s.Community] = m
		}
		old, had := m[s.User()]
		if had && s.Time.Before(old.sent) {
			// Gossip does not keep order: an older status (the last
			// "online" before a goodbye, say) must not undo a newer one.
			n.presence.mu.Unlock()
			return
		}
		device, _ := p2p.PeerOf(s.Author) // a verified signal's author is a valid key
		m[s.User()] = seenStatus{status: s.Status, at: time.Now(), sent: s.Time, device: device}
		n.presence.mu.Unlock()
		fresh := !had || time.Since(old.at) > presenceTTL
		if fresh || old.status != s.Status {
			n.emit("user:presence", PresenceEvent{Community: s.Community.String(), User: s.User().String(), Status: statusNames[s.Status]})
		}
		if fresh {
			// Someone new (or back): tell them our status now rather than
			// at our next heartbeat.
			n.presence.announce()
		}
	case crdt.SignalTyping:
		n.emit("user:typing", TypingEvent{Community: s.Community.String(), Channel: s.Channel.String(),
			User: s.User().String(), Until: s.Time.Add(TypingTTL).UTC()})
	}
}

// announcePresence publishes this user's status to every community now,
// every presenceInterval and on every change, until ctx ends; it also
// announces users that fell silent as offline.
func (n *Node) announcePresence(ctx context.Context) {
	tick := time.NewTicker(presenceInterval)
	defer tick.Stop()
	for {
		n.sendPresence(ctx, statuses[n.Status()], false)
		n.expirePresence()
		select {
		case <-ctx.Done():
			// Goodbye, while the gossip still runs (Run stops it after),
			// waiting for it to leave before the connections close.
			bye, cancel := context.WithTimeout(context.WithoutCancel(ctx), goodbyeTimeout)
			n.sendPresence(bye, crdt.StatusOffline, true)
			cancel()
			return
		case <-tick.C:
		case <-n.presence.kick:
		}
	}
}

// sendPresence announces status to every community this user is a member
// of (the others refuse); with sent it waits for each to leave.
func (n *Node) sendPresence(ctx context.Context, status crdt.Status, sent bool) {
	for _, id := range n.Communities() {
		_ = n.sendSignal(ctx, id, crdt.Signal{Kind: crdt.SignalPresence, Community: id, Status: status}, sent)
	}
}

// peerGone marks offline the users whose status last came from device p,
// which this node is no longer connected to.
func (n *Node) peerGone(p peer.ID) {
	n.presence.mu.Lock()
	var gone []PresenceEvent
	for community, users := range n.presence.seen {
		for u, s := range users {
			if s.device == p {
				delete(users, u)
				if s.status != crdt.StatusOffline {
					gone = append(gone, PresenceEvent{Community: community.String(), User: u.String(), Status: "offline"})
				}
			}
		}
	}
	n.presence.mu.Unlock()
	for _, e := range gone {
		n.emit("user:presence", e)
	}
}

func (n *Node) expirePresence() {
	n.presence.mu.Lock()
	var gone []PresenceEvent
	for community, users := range n.presence.seen {
		for u, s := range users {
			if time.Since(s.at) > presenceTTL {
				delete(users, u)
				gone = append(gone, PresenceEvent{Community: community.String(), User: u.String(), Status: "offline"})
			}
		}
	}
	n.presence.mu.Unlock()
	for _, e := range gone {
		n.emit("user:presence", e)
	}
}

// Typing announces that this user is typing in channel.
func (n *Node) Typing(ctx context.Context, channel crdt.ID) error {
	c := n.comms.ofLog(channel)
	if c == nil || c.id == channel {
		return ErrUnknownChannel
	}
	return n.sendSignal(ctx, c.id, crdt.Signal{Kind: crdt.SignalTyping, Community: c.id, Channel: channel}, false)
}

// ErrNoSignals: the node is not (yet) on the community's signal topic.
var ErrNoSignals = errors.New("not connected to the community's signal topic")

// sendSignal signs and publishes s on community's signal topic; with sent
// it waits until s was handed to the transport for every peer there.
func (n *Node) sendSignal(ctx context.Context, community crdt.ID, s crdt.Signal, sent bool) error {
	c := n.comms.get(community)
	if c == nil {
		return ErrUnknownCommunity
	}
	if m := n.comms.state(c).Members[n.Identity().User.ID()]; m == nil || m.State != crdt.Joined {
		return ErrForbidden
	}
	n.comms.mu.Lock()
	topic := c.signals
	n.comms.mu.Unlock()
	if topic == nil {
		return ErrNoSignals
	}
	s.Time = time.Now()
	b, err := n.Identity().Device.SignSignal(s)
	if err != nil {
		return err
	}
	if sent {
		return topic.PublishSent(ctx, b)
	}
	return topic.Publish(ctx, b)
}
