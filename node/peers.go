package node

import "github.com/libp2p/go-libp2p/core/peer"

// metPeer records that p is a peer of one of the node's communities (a
// sync with it succeeded): the first time in a run, the node remembers
// where it reached p (p2p.PeerMemory), and redials p whenever it is lost.
func (n *Node) metPeer(p peer.ID) {
	first, err := n.peers.Met(n.host, p)
	if err != nil {
		n.log.Warn("remember peer", "peer", p, "err", err)
	}
	if !first {
		return
	}
	n.comms.mu.Lock()
	d := n.dialer
	n.comms.mu.Unlock()
	if d != nil {
		d.Add(peer.AddrInfo{ID: p})
	}
}
