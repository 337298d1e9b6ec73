package node

import (
	"slices"
	"strings"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Events: what changed, as the local API announces it (node/api renders
// and streams them; the types are in docs/api/openapi.yaml). Messages and
// reactions are announced from committed store batches, so an event never
// announces something the store does not hold; community changes from the
// difference between a community's state before and after a rebuild.

// Event is one change. Data is a *crdt.Message (message:new,
// message:update), a *crdt.Community (community:update), a ChannelChange
// (channel:create, channel:update), a MemberChange (member:join, :leave,
// :update), or for the other types a value already in the API's shape
// (MessageRef, ReactionEvent, ChannelRef, SyncEvent, PresenceEvent,
// TypingEvent, PeerUpdate, RelayUpdate).
type Event struct {
	Type string
	Data any
}

// ChannelChange is a channel created or changed in a community.
type ChannelChange struct {
	Community crdt.ID
	Channel   *crdt.Channel
}

// MemberChange is a member of a community joining, leaving or changing.
type MemberChange struct {
	Community *crdt.Community
	Member    *crdt.Member
}

// PeerUpdate is the data of a network:update event for a peer's
// connection coming or going.
type PeerUpdate struct {
	Peer      string `json:"peer"`
	Connected bool   `json:"connected"`
}

// OnEvent makes f receive every event from now on (one receiver: the
// local API). f runs in the goroutine that made the change, under no lock
// of the node's, and must not block.
func (n *Node) OnEvent(f func(Event)) { n.events.Store(&f) }

// MessageRef names a message, for events about one that is gone.
type MessageRef struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
}

// ReactionEvent is a reaction added or removed.
type ReactionEvent struct {
	Message string `json:"message"`
	Channel string `json:"channel"`
	Emoji   string `json:"emoji"`
	User    string `json:"user"`
}

// ChannelRef names a deleted channel.
type ChannelRef struct {
	ID        string `json:"id"`
	Community string `json:"community"`
}

func (n *Node) emit(typ string, data any) {
	if f := n.events.Load(); f != nil {
		(*f)(Event{Type: typ, Data: data})
	}
}

// BulkEvents is how many message ops of one channel in one committed
// batch are announced one by one; a bigger batch (a sync catching up) is
// announced as one sync:progress event, after which clients refetch the
// channel rather than replay thousands of events.
const BulkEvents = 32

// SyncEvent is progress of catching a log up (event sync:progress): a
// session with Peer has received Done of Total ops, or a batch of Ops
// arrived at once.
type SyncEvent struct {
	Channel string `json:"channel"`
	Peer    string `json:"peer,omitempty"`
	Done    int    `json:"done,omitempty"`
	Total   int    `json:"total,omitempty"`
	Ops     int    `json:"ops,omitempty"`
}

// syncProgress records and announces a sync session's progress.
func (n *Node) syncProgress(log crdt.ID, p peer.ID, done, total int) {
	e := SyncEvent{Channel: log.String(), Peer: p.String(), Done: done, Total: total}
	n.syncing.Lock()
	if done >= total {
		delete(n.syncing.sessions, e.Channel+"/"+e.Peer)
	} else {
		n.syncing.sessions[e.Channel+"/"+e.Peer] = e
	}
	n.syncing.Unlock()
	n.emit("sync:progress", e)
}

// SyncSessions lists the sync sessions under way.
func (n *Node) SyncSessions() []SyncEvent {
	n.syncing.Lock()
	defer n.syncing.Unlock()
	out := []SyncEvent{}
	for _, e := range n.syncing.sessions {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b SyncEvent) int { return strings.Compare(a.Channel+a.Peer, b.Channel+b.Peer) })
	return out
}

// emitStored announces the messages and reactions a committed batch
// changed.
func (n *Node) emitStored(entries []store.Entry) {
	perChannel := map[crdt.ID]int{}
	for _, e := range entries {
		if e.Readable && !e.Op.Kind.IsState() {
			perChannel[e.Op.Channel]++
		}
	}
	for ch, count := range perChannel {
		if count > BulkEvents {
			n.emit("sync:progress", SyncEvent{Channel: ch.String(), Ops: count})
		}
	}
	for _, e := range entries {
		op := e.Op
		if !e.Readable || op.Kind.IsState() || perChannel[op.Channel] > BulkEvents {
			continue
		}
		switch op.Kind {
		case crdt.KindPost, crdt.KindEdit:
			id := op.ID
			typ := "message:new"
			if op.Kind == crdt.KindEdit {
				id, typ = op.Target, "message:update"
			}
			if m, err := n.store.Message(op.Channel, id); err == nil && !m.Deleted {
				n.emit(typ, m)
			}
		case crdt.KindDelete:
			if m, err := n.store.Message(op.Channel, op.Target); err == nil && m.Deleted {
				n.emit("message:delete", MessageRef{ID: op.Target.String(), Channel: op.Channel.String()})
			}
		case crdt.KindReact, crdt.KindUnreact:
			typ := "reaction:add"
			if op.Kind == crdt.KindUnreact {
				typ = "reaction:remove"
			}
			n.emit(typ, ReactionEvent{Message: op.Target.String(), Channel: op.Channel.String(),
				Emoji: e.Body.Emoji, User: op.User().String()})
		}
	}
}

// sent announces that a pending message left the outbox.
func (n *Node) sent(op *crdt.Op) {
	if op.Kind != crdt.KindPost {
		return
	}
	if m, err := n.store.Message(op.Channel, op.ID); err == nil && !m.Deleted {
		n.emit("message:update", m)
	}
}

// emitState announces what changed between two states of a community.
func (n *Node) emitState(before, after *crdt.Community) {
	if after.Genesis == nil {
		return
	}
	if before == nil || before.Genesis == nil {
		// Everything is new: a community just created or joined.
		before = &crdt.Community{}
	}
	if before.Meta != after.Meta || before.Dissolved != after.Dissolved {
		n.emit("community:update", after)
	}
	for id, ch := range after.Channels {
		old := before.Channels[id]
		switch {
		case ch.Deleted && (old == nil || !old.Deleted):
			n.emit("channel:delete", ChannelRef{ID: id.String(), Community: after.ID.String()})
		case ch.Deleted:
		case old == nil:
			n.emit("channel:create", ChannelChange{Community: after.ID, Channel: ch})
		case old.Info != ch.Info || old.Position != ch.Position:
			n.emit("channel:update", ChannelChange{Community: after.ID, Channel: ch})
		}
	}
	for u, m := range after.Members {
		old := before.Members[u]
		ev := MemberChange{Community: after, Member: m}
		switch {
		case m.State == crdt.Joined && (old == nil || old.State != crdt.Joined):
			n.emit("member:join", ev)
			n.presence.announce() // a newcomer (maybe us) learns who is here
			if u == n.Identity().User.ID() {
				go n.publishProfile(after.ID) // not from inside a rebuild
			}
		case m.State != crdt.Joined && old != nil && old.State == crdt.Joined:
			n.emit("member:leave", ev)
		case old != nil && (old.Profile != m.Profile || !slices.Equal(old.Roles, m.Roles) || old.State != m.State):
			n.emit("member:update", ev)
		}
	}
}
