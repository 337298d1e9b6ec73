package relay

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relayapi"
	"github.com/pion/turn/v5"
)

// TestTURNCredentialsAllocate: what POST /turn/credentials issues opens an
// allocation on the relay's TURN listener.
func TestTURNCredentialsAllocate(t *testing.T) {
	r := startRelay(t)
	token := relaytest.Register(t, base(r), "ada@example.org")
	comm := crdttest.NewCommunity(t, 1)
	owner := comm.Members[0].User
	secret := []byte("a topic secret of 32 bytes......")
	if code := relaytest.Call(t, base(r), "POST", "/communities", token, relaytest.CarryRequest(comm, secret, owner), nil); code != 201 {
		t.Fatalf("carry: %d", code)
	}
	now := time.Now()
	var creds relayapi.TURNCredentials
	req := relayapi.TURNRequest{Community: comm.ID.String(), User: owner.ID().String(), At: now, Proof: owner.SignTURN(comm.ID, now.Unix())}
	if code := relaytest.Call(t, base(r), "POST", "/turn/credentials", token, req, &creds); code != 200 {
		t.Fatalf("credentials: %d", code)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	addr := r.turn.Addr().String()
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr,
		Username: creds.Username, Password: creds.Password, Realm: "ancore", Conn: conn, RTO: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate with issued credentials: %v", err)
	}
	defer relayed.Close()
	resp, err := http.Get(base(r) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "\nancore_relay_turn_allocations 1\n") {
		t.Fatal("metrics do not count the allocation")
	}
}
