package node

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Explicit listeners are taken as given, and remember nothing.
func TestExplicitListenIsKept(t *testing.T) {
	n := startNode(t, t.TempDir())
	if raw, _ := n.store.Setting("listen-ports"); raw != nil {
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
		return slices.ContainsFunc(n.peers.Remembered(), func(pi peer.AddrInfo) bool { return pi.ID == p })
	}
	waitFor(t, "a and b remember each other", func() bool { return remembers(a.Node, b.PeerID()) && remembers(b.Node, a.PeerID()) })
	addrA := a.Addrs()[0]
	a.stop(t)
	b.stop(t)
	if remembers(a.Node, stranger.PeerID()) || remembers(stranger.Node, a.PeerID()) {
		t.Fatal("a peer of no community was remembered")
	}
	var addrs []ma.Multiaddr
	for _, pi := range b.peers.Remembered() {
		addrs = append(addrs, pi.Addrs...)
	}
	if !slices.ContainsFunc(addrs, func(m ma.Multiaddr) bool { return strings.HasPrefix(addrA, m.String()+"/p2p/") }) {
		t.Fatalf("b remembers %v, not a's address %s", addrs, addrA)
	}
}
