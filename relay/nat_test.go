package relay

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/relay/relaytest"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"
)

// TestCircuitRelay: a member behind NAT (reachable by nobody but its
// relay) holds a reservation, and another member reaches it through the
// relay knowing only the relay's address.
func TestCircuitRelay(t *testing.T) {
	r := startRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	relayInfo := peer.AddrInfo{ID: r.host.ID(), Addrs: r.host.Addrs()}

	behind := relaytest.NewHost(t)
	if err := behind.Connect(ctx, relayInfo); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, behind, relayInfo); err != nil {
		t.Fatalf("reservation: %v", err)
	}
	const proto = "/ancore-test/echo/1"
	behind.SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		line, _ := bufio.NewReader(s).ReadString('\n')
		s.Write([]byte("echo " + line))
	})

	outside := relaytest.NewHost(t)
	circuit, err := ma.NewMultiaddr(r.host.Addrs()[0].String() + "/p2p/" + r.host.ID().String() + "/p2p-circuit")
	if err != nil {
		t.Fatal(err)
	}
	if err := outside.Connect(ctx, peer.AddrInfo{ID: behind.ID(), Addrs: []ma.Multiaddr{circuit}}); err != nil {
		t.Fatalf("connect through the relay: %v", err)
	}
	conns := outside.Network().ConnsToPeer(behind.ID())
	if len(conns) == 0 || !strings.Contains(conns[0].RemoteMultiaddr().String(), "p2p-circuit") {
		t.Fatalf("connection is not relayed: %v", conns)
	}
	s, err := outside.NewStream(network.WithAllowLimitedConn(ctx, "test"), behind.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("hello\n"))
	reply, err := bufio.NewReader(s).ReadString('\n')
	if err != nil || reply != "echo hello\n" {
		t.Fatalf("reply %q, %v", reply, err)
	}
}
