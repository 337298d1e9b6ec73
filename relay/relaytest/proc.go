package relaytest

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ancore/ancore/testwait"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// BuildBinary compiles cmd/ancore-relay from the module's working tree
// into a folder of t's and returns the binary's path.
func BuildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ancore-relay")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ancore/ancore/cmd/ancore-relay").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ancore-relay: %v\n%s", err, out)
	}
	return bin
}

// Proc is a running ancore-relay process.
type Proc struct {
	Cmd  *exec.Cmd
	Base string        // http://host:port
	Peer peer.AddrInfo // its libp2p address
	TURN []string      // its STUN and TURN URLs
	Logs *Buffer       // its stderr
}

// StartBinary starts the relay binary bin on database db, listening on
// loopback only, and waits until it serves. It is stopped (SIGTERM) when
// t ends, and its log is shown if t failed.
func StartBinary(t testing.TB, bin, db string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, "--http", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0", "--turn-listen", "127.0.0.1:0", "--log-format", "text")
	cmd.Env = append(os.Environ(), "ANCORE_DB="+db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{Cmd: cmd, Logs: &Buffer{}}
	cmd.Stderr = p.Logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("relay log:\n%s", p.Logs)
		}
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, "Relay HTTP API: "); ok {
			p.Base = v
		}
		if v, ok := strings.CutPrefix(line, "STUN/TURN: "); ok {
			p.TURN = append(p.TURN, v)
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
			p.Peer = *info
			break
		}
	}
	if p.Base == "" || p.Peer.ID == "" {
		t.Fatalf("relay did not print its addresses (%v)", lines.Err())
	}
	go func() { // keep the pipe drained
		for lines.Scan() {
		}
	}()
	healthy := testwait.Poll{Timeout: 20 * time.Second, Every: 20 * time.Millisecond}.Until(func() bool {
		var resp *http.Response
		if resp, err = http.Get(p.Base + "/healthz"); err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !healthy {
		t.Fatalf("relay not healthy: %v", err)
	}
	return p
}

// Kill stops the relay with SIGKILL, as a crash would.
func (p *Proc) Kill() {
	if p.Cmd.ProcessState == nil {
		p.Cmd.Process.Signal(syscall.SIGKILL)
		p.Cmd.Wait()
	}
}

// Stop shuts the relay down gracefully, or kills it after 20 s.
func (p *Proc) Stop() {
	if p.Cmd.ProcessState != nil {
		return
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		p.Cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.Cmd.Process.Kill()
		<-done
	}
}

// Buffer collects a process's log while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
