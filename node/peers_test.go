package node

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// defaultPorts starts a node with the default listeners on dir, and returns
// the ports it got once it is stopped again.
func defaultPorts(t *testing.T, dir string) listenPorts {
	t.Helper()
	n, err := New(Config{DataDir: dir, NoLAN: true})
	if err != nil {
		t.Fatal(err)
	}
	got := portsOf(n.host.Network().ListenAddresses())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got.TCP == 0 || got.UDP == 0 {
		t.Fatalf("default listeners on ports %+v, want TCP and QUIC", got)
	}
	return got
}

// A node without Listen asks for the ports it had last time, so that the
// others' redials of its old address reach it; when they are taken, it
// takes random ones and remembers those.
func TestDefaultListenRemembersPorts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first := defaultPorts(t, dir)
	if again := defaultPorts(t, dir); again != first {
		t.Fatalf("restarted on ports %+v, had %+v", again, first)
	}

	tcp, err := net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", first.TCP))
	if err != nil {
		t.Skipf("cannot hold the old TCP port: %v", err)
	}
	udp, err := net.ListenPacket("udp", fmt.Sprintf("0.0.0.0:%d", first.UDP))
	if err != nil {
		tcp.Close()
		t.Skipf("cannot hold the old UDP port: %v", err)
	}
	moved := defaultPorts(t, dir)
	tcp.Close()
	udp.Close()
	if moved.TCP == first.TCP || moved.UDP == first.UDP {
		t.Fatalf("ports %+v taken, yet the node got %+v", first, moved)
	}
	if again := defaultPorts(t, dir); again != moved {
		t.Fatalf("restarted on ports %+v, had %+v", again, moved)
	}

	// One port taken: the other transport keeps its own.
	tcp, err = net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", moved.TCP))
	if err != nil {
		t.Skipf("cannot hold the TCP port: %v", err)
	}
	half := defaultPorts(t, dir)
	tcp.Close()
	if half.TCP == moved.TCP || half.UDP != moved.UDP {
		t.Fatalf("TCP port %d taken: got %+v, want a new TCP port and UDP %d", moved.TCP, half, moved.UDP)
	}
}

// Explicit listeners are taken as given, and remember nothing.
func TestExplicitListenIsKept(t *testing.T) {
	n := startNode(t, t.TempDir())
	if raw, _ := n.store.Setting(settingListenPorts); raw != nil {
		t.Fatal("a node with explicit listeners remembered its ports")
	}
	for _, a := range n.host.Network().ListenAddresses() {
		ip, err := a.ValueForProtocol(ma.P_IP4)
		if err == nil && ip != "127.0.0.1" {
			t.Fatalf("listens on %s, not as configured", a)
		}
		if _, err := a.ValueForProtocol(ma.P_QUIC_V1); err == nil {
			t.Fatalf("listens on %s, not as configured", a)
		}
	}
}

// The memory keeps the most recently seen peers first, one entry per
// peer, and no more than maxRememberedPeers.
func TestPeerMemoryBounds(t *testing.T) {
	entry := func(i int, seen int64) rememberedPeer {
		return rememberedPeer{ID: []byte(peer.ID(fmt.Sprintf("peer-%d", i))), Seen: seen}
	}
	var old []rememberedPeer
	for i := range maxRememberedPeers {
		old = append(old, entry(i, int64(1000-i)))
	}
	got := mergePeers([]rememberedPeer{entry(7, 2000), entry(9999, 2000)}, old)
	if len(got) != maxRememberedPeers {
		t.Fatalf("%d peers remembered, want %d", len(got), maxRememberedPeers)
	}
	if string(got[0].ID) != "peer-7" || string(got[1].ID) != "peer-9999" || got[0].Seen != 2000 {
		t.Fatalf("fresh peers not first: %q, %q", got[0].ID, got[1].ID)
	}
	seen := map[string]bool{}
	for i, r := range got {
		if seen[string(r.ID)] {
			t.Fatalf("%q remembered twice", r.ID)
		}
		seen[string(r.ID)] = true
		if i > 0 && r.Seen > got[i-1].Seen {
			t.Fatalf("not most recent first at %d", i)
		}
	}
	if seen[fmt.Sprintf("peer-%d", maxRememberedPeers-1)] {
		t.Fatal("the least recently seen peer was kept over the bound")
	}
}

// A node remembers the peers of its communities, whichever side dialled,
// and not a peer that shares none with it.
func TestRemembersCommunityPeers(t *testing.T) {
	ctx := context.Background()
	a := startNode(t, t.TempDir())
	id, err := a.CreateCommunity(ctx, "Remembered")
	if err != nil {
		t.Fatal(err)
	}
	link, err := a.CreateInvite(ctx, id, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := startNode(t, t.TempDir())
	if _, err := b.Join(ctx, link); err != nil {
		t.Fatal(err)
	}
	stranger := startNode(t, t.TempDir(), a.Addrs()[0])
	waitFor(t, "the stranger connected", func() bool { return slices.Contains(a.Peers(), stranger.PeerID()) })
	remembers := func(n *Node, p peer.ID) bool {
		return slices.ContainsFunc(n.remembered(), func(pi peer.AddrInfo) bool { return pi.ID == p })
	}
	waitFor(t, "a and b remember each other", func() bool { return remembers(a.Node, b.PeerID()) && remembers(b.Node, a.PeerID()) })
	addrA := a.Addrs()[0]
	a.stop(t)
	b.stop(t)
	if remembers(a.Node, stranger.PeerID()) || remembers(stranger.Node, a.PeerID()) {
		t.Fatal("a peer of no community was remembered")
	}
	var addrs []ma.Multiaddr
	for _, pi := range b.remembered() {
		addrs = append(addrs, pi.Addrs...)
	}
	if !slices.ContainsFunc(addrs, func(m ma.Multiaddr) bool { return strings.HasPrefix(addrA, m.String()+"/p2p/") }) {
		t.Fatalf("b remembers %v, not a's address %s", addrs, addrA)
	}
}
