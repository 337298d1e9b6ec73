package node

import (
	"slices"
	"sync"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/p2p/recon"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Delivery. A local op is sent — it leaves the outbox, and its message
// stops reading as pending — once a member's node, or the relay that
// carries the community, has it: a sync session this node began with that
// peer ended, and a peer answers a session's last frame only once it has
// stored what it was sent (p2p.SyncResult.Held). A topic peer is not
// enough: it may be the device of a user the community removed, who still
// holds the topic secret.
//
// The devices of kicked and banned users are kept out of the community's
// topics and sync: gossip drops their subscriptions (p2p.Refusing), sync
// refuses their sessions, and the connection to one is closed when its
// user's standing changes, or when it turns out to be such a device, so
// that its subscriptions go (it may connect again for other communities).

// maxAckers bounds how many topic peers a pending op asks to sync at once.
const maxAckers = 3

// delivery is what the node knows for these rules. Gossip's filters read
// it in gossipsub's event loop, so it never waits on comms.mu.
type delivery struct {
	devices *p2p.Devices
	topics  sync.Map // topic name → community ID
	refused sync.Map // community ID → map[crdt.UserID]bool, its kicked and banned users
}

// synced is what a session of log's replica that ended well tells: p is
// a peer worth remembering, and what it now holds may be sent.
func (n *Node) synced(c *community, log crdt.ID) func(peer.ID, *recon.Set) {
	return func(p peer.ID, held *recon.Set) {
		n.metPeer(p)
		n.delivered(c, log, p, held)
	}
}

// learnDevices learns whose devices authored the stored entries.
func (n *Node) learnDevices(entries []store.Entry) {
	for _, e := range entries {
		n.delivery.devices.Learn(e.Op.Author, e.Op.User())
	}
}

// askAcks asks up to maxAckers of a log's topic peers, members' devices
// first, for a sync, which acknowledges what the log's outbox holds.
func (n *Node) askAcks(c *community, r *replica) {
	peers := r.topic.Peers()
	slices.SortStableFunc(peers, func(a, b peer.ID) int { return boolOrder(n.acks(c, b)) - boolOrder(n.acks(c, a)) })
	for _, p := range peers[:min(maxAckers, len(peers))] {
		r.sync.SyncWith(p)
	}
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// delivered marks sent the outbox's ops of log that p now holds (held),
// if p's word counts for c.
func (n *Node) delivered(c *community, log crdt.ID, p peer.ID, held *recon.Set) {
	if !n.acks(c, p) {
		return
	}
	ops, err := n.store.Outbox(outboxBatch)
	if err != nil {
		n.log.Warn("outbox", "err", err)
		return
	}
	var done []*crdt.Op
	for _, op := range ops {
		if op.Log() == log && held.Has(recon.Item{HLC: op.HLC, ID: op.ID}) {
			done = append(done, op)
		}
	}
	if len(done) == 0 {
		return
	}
	if err := n.store.MarkSent(done...); err != nil {
		n.log.Warn("outbox", "err", err)
		return
	}
	for _, op := range done {
		n.sent(op)
	}
}

// acks reports whether p having an op of c makes it sent: p is the device
// of a member (this user's other devices included), or carries c.
func (n *Node) acks(c *community, p peer.ID) bool {
	if u, ok := n.delivery.devices.User(p); ok {
		m := n.comms.state(c).Members[u]
		return m != nil && m.State == crdt.Joined
	}
	carriers := n.carriers()
	return carriers != nil && carriers.Carries(p, c.id)
}

// refuses reports whether p is the device of a user kicked or banned
// from the community topic belongs to.
func (n *Node) refuses(p peer.ID, topic string) bool {
	id, ok := n.delivery.topics.Load(topic)
	if !ok {
		return false
	}
	u, ok := n.delivery.devices.User(p)
	if !ok {
		return false
	}
	refused, _ := n.delivery.refused.Load(id)
	return refused != nil && refused.(map[crdt.UserID]bool)[u]
}

// standingChanged follows a community's kicked and banned users, and
// closes the connections to the devices of those whose standing changed:
// a removed user's device leaves the topics with it, and a user let back
// in subscribes again.
func (n *Node) standingChanged(_, after *crdt.Community) {
	refused := map[crdt.UserID]bool{}
	for u, m := range after.Members {
		if m.State == crdt.Kicked || m.State == crdt.Banned {
			refused[u] = true
		}
	}
	old, _ := n.delivery.refused.Swap(after.ID, refused)
	was, _ := old.(map[crdt.UserID]bool)
	if n.host == nil { // still opening: nobody is connected
		return
	}
	for _, p := range n.host.Network().Peers() {
		if u, ok := n.delivery.devices.User(p); ok && was[u] != refused[u] {
			go n.host.Network().ClosePeer(p)
		}
	}
}

// learnedDevice closes the connection to a device newly learned to be a
// kicked or banned user's, which may have subscribed before it was known.
func (n *Node) learnedDevice(p peer.ID, u crdt.UserID) {
	if n.host == nil || len(n.host.Network().ConnsToPeer(p)) == 0 {
		return
	}
	n.delivery.refused.Range(func(_, refused any) bool {
		if refused.(map[crdt.UserID]bool)[u] {
			go n.host.Network().ClosePeer(p)
			return false
		}
		return true
	})
}
