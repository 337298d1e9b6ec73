package p2p

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

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
// for the ports it listened on last time (NewRememberingHost), so that
// the others' redials of its old addresses reach it.

const (
	settingPeers       = "peers"        // the remembered peers, most recent first
	settingListenPorts = "listen-ports" // the default listeners' TCP and UDP ports

	maxRememberedPeers = 256
	maxRememberedAddrs = 8
	// rememberedFor is how long a peer not reached again is remembered.
	rememberedFor = 30 * 24 * time.Hour
)

// DefaultListen is where a node listens when it is given no addresses:
// TCP and QUIC on every interface, on random ports the first time.
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}

// Settings keeps small named values across restarts: the node's settings.
type Settings interface {
	Get(name string) ([]byte, error)
	Put(name string, value []byte) error
}

// rememberedPeer is a peer of the node's communities and where it was
// reached, when last seen.
type rememberedPeer struct {
	_     struct{} `cbor:",toarray"`
	ID    []byte   // the peer ID's bytes
	Addrs [][]byte // multiaddrs' bytes, without /p2p
	Seen  int64    // unix seconds
}

// PeerMemory is the remembered peers, as the settings hold them, and the
// peers this run has met already. It is safe for concurrent use.
type PeerMemory struct {
	settings Settings
	mu       sync.Mutex
	list     []rememberedPeer
	met      map[peer.ID]bool
}

// LoadPeerMemory reads the peers remembered in settings. An unreadable
// list is forgotten with a warning on log: only an optimization is lost.
func LoadPeerMemory(settings Settings, log *slog.Logger) (*PeerMemory, error) {
	m := &PeerMemory{settings: settings, met: map[peer.ID]bool{}}
	raw, err := settings.Get(settingPeers)
	if err != nil || raw == nil {
		return m, err
	}
	if err := cbor.Unmarshal(raw, &m.list); err != nil {
		log.Warn("remembered peers unreadable; forgetting them", "err", err)
		m.list = nil
	}
	return m, nil
}

// Remembered returns the peers to redial, most recent first.
func (m *PeerMemory) Remembered() []peer.AddrInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []peer.AddrInfo
	for _, r := range m.list {
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

// Met records that p, reached through h, is a peer of one of the node's
// communities; the first time in a run (first) it remembers where.
func (m *PeerMemory) Met(h host.Host, p peer.ID) (first bool, err error) {
	m.mu.Lock()
	seen := m.met[p]
	m.met[p] = true
	m.mu.Unlock()
	if seen {
		return false, nil
	}
	return true, m.remember(h, p)
}

// RememberMet records where the peers met in this run are reached now:
// at the end of a run, when their addresses are the newest known.
func (m *PeerMemory) RememberMet(h host.Host) error {
	m.mu.Lock()
	ps := make([]peer.ID, 0, len(m.met))
	for p := range m.met {
		ps = append(ps, p)
	}
	m.mu.Unlock()
	return m.remember(h, ps...)
}

// remember records where ps are reached now, and stores the list.
func (m *PeerMemory) remember(h host.Host, ps ...peer.ID) error {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	fresh := make([]rememberedPeer, 0, len(ps))
	for _, p := range ps {
		addrs := reachedAt(h, p)
		if len(addrs) == 0 {
			continue
		}
		fresh = append(fresh, rememberedPeer{ID: []byte(p), Addrs: addrs, Seen: now})
	}
	if len(fresh) == 0 {
		return nil
	}
	m.list = mergePeers(fresh, m.list)
	b, err := cbor.Marshal(m.list)
	if err != nil {
		return err
	}
	return m.settings.Put(settingPeers, b)
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

// rememberedListen is where a host without addresses listens: on the
// ports it had last time, if settings remember them, else on random ones.
func rememberedListen(settings Settings) []string {
	raw, err := settings.Get(settingListenPorts)
	var ports listenPorts
	if err != nil || raw == nil || cbor.Unmarshal(raw, &ports) != nil {
		return DefaultListen
	}
	return []string{fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", ports.TCP), fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", ports.UDP)}
}

// NewRememberingHost builds a host on DefaultListen's transports, on
// the ports settings remember, or random ones for a transport whose port
// is taken now; it remembers the ports it got. cfg.Listen is ignored.
func NewRememberingHost(cfg HostConfig, settings Settings) (host.Host, error) {
	cfg.Listen = rememberedListen(settings)
	h, err := NewHost(cfg)
	if err != nil && !slices.Equal(cfg.Listen, DefaultListen) {
		// Both remembered ports are taken.
		cfg.Listen = DefaultListen
		h, err = NewHost(cfg)
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
		if old, _ := settings.Get(settingListenPorts); string(old) != string(raw) {
			if err := settings.Put(settingListenPorts, raw); err != nil {
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
