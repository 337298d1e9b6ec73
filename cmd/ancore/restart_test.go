package main

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestRestartFindsPeers: a node stopped and started again on its data
// folder, on a new port, with no bootstrap peer and no LAN discovery,
// finds the members it was connected to from what it remembers, and
// catches up on what they posted meanwhile.
func TestRestartFindsPeers(t *testing.T) {
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	a := startHeadless(t, dirA)
	b := startHeadless(t, dirB)

	var comm struct {
		ID       string
		Channels []struct{ ID string }
	}
	a.must(201, "POST", "/communities", map[string]any{"name": "Restart"}, &comm)
	general := comm.Channels[0].ID
	var inv struct{ Link string }
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	wait.For(t, "b replicates #general", func() bool {
		var ms []message
		return b.call("GET", "/channels/"+general+"/messages", nil, &ms) == 200
	})
	var before struct {
		Addrs []string `json:"addrs"`
	}
	b.must(200, "GET", "/network", nil, &before)

	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("b: %v", err)
	}
	wait.For(t, "a alone", func() bool {
		var n struct{ Peers []any }
		return a.call("GET", "/network", nil, &n) == 200 && len(n.Peers) == 0
	})
	a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "posted while b was away"}, nil)

	// command() has B listen on a random loopback port: a new one.
	b = startHeadless(t, dirB)
	var after struct {
		Addrs []string `json:"addrs"`
	}
	b.must(200, "GET", "/network", nil, &after)
	if len(after.Addrs) > 0 && len(before.Addrs) > 0 && after.Addrs[0] == before.Addrs[0] {
		t.Logf("b listens on its old address %s again (the random port came back)", after.Addrs[0])
	}
	wait.For(t, "b catches up without a bootstrap peer", func() bool {
		var got []message
		return b.call("GET", "/channels/"+general+"/messages", nil, &got) == 200 && len(got) == 1 &&
			got[0].Text == "posted while b was away"
	})
}
