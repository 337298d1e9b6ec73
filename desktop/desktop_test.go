package desktop

import (
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"testing"
)

func TestDisplayReachable(t *testing.T) {
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("DISPLAY", "")
	if err := displayReachable(); !errors.Is(err, ErrNoDisplay) {
		t.Fatalf("no display set: %v", err)
	}

	// An X server on TCP: display N listens on port 6000+N.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if port <= 6000 {
		t.Skipf("port %d is no X display's", port)
	}
	display := "127.0.0.1:" + strconv.Itoa(port-6000) + ".0"
	t.Setenv("DISPLAY", display)
	if err := displayReachable(); err != nil {
		t.Fatalf("DISPLAY=%s with a listener: %v", display, err)
	}
	l.Close()
	if err := displayReachable(); !errors.Is(err, ErrNoDisplay) {
		t.Fatalf("DISPLAY=%s without a listener: %v", display, err)
	}
	t.Setenv("DISPLAY", "nonsense")
	if err := displayReachable(); !errors.Is(err, ErrNoDisplay) {
		t.Fatalf("DISPLAY=nonsense: %v", err)
	}

	// A Wayland compositor's socket, named by an absolute path.
	sock := filepath.Join(t.TempDir(), "wayland-0")
	wl, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	t.Setenv("WAYLAND_DISPLAY", sock)
	if err := displayReachable(); err != nil {
		t.Fatalf("WAYLAND_DISPLAY=%s with a listener: %v", sock, err)
	}
}

func TestCanOpen(t *testing.T) {
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("DISPLAY", "")
	err := CanOpen()
	if hasWindow && !errors.Is(err, ErrNoDisplay) || !hasWindow && !errors.Is(err, ErrNoWindow) {
		t.Fatalf("CanOpen without a display, window built in %v: %v", hasWindow, err)
	}
}
