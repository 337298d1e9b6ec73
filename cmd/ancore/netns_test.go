package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLANDiscoveryAcrossNamespaces runs two headless ancore processes in
// two network namespaces joined by a veth pair — two network stacks, as two
// machines on one LAN — and waits until each has found and connected to the
// other by mDNS alone; then, through their local APIs, one creates a
// community and an invite, the other joins, and they chat. It needs root
// (ip netns), which this project's machines and CI have.
func TestLANDiscoveryAcrossNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) is not installed")
	}
	tag := fmt.Sprintf("anc%d", rand.IntN(1e6))
	nsA, nsB := tag+"a", tag+"b"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", nsA)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsA).Run() })
	run("netns", "add", nsB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	run("link", "add", tag+"x", "type", "veth", "peer", "name", tag+"y")
	t.Cleanup(func() { exec.Command("ip", "link", "del", tag+"x").Run() })
	run("link", "set", tag+"x", "netns", nsA)
	run("link", "set", tag+"y", "netns", nsB)
	for _, c := range []struct{ ns, dev, addr string }{{nsA, tag + "x", "10.77.0.1/24"}, {nsB, tag + "y", "10.77.0.2/24"}} {
		run("-n", c.ns, "addr", "add", c.addr, "dev", c.dev)
		run("-n", c.ns, "link", "set", c.dev, "up")
		run("-n", c.ns, "link", "set", "lo", "up")
	}

	type proc struct {
		id   string
		ns   string
		data string
		logs chan string
		cmd  *exec.Cmd
	}
	start := func(ns string) *proc {
		t.Helper()
		p := &proc{ns: ns, data: filepath.Join(t.TempDir(), ns), logs: make(chan string, 100)}
		p.cmd = exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
		p.cmd.Env = append(os.Environ(), "ANCORE_TEST_MAIN=1",
			"ANCORE_TEST_ARGS=--headless --data "+p.data+" --listen /ip4/0.0.0.0/tcp/0")
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr, err := p.cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
		idRe := regexp.MustCompile(`/p2p/(\w+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && p.id == "" {
			if m := idRe.FindStringSubmatch(sc.Text()); m != nil {
				p.id = m[1]
			}
		}
		if p.id == "" {
			t.Fatalf("the node in %s printed no address", ns)
		}
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				p.logs <- sc.Text()
			}
			close(p.logs)
		}()
		return p
	}
	a, b := start(nsA), start(nsB)

	deadline := time.After(60 * time.Second)
	for _, c := range []struct{ p, other *proc }{{a, b}, {b, a}} {
		for found := false; !found; {
			select {
			case line, ok := <-c.p.logs:
				if !ok {
					t.Fatal("a node exited")
				}
				found = strings.Contains(line, "peer connected") && strings.Contains(line, c.other.id)
			case <-deadline:
				t.Fatal("the nodes did not find each other by mDNS within 60 s")
			}
		}
	}
	for _, p := range []*proc{a, b} {
		go func() {
			for range p.logs {
			}
		}()
	}

	// Chat through each node's API, reached inside its namespace.
	call := func(p *proc, method, path, body string, out any) error {
		raw, err := os.ReadFile(filepath.Join(p.data, "api.json"))
		var info struct{ URL, Token string }
		if err != nil || json.Unmarshal(raw, &info) != nil {
			return fmt.Errorf("api.json of %s: %v", p.ns, err)
		}
		args := []string{"netns", "exec", p.ns, "curl", "-sS", "--fail-with-body", "-X", method,
			"-H", "Authorization: Bearer " + info.Token, info.URL + "/api/v1" + path}
		if body != "" {
			args = append(args, "-H", "Content-Type: application/json", "-d", body)
		}
		res, err := exec.Command("ip", args...).Output()
		if err != nil {
			return fmt.Errorf("%s %s on %s: %v: %s", method, path, p.ns, err, res)
		}
		if out != nil {
			return json.Unmarshal(res, out)
		}
		return nil
	}
	must := func(p *proc, method, path, body string, out any) {
		t.Helper()
		if err := call(p, method, path, body, out); err != nil {
			t.Fatal(err)
		}
	}
	deadline = time.After(60 * time.Second)
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	var comm struct {
		ID       string
		Channels []struct{ ID string }
	}
	must(a, "POST", "/communities", `{"name":"LAN party"}`, &comm)
	var inv struct{ Link string }
	must(a, "POST", "/communities/"+comm.ID+"/invites", `{}`, &inv)
	must(b, "POST", "/communities/join", `{"invite":"`+inv.Link+`"}`, nil)
	general := comm.Channels[0].ID
	eventually("b to replicate the community", func() bool {
		var c struct{ Channels []any }
		return call(b, "GET", "/communities/"+comm.ID, "", &c) == nil && len(c.Channels) == 1
	})
	must(a, "POST", "/channels/"+general+"/messages", `{"text":"hello from namespace a"}`, nil)
	must(b, "POST", "/channels/"+general+"/messages", `{"text":"hello from namespace b"}`, nil)
	for _, c := range []struct {
		p    *proc
		text string
	}{{b, "hello from namespace a"}, {a, "hello from namespace b"}} {
		eventually(c.p.ns+" to show "+c.text, func() bool {
			var ms []struct{ Text string }
			if call(c.p, "GET", "/channels/"+general+"/messages", "", &ms) != nil {
				return false
			}
			for _, m := range ms {
				if m.Text == c.text {
					return true
				}
			}
			return false
		})
	}
}
