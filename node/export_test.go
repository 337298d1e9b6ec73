package node

import (
	"context"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
)

// Hooks for this folder's external tests (api_bench_test.go), which build
// fixtures and inject ops below the API that they then measure through it.

func (n *Node) Keyring() crdt.Keyring { return n.comms.keyring() }

func (n *Node) Clock() *crdt.Clock { return n.clock }

func (n *Node) IngestVerified(ctx context.Context, ops []*crdt.Op) error {
	return n.pipe.IngestVerified(ctx, ops)
}

// ChannelTopic is the gossip topic of a channel of community id.
func (n *Node) ChannelTopic(id, channel crdt.ID) *p2p.Topic {
	return n.comms.get(id).logs[channel].topic
}

// Subscribers is how many peers are on a channel's topic.
func (n *Node) Subscribers(id, channel crdt.ID) int { return len(n.ChannelTopic(id, channel).Peers()) }
