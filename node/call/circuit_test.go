package call

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ancore/ancore/node/nodetest"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

// circuitOnly refuses, once on, every connection with other that does not
// go through a relay's circuit: two nodes that cannot reach each other.
type circuitOnly struct {
	other atomic.Value // peer.ID
	on    atomic.Bool
}

func relayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

func (g *circuitOnly) refuse(p peer.ID, a ma.Multiaddr) bool {
	other, _ := g.other.Load().(peer.ID)
	return g.on.Load() && p == other && !relayed(a)
}

func (g *circuitOnly) InterceptPeerDial(peer.ID) bool                   { return true }
func (g *circuitOnly) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool { return !g.refuse(p, a) }
func (g *circuitOnly) InterceptAccept(network.ConnMultiaddrs) bool      { return true }
func (g *circuitOnly) InterceptSecured(_ network.Direction, p peer.ID, cm network.ConnMultiaddrs) bool {
	return !g.refuse(p, cm.RemoteMultiaddr())
}
func (g *circuitOnly) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}

// TestCallOverRelayCircuit: two members that reach each other only through
// a relay's circuit (a limited connection) ring, answer and hang up.
func TestCallOverRelayCircuit(t *testing.T) {
	relay, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	if _, err := relayv2.New(relay); err != nil {
		t.Fatal(err)
	}
	relayInfo := peer.AddrInfo{ID: relay.ID(), Addrs: relay.Addrs()}

	ga, gb := &circuitOnly{}, &circuitOnly{}
	gated := func(g *circuitOnly) nodeOption {
		return func(c *peerConfig) { c.host = append(c.host, libp2p.ConnectionGater(g)) }
	}
	a, b := startPeer(t, nil, gated(ga)), startPeer(t, nil, gated(gb))
	ga.other.Store(b.PeerID())
	gb.other.Store(a.PeerID())
	id := community(t, a, b)

	for _, p := range []*peerNode{a, b} {
		if err := p.Libp2p().Connect(t.Context(), relayInfo); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Reserve(t.Context(), b.Libp2p(), relayInfo); err != nil {
		t.Fatalf("reservation: %v", err)
	}
	ga.on.Store(true)
	gb.on.Store(true)
	_ = a.Libp2p().Network().ClosePeer(b.PeerID())
	circuit, err := ma.NewMultiaddr(relay.Addrs()[0].String() + "/p2p/" + relay.ID().String() + "/p2p-circuit")
	if err != nil {
		t.Fatal(err)
	}
	a.Libp2p().Peerstore().AddAddr(b.PeerID(), circuit, peerstore.PermanentAddrTTL)
	onlyRelayed := func() bool {
		conns := a.Libp2p().Network().ConnsToPeer(b.PeerID())
		for _, c := range conns {
			if !relayed(c.RemoteMultiaddr()) {
				return false
			}
		}
		return len(conns) > 0
	}
	nodetest.Wait.For(t, "a connection through the relay only", func() bool {
		if len(a.Libp2p().Network().ConnsToPeer(b.PeerID())) == 0 {
			_ = a.Libp2p().Connect(t.Context(), peer.AddrInfo{ID: b.PeerID(), Addrs: []ma.Multiaddr{circuit}})
		}
		return onlyRelayed()
	})
	if !a.Libp2p().Network().ConnsToPeer(b.PeerID())[0].Stat().Limited {
		t.Fatal("the relayed connection is not limited: the test proves nothing")
	}

	call := activeCall(t, a, b, id)
	if _, err := a.calls.End(call); err != nil {
		t.Fatal(err)
	}
	waitState(t, b, call, StateEnded)
	if !onlyRelayed() {
		t.Errorf("the call went around the relay: %v", conns(a, b))
	}
}

func conns(a, b *peerNode) string {
	var out []string
	for _, c := range a.Libp2p().Network().ConnsToPeer(b.PeerID()) {
		out = append(out, c.RemoteMultiaddr().String())
	}
	return strings.Join(out, ", ")
}
