package instance

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func acquire(t *testing.T, dir string) *Instance {
	t.Helper()
	in, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

func waitShow(t *testing.T, in *Instance) {
	t.Helper()
	select {
	case <-in.ShowRequests():
	case <-time.After(10 * time.Second):
		t.Fatal("no show request arrived")
	}
}

func TestSecondAcquireFindsTheFirstAndAsksItToShow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := acquire(t, dir)
	// flock conflicts between open files, so a second Acquire in this
	// process stands for a second process.
	if _, err := Acquire(dir); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Acquire: %v, want ErrRunning", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if err := Show(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	waitShow(t, first)
	// The three requests merged into the one pending.
	select {
	case <-first.ShowRequests():
		t.Fatal("requests did not merge")
	default:
	}
}

func TestCloseReleasesTheFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := Show(ctx, dir); err == nil {
		t.Fatal("Show succeeded with no instance running")
	}
	second := acquire(t, dir)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Show(ctx, dir); err != nil {
		t.Fatal(err)
	}
	waitShow(t, second)
}

func TestStaleSocketIsReplaced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// What a crashed copy leaves: a socket file nobody listens on.
	l, err := net.Listen("unix", filepath.Join(dir, SocketFile))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	in := acquire(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Show(ctx, dir); err != nil {
		t.Fatal(err)
	}
	waitShow(t, in)
}

func TestShowWaitsForTheSocket(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shown := make(chan error, 1)
	go func() { shown <- Show(ctx, dir) }()
	in := acquire(t, dir)
	if err := <-shown; err != nil {
		t.Fatal(err)
	}
	waitShow(t, in)
}

func TestOtherInputIsIgnored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := acquire(t, dir)
	c, err := net.Dial("unix", filepath.Join(dir, SocketFile))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("quit\n"))
	buf := make([]byte, 8)
	if n, _ := c.Read(buf); n != 0 {
		t.Fatalf("reply %q to an unknown request", buf[:n])
	}
	c.Close()
	select {
	case <-in.ShowRequests():
		t.Fatal("an unknown request showed the window")
	default:
	}
}

func TestTooLongPathSaysSo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for len(dir) < maxSocketPath {
		dir = filepath.Join(dir, "aaaaaaaaaaaaaaaaaaaa")
	}
	_, err := Acquire(dir)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("Acquire in a folder with a %d-byte path: %v", len(dir), err)
	}
}
