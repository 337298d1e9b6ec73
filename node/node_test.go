package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ancore/ancore/node/store"
)

func TestIdentityPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	n, err := New(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	user, device := n.Identity().User.ID(), n.Identity().Device.ID()
	if n.Identity().Device.User() != user {
		t.Fatal("device is not certified by the node's user")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, StoreFile): 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}

	again, err := New(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, again)
	if again.Identity().User.ID() != user || again.Identity().Device.ID() != device {
		t.Fatal("identity changed across restarts")
	}
	if !again.Identity().Device.Cert().Verify(device) {
		t.Fatal("restored device certificate does not verify")
	}
}

func TestSecondNodeOnSameDataIsRefused(t *testing.T) {
	dir := t.TempDir()
	n, err := New(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, n)
	if _, err := New(testConfig(dir)); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second node on the same data folder: %v, want ErrLocked", err)
	}
}

func TestDamagedIdentityIsAnError(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, StoreFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSetting(settingIdentity, []byte("short")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := New(testConfig(dir)); err == nil {
		t.Fatal("a node started on a damaged identity")
	}
}

func TestNoDataDir(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a data folder succeeded")
	}
}

// testConfig is a node on loopback without LAN discovery, so that tests
// running side by side do not find each other.
func testConfig(dir string) Config {
	return Config{DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoLAN: true}
}

// stop runs n with a finished context, which closes it.
func stop(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Error(err)
	}
}

func TestBootstrap(t *testing.T) {
	a, err := New(testConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t.TempDir())
	cfg.Bootstrap = a.Addrs()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- a.Run(ctx) }()
	go func() { done <- b.Run(ctx) }()
	waitFor(t, "b to connect to its bootstrap peer", func() bool { return slices.Contains(b.Peers(), a.host.ID()) })
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestBadBootstrapAddress(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1"} // no /p2p/ID
	if _, err := New(cfg); err == nil {
		t.Fatal("a bootstrap address without a peer ID was accepted")
	}
	// The store was closed again: the folder can be opened.
	n, err := New(testConfig(cfg.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	stop(t, n)
}
