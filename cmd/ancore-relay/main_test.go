package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// buildRelay compiles the command once per test binary.
var buildRelay = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ancore-relay-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ancore-relay")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// relayProc is a running ancore-relay process.
type relayProc struct {
	cmd  *exec.Cmd
	base string        // http://host:port
	peer peer.AddrInfo // its libp2p address
}

// startProc starts the relay binary on db and waits until it serves.
func startProc(t *testing.T, db string) *relayProc {
	t.Helper()
	bin, err := buildRelay()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--http", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0", "--log-format", "text")
	cmd.Env = append(os.Environ(), "ANCORE_DB="+db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &relayProc{cmd: cmd}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("relay log:\n%s", logs.String())
		}
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, "Relay HTTP API: "); ok {
			p.base = v
		}
		if v, ok := strings.CutPrefix(line, "libp2p: "); ok {
			a, err := ma.NewMultiaddr(v)
			if err != nil {
				t.Fatal(err)
			}
			info, err := peer.AddrInfoFromP2pAddr(a)
			if err != nil {
				t.Fatal(err)
			}
			p.peer = *info
			break
		}
	}
	if p.base == "" || p.peer.ID == "" {
		t.Fatalf("relay did not print its addresses (%v)", lines.Err())
	}
	go func() { // keep the pipe drained
		for lines.Scan() {
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay not healthy: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *relayProc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// syncLog runs one sync session of log with the relay.
func (p *relayProc) syncLog(c *relaytest.Client, secret []byte, log crdt.ID, l *relaytest.Log) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Host.Connect(ctx, p.peer); err != nil {
		return err
	}
	_, err := c.Sync.Run(ctx, p.peer.ID, p2p.TopicName(secret, log), l, nil)
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

	p := startProc(t, db)
	token := relaytest.Register(t, p.base, "owner@example.com")
	if code := relaytest.Call(t, p.base, "POST", "/communities", token, relaytest.CarryRequest(comm, secret, comm.Members[0].User), nil); code != http.StatusCreated {
		t.Fatalf("carry: status %d", code)
	}
	c := relaytest.NewClient(t)
	if err := p.syncLog(c, secret, comm.ID, relaytest.NewLog(comm.State...)); err != nil {
		t.Fatal(err)
	}

	var acked []crdt.ID
	sessions, failed := 0, 0
	for round := range 6 {
		if round > 0 {
			p = startProc(t, db)
		}
		// Kill at a random moment while sessions are in flight.
		killAt := time.Now().Add(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		for time.Now().Before(killAt) || sessions == 0 {
			var batch []*crdt.Op
			for range 50 {
				batch = append(batch, member.Post(t, "durable").Op)
			}
			done := make(chan error, 1)
			go func() { done <- p.syncLog(c, secret, comm.Channel, relaytest.NewLog(batch...)) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Until(killAt)):
				p.kill()
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
		p.kill()
	}
	t.Logf("%d sessions, %d cut by SIGKILL, %d ops acknowledged", sessions, failed, len(acked))

	p = startProc(t, db)
	got := relaytest.NewLog()
	if err := p.syncLog(relaytest.NewClient(t), secret, comm.Channel, got); err != nil {
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
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("relay exited on SIGTERM with %v", err)
		}
	}
}
