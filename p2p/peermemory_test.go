package p2p

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// memSettings are Settings in memory.
type memSettings map[string][]byte

func (m memSettings) Get(name string) ([]byte, error) { return m[name], nil }
func (m memSettings) Put(name string, v []byte) error { m[name] = v; return nil }

// defaultPorts starts a host with the default listeners and settings, and
// returns the ports it got once it is closed again.
func defaultPorts(t *testing.T, settings Settings) listenPorts {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	h, err := NewRememberingHost(HostConfig{DeviceSeed: seed, Memory: 32 << 20, FDs: 64}, settings)
	if err != nil {
		t.Fatal(err)
	}
	got := portsOf(h.Network().ListenAddresses())
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got.TCP == 0 || got.UDP == 0 {
		t.Fatalf("default listeners on ports %+v, want TCP and QUIC", got)
	}
	return got
}

// A host without addresses asks for the ports it had last time, so that the
// others' redials of its old address reach it; when they are taken, it
// takes random ones and remembers those.
func TestDefaultListenRemembersPorts(t *testing.T) {
	dir := memSettings{}
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
		t.Fatalf("ports %+v taken, yet the host got %+v", first, moved)
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
