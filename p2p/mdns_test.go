package p2p

import "testing"

// Two hosts in one process find each other by mDNS on the machine's
// interfaces (they listen on all of them, as LAN nodes do).
func TestLANFindsPeers(t *testing.T) {
	a, b := testHostOn(t, "/ip4/0.0.0.0/tcp/0"), testHostOn(t, "/ip4/0.0.0.0/tcp/0")
	da := NewDialer(a)
	go da.Run(t.Context())
	la, err := StartLAN(a, da)
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	lb, err := StartLAN(b, NewDialer(b))
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	wait.For(t, "mDNS to connect the hosts", func() bool {
		return len(a.Network().ConnsToPeer(b.ID())) > 0
	})
}
