package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ancore/ancore/testwait"
)

// headless is an ancore --headless child process and its API.
type headless struct {
	t     *testing.T
	cmd   *exec.Cmd
	data  string
	url   string
	token string
}

func startHeadless(t *testing.T, data string, args ...string) *headless {
	t.Helper()
	os.Remove(filepath.Join(data, "api.json")) // a killed node leaves its old one
	cmd := command(append([]string{"--headless", "--data", data}, args...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	h := &headless{t: t, cmd: cmd, data: data}
	start := testwait.Poll{Timeout: 30 * time.Second, Every: 20 * time.Millisecond}
	start.For(t, "the node's api.json", func() bool {
		raw, err := os.ReadFile(filepath.Join(data, "api.json"))
		var info struct{ URL, Token string }
		if err != nil || json.Unmarshal(raw, &info) != nil || info.URL == "" {
			return false
		}
		h.url, h.token = info.URL, info.Token
		return true
	})
	return h
}

func (h *headless) call(method, path string, in, out any) int {
	h.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.url+"/api/v1"+path, body)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			h.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func (h *headless) must(want int, method, path string, in, out any) {
	h.t.Helper()
	if got := h.call(method, path, in, out); got != want {
		h.t.Fatalf("%s %s: status %d, want %d", method, path, got, want)
	}
}

// wait is how long the headless node tests wait for two processes to get
// there.
var wait = testwait.Poll{Timeout: 60 * time.Second, Every: 50 * time.Millisecond}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type message struct {
	ID, Text, State string
}

// TestOutboxSurvivesSIGKILL: a message sent while no peer is reachable is
// stored at once and answered as pending; the node is killed with SIGKILL
// right after; restarted, it delivers the message when the peer is back.
func TestOutboxSurvivesSIGKILL(t *testing.T) {
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	listenA := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freePort(t))
	a := startHeadless(t, dirA, "--listen", listenA)
	b := startHeadless(t, dirB)

	var comm struct {
		ID       string
		Channels []struct{ ID string }
	}
	a.must(201, "POST", "/communities", map[string]any{"name": "Outbox"}, &comm)
	general := comm.Channels[0].ID
	var inv struct{ Link string }
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	wait.For(t, "b replicates #general", func() bool {
		var ms []message
		return b.call("GET", "/channels/"+general+"/messages", nil, &ms) == 200
	})
	var network struct {
		PeerID string `json:"peer_id"`
	}
	a.must(200, "GET", "/network", nil, &network)

	// B goes away; A is alone.
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("b: %v", err)
	}
	wait.For(t, "a alone", func() bool {
		var n struct{ Peers []any }
		return a.call("GET", "/network", nil, &n) == 200 && len(n.Peers) == 0
	})
	var sent message
	a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "sent while alone"}, &sent)
	if sent.State != "pending" {
		t.Fatalf("message state %q, want pending", sent.State)
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()

	// Both come back; B dials A.
	a = startHeadless(t, dirA, "--listen", listenA)
	var ms []message
	a.must(200, "GET", "/channels/"+general+"/messages", nil, &ms)
	if len(ms) != 1 || ms[0].ID != sent.ID || ms[0].State != "pending" {
		t.Fatalf("after SIGKILL a holds %+v", ms)
	}
	b = startHeadless(t, dirB, "--bootstrap", listenA+"/p2p/"+network.PeerID)
	wait.For(t, "b receives the message", func() bool {
		var got []message
		return b.call("GET", "/channels/"+general+"/messages", nil, &got) == 200 && len(got) == 1 && got[0].Text == "sent while alone"
	})
	wait.For(t, "a marks it sent", func() bool {
		var got []message
		return a.call("GET", "/channels/"+general+"/messages", nil, &got) == 200 && len(got) == 1 && got[0].State == "sent"
	})
}
