package node

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ancore/ancore/p2p"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Peer memory: a node restarted on another port, with no bootstrap peer
// and nothing on the LAN, must still find its communities. It remembers
// where it last reached the peers of its communities — peers a sync of a
// community log succeeded with, in either direction, which proves they
// hold the community's topic secret (members, or a relay that carries
// it) — and redials them from the next start on. By default it also asks
// for the ports it listened on last time, so that the others' redials of
// its old addresses reach it.

const (
	settingPeers       = "peers"        // the remembered peers, most recent first
	settingListenPorts = "listen-ports" // the default listeners' TCP and UDP ports

	maxRememberedPeers = 256
	maxRememberedAddrs = 8
	// rememberedFor is how long a peer not reached again is remembered.
	rememberedFor = 30 * 24 * time.Hour
)

// rememberedPeer is a peer of the node's communities and where it was
// reached, when last seen.
type rememberedPeer struct {
	_     struct{} `cbor:",toarray"`
	ID    []byte   // the peer ID's bytes
	Addrs [][]byte // multiaddrs' bytes, without /p2p
	Seen  int64    // unix seconds
}

// peerMemory is the remembered peers, as the store holds them, and the
// peers this run has met already.
type peerMemory struct {
	mu   sync.Mutex
	list []rememberedPeer
	met  map[peer.ID]bool
}

func (n *Node) loadPeers() error {
	n.peers.met = map[peer.ID]bool{}
	raw, err := n.store.Setting(settingPeers)
	if err != nil || raw == nil {
		return err
	}
	var list []rememberedPeer
	if err := cbor.Unmarshal(raw, &list); err != nil {
		// Only an optimization is lost: the node starts without it.
		n.log.Warn("remembered peers unreadable; forgetting them", "err", err)
		return nil
	}
	n.peers.list = list
	return nil
}

// remembered returns the peers to redial, most recent first.
func (n *Node) remembered() []peer.AddrInfo {
	n.peers.mu.Lock()
	defer n.peers.mu.Unlock()
	var out []peer.AddrInfo
	for _, r := range n.peers.list {
		id, err := peer.IDFromBytes(r.ID)
		if err != nil || time.Since(time.Unix(r.Seen, 0)) > rememberedFor {
			continue
		}
		pi := peer.AddrInfo{ID: id}
		for _, b := range r.Addrs {
			if a, err := ma.NewMultiaddrBytes(b); err == nil {
				pi.Addrs = append(pi.Addrs, a)
			}
		}
		if len(pi.Addrs) > 0 {
			out = append(out, pi)
		}
	}
	return out
}

// metPeer records that p is a peer of one of the node's communities
// (a sync with it succeeded): the first time in a run, the node
// remembers where it reached p, and redials p whenever it is lost.
func (n *Node) metPeer(p peer.ID) {
	n.peers.mu.Lock()
	seen := n.peers.met[p]
	n.peers.met[p] = true
	n.peers.mu.Unlock()
	if seen {
		return
	}
	if err := n.rememberPeers(p); err != nil {
		n.log.Warn("remember peer", "peer", p, "err", err)
	}
	n.comms.mu.Lock()
	d := n.dialer
	n.comms.mu.Unlock()
	if d != nil {
		d.Add(peer.AddrInfo{ID: p})
	}
}

// rememberMet records where the peers met in this run are reached now:
// at the end of a run, when their addresses are the newest known.
func (n *Node) rememberMet() error {
	n.peers.mu.Lock()
	ps := make([]peer.ID, 0, len(n.peers.met))
	for p := range n.peers.met {
		ps = append(ps, p)
	}
	n.peers.mu.Unlock()
	return n.rememberPeers(ps...)
}

// rememberPeers records where ps are reached now, and stores the list.
func (n *Node) rememberPeers(ps ...peer.ID) error {
	now := time.Now().Unix()
	n.peers.mu.Lock()
	defer n.peers.mu.Unlock()
	fresh := make([]rememberedPeer, 0, len(ps))
	for _, p := range ps {
		addrs := reachedAt(n.host, p)
		if len(addrs) == 0 {
			continue
		}
		fresh = append(fresh, rememberedPeer{ID: []byte(p), Addrs: addrs, Seen: now})
	}
	if len(fresh) == 0 {
		return nil
	}
	n.peers.list = mergePeers(fresh, n.peers.list)
	b, err := cbor.Marshal(n.peers.list)
	if err != nil {
		return err
	}
	return n.store.PutSetting(settingPeers, b)
}

// mergePeers puts fresh before the entries of old for other peers, most
// recent first, and keeps at most maxRememberedPeers.
func mergePeers(fresh, old []rememberedPeer) []rememberedPeer {
	out := slices.Clone(fresh)
	for _, r := range old {
		if !slices.ContainsFunc(fresh, func(f rememberedPeer) bool { return string(f.ID) == string(r.ID) }) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b rememberedPeer) int { return cmp.Compare(b.Seen, a.Seen) })
	if len(out) > maxRememberedPeers {
		out = out[:maxRememberedPeers]
	}
	return out
}

// reachedAt returns where p can be dialled: the address of an outbound
// connection to it first (it worked), then the addresses the peerstore
// has (those p announced), at most maxRememberedAddrs. An inbound
// connection's remote address is left out: its port is the dialler's.
func reachedAt(h host.Host, p peer.ID) [][]byte {
	var addrs []ma.Multiaddr
	for _, c := range h.Network().ConnsToPeer(p) {
		if c.Stat().Direction == network.DirOutbound {
			addrs = append(addrs, c.RemoteMultiaddr())
		}
	}
	addrs = append(addrs, h.Peerstore().Addrs(p)...)
	var out [][]byte
	for _, a := range addrs {
		if len(out) == maxRememberedAddrs {
			break
		}
		if b := a.Bytes(); !slices.ContainsFunc(out, func(o []byte) bool { return string(o) == string(b) }) {
			out = append(out, b)
		}
	}
	return out
}

// listenPorts are the TCP and UDP (QUIC) ports of the default listeners.
type listenPorts struct {
	_   struct{} `cbor:",toarray"`
	TCP int
	UDP int
}

// defaultListen is where a node without Config.Listen listens: on the
// ports it had last time, if it remembers them, else on random ones.
func (n *Node) defaultListen() []string {
	raw, err := n.store.Setting(settingListenPorts)
	var ports listenPorts
	if err != nil || raw == nil || cbor.Unmarshal(raw, &ports) != nil {
		return DefaultListen
	}
	return []string{fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", ports.TCP), fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", ports.UDP)}
}

// newDefaultHost builds the host on the default listeners: the
// remembered ports, or random ones for a transport whose port is taken
// now. It remembers the ports it got.
func (n *Node) newDefaultHost(cfg p2p.HostConfig) (host.Host, error) {
	cfg.Listen = n.defaultListen()
	h, err := p2p.NewHost(cfg)
	if err != nil && !slices.Equal(cfg.Listen, DefaultListen) {
		// Both remembered ports are taken.
		cfg.Listen = DefaultListen
		h, err = p2p.NewHost(cfg)
	}
	if err != nil {
		return nil, err
	}
	got := portsOf(h.Network().ListenAddresses())
	for i, port := range []int{got.TCP, got.UDP} {
		if port != 0 {
			continue
		}
		// This transport's remembered port is taken: a random one.
		if err := h.Network().Listen(ma.StringCast(DefaultListen[i])); err != nil {
			h.Close()
			return nil, err
		}
	}
	got = portsOf(h.Network().ListenAddresses())
	if raw, err := cbor.Marshal(got); err == nil {
		if old, _ := n.store.Setting(settingListenPorts); string(old) != string(raw) {
			if err := n.store.PutSetting(settingListenPorts, raw); err != nil {
				h.Close()
				return nil, err
			}
		}
	}
	return h, nil
}

// portsOf finds the TCP and QUIC ports among listen addresses.
func portsOf(addrs []ma.Multiaddr) listenPorts {
	var ports listenPorts
	for _, a := range addrs {
		if v, err := a.ValueForProtocol(ma.P_TCP); err == nil && ports.TCP == 0 {
			ports.TCP, _ = strconv.Atoi(v)
		}
		if _, err := a.ValueForProtocol(ma.P_QUIC_V1); err == nil && ports.UDP == 0 {
			if v, err := a.ValueForProtocol(ma.P_UDP); err == nil {
				ports.UDP, _ = strconv.Atoi(v)
			}
		}
	}
	return ports
}
