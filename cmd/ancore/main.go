// Command ancore runs an Ancore node. This build has the node's identity
// and its message store; networking, the local API and the UI come with
// later releases, and with them the desktop window and --headless mode.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ancore/ancore/node"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ancore:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("ancore", flag.ContinueOnError)
	data := fs.String("data", envOr("ANCORE_DATA", defaultDataDir()), "data folder (env ANCORE_DATA)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ancore [--data DIR]\n\nRuns an Ancore node until interrupted. Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	// Signals are caught from here on, so that a stop request right after
	// start still closes the store cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.New(node.Config{DataDir: *data, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	u, d := n.Identity().User.ID(), n.Identity().Device.ID()
	fmt.Printf("Ancore node\n  user:   %s\n  device: %s\n  data:   %s\n", node.KeyText(u[:]), node.KeyText(d[:]), n.DataDir())
	fmt.Println("This build runs the node's identity and message store only; networking, the local API and the UI are not built yet. Ctrl-C stops it.")
	return n.Run(ctx)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultDataDir follows the XDG base directory spec.
func defaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "ancore")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "ancore")
	}
	return "ancore-data"
}
