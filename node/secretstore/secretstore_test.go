package secretstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.json")
	s := File(path)
	if v, err := s.Load(); err != nil || v != nil {
		t.Fatalf("empty store: %q, %v", v, err)
	}
	if err := s.Delete(); err != nil {
		t.Fatalf("deleting nothing: %v", err)
	}
	for _, v := range []string{"first", "second, longer"} {
		if err := s.Save([]byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load()
		if err != nil || string(got) != v {
			t.Fatalf("load: %q, %v; want %q", got, err, v)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("deleted file: %v", err)
	}
}

func TestDetectWithoutSessionBusUsesTheFile(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if sessionBus() {
		t.Skip("this machine has a session bus socket")
	}
	path := filepath.Join(t.TempDir(), "relay.json")
	s := Detect(context.Background(), path, "ancore-test", "probe", time.Second)
	if s.String() != path {
		t.Fatalf("Detect chose %s", s)
	}
}
