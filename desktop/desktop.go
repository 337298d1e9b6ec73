// Package desktop is Ancore's desktop app: a window that shows the web UI
// (desktop/ui) of a node run in the same process. The node serves the UI
// and its local API on loopback exactly as in headless mode, and the window
// opens that page with the API token; one window runs per data folder
// (desktop/instance), and the window's size and place are kept there.
//
// The window needs GTK and WebKitGTK, so it is compiled only with the
// build tags desktop,production,webkit2_41 (make desktop). Other builds
// have no window: CanOpen says so and the command runs headless.
package desktop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/app"
)

var (
	// ErrNoWindow: this binary was built without the window.
	ErrNoWindow = errors.New("this build has no window (make desktop builds one)")
	// ErrNoDisplay: no graphical session to open a window in.
	ErrNoDisplay = errors.New("no display")
)

// Config says how to run the desktop app.
type Config struct {
	// App is the node's configuration, with its features'.
	App app.Config
	// API is its local API's. An empty Addr means 127.0.0.1:0 and a nil
	// UI the embedded one: the window needs both.
	API api.Config
	// Started, if set, is called once the node and its API are open,
	// before the window shows.
	Started func(*app.App, api.Info)
}

// CanOpen returns nil if Run can open a window here, or why it cannot
// (ErrNoWindow, ErrNoDisplay).
func CanOpen() error {
	if !hasWindow {
		return ErrNoWindow
	}
	return displayReachable()
}

// displayReachable checks that the display the environment names takes
// connections. A DISPLAY left over from an ended session is common (ssh,
// tmux), and GTK aborts the process when it cannot open the display.
func displayReachable() error {
	wayland, x := os.Getenv("WAYLAND_DISPLAY"), os.Getenv("DISPLAY")
	if wayland == "" && x == "" {
		return fmt.Errorf("%w (neither DISPLAY nor WAYLAND_DISPLAY is set)", ErrNoDisplay)
	}
	var errs []error
	if wayland != "" {
		path := wayland
		if !filepath.IsAbs(path) {
			path = filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), wayland)
		}
		err := probe("unix", path)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("WAYLAND_DISPLAY=%s: %w", wayland, err))
	}
	if x != "" {
		err := probeX(x)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("DISPLAY=%s: %w", x, err))
	}
	return fmt.Errorf("%w: %w", ErrNoDisplay, errors.Join(errs...))
}

// probeX connects to the X server of display ("[host]:N[.screen]"): its
// unix socket for a local display, TCP port 6000+N for a remote one.
func probeX(display string) error {
	host, rest, ok := strings.Cut(display, ":")
	num, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 {
		return errors.New("not a display name")
	}
	if host == "" || host == "unix" {
		path := "/tmp/.X11-unix/X" + num
		err := probe("unix", path)
		// Linux X servers also listen on an abstract socket of that name.
		if err != nil && probe("unix", "@"+path) == nil {
			return nil
		}
		return err
	}
	return probe("tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)))
}

func probe(network, addr string) error {
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}
