package main

import (
	"bufio"
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

// TestLANDiscoveryAcrossNamespaces runs two ancore processes in two
// network namespaces joined by a veth pair — two network stacks, as two
// machines on one LAN — and waits until each has found and connected to the
// other by mDNS alone. It needs root (ip netns), which this project's
// machines and CI have.
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
		logs chan string
		cmd  *exec.Cmd
	}
	start := func(ns string) *proc {
		t.Helper()
		p := &proc{logs: make(chan string, 100)}
		p.cmd = exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
		p.cmd.Env = append(os.Environ(), "ANCORE_TEST_MAIN=1",
			"ANCORE_TEST_ARGS=--data "+filepath.Join(t.TempDir(), ns)+" --listen /ip4/0.0.0.0/tcp/0")
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
}
