package p2p

import (
	"bytes"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// meshTracer follows gossipsub's mesh: which peers this node exchanges
// full messages with, per topic. A topic's messages only travel beyond
// direct publishing once its mesh has formed (at a heartbeat), so the
// network view and tests that need a working mesh read it here.
//
// It also tells when a message was handed to the transport for each of a
// set of peers (awaitSent): what a node that stops waits for before it
// closes its connections.
type meshTracer struct {
	mu      sync.Mutex
	mesh    map[string]map[peer.ID]struct{}
	waiters map[*sendWaiter]struct{}
}

// sendWaiter waits for data to be written to each peer of want.
type sendWaiter struct {
	data []byte
	want map[peer.ID]struct{}
	done chan struct{}
}

func newMeshTracer() *meshTracer {
	return &meshTracer{mesh: make(map[string]map[peer.ID]struct{}), waiters: make(map[*sendWaiter]struct{})}
}

// expectSent registers a wait for data to be sent to peers; wait on its
// done, then forget it.
func (m *meshTracer) expectSent(data []byte, peers []peer.ID) *sendWaiter {
	w := &sendWaiter{data: data, want: make(map[peer.ID]struct{}, len(peers)), done: make(chan struct{})}
	for _, p := range peers {
		w.want[p] = struct{}{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(w.want) == 0 {
		close(w.done)
		return w
	}
	m.waiters[w] = struct{}{}
	return w
}

func (m *meshTracer) forget(w *sendWaiter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.waiters, w)
}

// sentTo notes that p will not be waited for by w any more. m.mu is held.
func (m *meshTracer) sentTo(w *sendWaiter, p peer.ID) {
	if _, ok := w.want[p]; !ok {
		return
	}
	delete(w.want, p)
	if len(w.want) == 0 {
		close(w.done)
		delete(m.waiters, w)
	}
}

func (m *meshTracer) SendRPCCompleted(rpc *pubsub.RPC, p peer.ID, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for w := range m.waiters {
		for _, msg := range rpc.GetPublish() {
			if bytes.Equal(msg.GetData(), w.data) {
				m.sentTo(w, p)
				break
			}
		}
	}
}

func (m *meshTracer) peers(topic string) []peer.ID {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []peer.ID
	for p := range m.mesh[topic] {
		out = append(out, p)
	}
	return out
}

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh[topic] == nil {
		m.mesh[topic] = make(map[peer.ID]struct{})
	}
	m.mesh[topic][p] = struct{}{}
}

func (m *meshTracer) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[topic], p)
}

func (m *meshTracer) RemovePeer(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ps := range m.mesh {
		delete(ps, p)
	}
	for w := range m.waiters { // a peer gone is not waited for
		m.sentTo(w, p)
	}
}

func (m *meshTracer) Leave(topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh, topic)
}

// The rest of pubsub.RawTracer is not needed here.

func (*meshTracer) AddPeer(peer.ID, protocol.ID)             {}
func (*meshTracer) Join(string)                              {}
func (*meshTracer) ValidateMessage(*pubsub.Message)          {}
func (*meshTracer) DeliverMessage(*pubsub.Message)           {}
func (*meshTracer) RejectMessage(*pubsub.Message, string)    {}
func (*meshTracer) DuplicateMessage(*pubsub.Message)         {}
func (*meshTracer) ThrottlePeer(peer.ID)                     {}
func (*meshTracer) RecvRPC(*pubsub.RPC)                      {}
func (*meshTracer) SendRPC(*pubsub.RPC, peer.ID)             {}
func (*meshTracer) DropRPC(*pubsub.RPC, peer.ID)             {}
func (*meshTracer) UndeliverableMessage(*pubsub.Message)     {}
func (*meshTracer) OnNewOutboundStream(peer.ID, protocol.ID) {}
func (*meshTracer) OnClosedOutboundStream(peer.ID)           {}

var _ pubsub.RawTracer = (*meshTracer)(nil)
