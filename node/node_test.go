package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ancore/ancore/node/store"
)

func TestIdentityPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	n, err := New(Config{DataDir: dir})
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

	again, err := New(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.store.Close()
	if again.Identity().User.ID() != user || again.Identity().Device.ID() != device {
		t.Fatal("identity changed across restarts")
	}
	if !again.Identity().Device.Cert().Verify(device) {
		t.Fatal("restored device certificate does not verify")
	}
}

func TestSecondNodeOnSameDataIsRefused(t *testing.T) {
	dir := t.TempDir()
	n, err := New(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.store.Close()
	if _, err := New(Config{DataDir: dir}); !errors.Is(err, store.ErrLocked) {
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
	if _, err := New(Config{DataDir: dir}); err == nil {
		t.Fatal("a node started on a damaged identity")
	}
}

func TestNoDataDir(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a data folder succeeded")
	}
}
