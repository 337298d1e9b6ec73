package node

import (
	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
	"github.com/libp2p/go-libp2p/core/host"
)

// Settings are the node's small named values, kept in its store: what the
// local API and the features remember across restarts (each under names
// of its own).
type Settings struct{ st *store.Store }

// Get returns a setting's value; nil when it was never set.
func (s Settings) Get(name string) ([]byte, error) { return s.st.Setting(name) }

// Put sets a setting, durably.
func (s Settings) Put(name string, value []byte) error { return s.st.PutSetting(name, value) }

// Settings returns the node's settings.
func (n *Node) Settings() Settings { return Settings{n.store} }

// Libp2p is the node's libp2p host: for stream protocols of a feature's
// own (and tests that play the network's part).
func (n *Node) Libp2p() host.Host { return n.host }

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
