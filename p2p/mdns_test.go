package p2p

import (
	"log/slog"
	"testing"
)

// Two hosts in one process find each other by mDNS on the machine's
// interfaces. The test across network namespaces (separate stacks) lives
// with the node binary.
func TestLANFindsPeers(t *testing.T) {
	a, b := testHostOn(t, "/ip4/0.0.0.0/tcp/0"), testHostOn(t, "/ip4/0.0.0.0/tcp/0")
	la, err := StartLAN(t.Context(), a, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	lb, err := StartLAN(t.Context(), b, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	eventually(t, "mDNS to connect the hosts", func() bool {
		return len(a.Network().ConnsToPeer(b.ID())) > 0
	})
}
