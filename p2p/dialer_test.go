package p2p

import (
	"crypto/rand"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A known peer that goes away and comes back at the same address, with
// the same identity, is dialled again without anyone asking.
func TestDialerReconnects(t *testing.T) {
	a := testHost(t)
	seed := make([]byte, 32)
	rand.Read(seed)
	start := func(listen string) host.Host {
		h, err := NewHost(HostConfig{DeviceSeed: seed, Listen: []string{listen}, Memory: 32 << 20, FDs: 64})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	b := start("/ip4/127.0.0.1/tcp/0")
	addr := b.Addrs()[0]
	d := NewDialer(a)
	d.Add(peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()})
	go d.Run(t.Context())
	connected := func() bool { return a.Network().Connectedness(b.ID()) == network.Connected }
	wait.For(t, "the first connection", connected)

	b.Close()
	wait.For(t, "the connection to drop", func() bool { return !connected() })
	b = start(addr.String())
	wait.For(t, "the dialer to reconnect", connected)
}

func TestDialerIgnoresSelf(t *testing.T) {
	a := testHost(t)
	d := NewDialer(a)
	d.Add(peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()})
	if len(d.known) != 0 {
		t.Fatal("the dialer would dial itself")
	}
}

func TestDialerForgets(t *testing.T) {
	a, b := testHost(t), testHost(t)
	d := NewDialer(a)
	d.Add(peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()})
	d.Remove(b.ID())
	if len(d.known) != 0 {
		t.Fatal("a removed peer is still known")
	}
}
