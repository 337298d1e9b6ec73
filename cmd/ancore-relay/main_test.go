package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/pion/turn/v5"
)

// syncLog runs one sync session of log with the relay.
func syncLog(p *relaytest.Proc, c *relaytest.Client, secret []byte, log crdt.ID, l *relaytest.Log) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Host.Connect(ctx, p.Peer); err != nil {
		return err
	}
	_, err := c.Sync.Run(ctx, p.Peer.ID, p2p.TopicName(secret, log), l, nil)
	return err
}

// TestAcknowledgedOpsSurviveSIGKILL: a member pushes posts to the relay in
// sync sessions while the relay is killed with SIGKILL again and again. A
// session that completed was acknowledged — the relay committed what it
// received before it answered — so every op of every completed session
// must be there after the last restart.
func TestAcknowledgedOpsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the relay binary")
	}
	db := pgtest.DSN(t)
	comm := crdttest.NewCommunity(t, 2)
	member := comm.Members[1]
	secret := []byte("a topic secret of 32 bytes......")

	bin := relaytest.BuildBinary(t)
	p := relaytest.StartBinary(t, bin, db)
	token := relaytest.Register(t, p.Base, "owner@example.com")
	if code := relaytest.Call(t, p.Base, "POST", "/communities", token, relaytest.CarryRequest(comm, secret, comm.Members[0].User), nil); code != http.StatusCreated {
		t.Fatalf("carry: status %d", code)
	}
	c := relaytest.NewClient(t)
	if err := syncLog(p, c, secret, comm.ID, relaytest.NewLog(comm.State...)); err != nil {
		t.Fatal(err)
	}

	var acked []crdt.ID
	sessions, failed := 0, 0
	for round := range 6 {
		if round > 0 {
			p = relaytest.StartBinary(t, bin, db)
		}
		// Kill at a random moment while sessions are in flight.
		killAt := time.Now().Add(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		for time.Now().Before(killAt) || sessions == 0 {
			var batch []*crdt.Op
			for range 50 {
				batch = append(batch, member.Post(t, "durable").Op)
			}
			done := make(chan error, 1)
			go func() { done <- syncLog(p, c, secret, comm.Channel, relaytest.NewLog(batch...)) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Until(killAt)):
				p.Kill()
				err = <-done
			}
			sessions++
			if err != nil {
				failed++
				break
			}
			for _, op := range batch {
				acked = append(acked, op.ID)
			}
		}
		p.Kill()
	}
	t.Logf("%d sessions, %d cut by SIGKILL, %d ops acknowledged", sessions, failed, len(acked))

	p = relaytest.StartBinary(t, bin, db)
	got := relaytest.NewLog()
	if err := syncLog(p, relaytest.NewClient(t), secret, comm.Channel, got); err != nil {
		t.Fatal(err)
	}
	var lost []crdt.ID
	for _, id := range acked {
		if got.Get(id) == nil {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged ops lost, first %s", len(lost), len(acked), lost[0])
	}
	if len(acked) == 0 {
		t.Fatal("no session completed; the test proved nothing")
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("relay exited on SIGTERM with %v", err)
		}
	}
}

// TestServesSTUN: the relay binary serves STUN at the address it prints
// (relaytest starts it with --turn-listen 127.0.0.1:0).
func TestServesSTUN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the relay binary")
	}
	p := relaytest.StartBinary(t, relaytest.BuildBinary(t), pgtest.DSN(t))
	if len(p.TURN) != 3 || !strings.HasPrefix(p.TURN[0], "stun:127.0.0.1:") {
		t.Fatalf("STUN/TURN URLs %v", p.TURN)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: strings.TrimPrefix(p.TURN[0], "stun:"), Conn: conn, RTO: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatalf("STUN binding: %v", err)
	}
	if mapped.String() != conn.LocalAddr().String() {
		t.Fatalf("mapped address %v, want %v", mapped, conn.LocalAddr())
	}
}
