package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWipeExits: a logout with wipe stops ancore with status 0 and
// deletes its store, so the next start is a new identity.
func TestWipeExits(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	h := startHeadless(t, data)
	var before struct{ User, Device string }
	h.must(200, "GET", "/me", nil, &before)
	h.must(204, "POST", "/relay/logout", map[string]any{"wipe": true}, nil)
	done := make(chan error, 1)
	go func() { done <- h.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after a wipe: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ancore did not exit after a wipe")
	}
	if _, err := os.Stat(filepath.Join(data, "ancore.db")); !os.IsNotExist(err) {
		t.Fatalf("the store survived the wipe: %v", err)
	}
	again := startHeadless(t, data)
	var after struct{ User, Device string }
	again.must(200, "GET", "/me", nil, &after)
	if after.User == before.User || after.Device == before.Device {
		t.Fatal("the identity survived the wipe")
	}
}

func TestBadRelayFlag(t *testing.T) {
	out, err := command("--headless", "--data", t.TempDir(), "--relay", "ftp://relay.example.org").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "relay") {
		t.Fatalf("a bad --relay was accepted: %v\n%s", err, out)
	}
	out, err = command("--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ANCORE_RELAY") {
		t.Fatalf("--help does not mention --relay: %v\n%s", err, out)
	}
}
