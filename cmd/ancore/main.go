// Command ancore runs an Ancore node: its identity, its message store and
// its libp2p host, found by peers on the LAN and connected to bootstrap
// peers. Communities, the local API and the UI come with later releases,
// and with them the desktop window and --headless mode.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
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
	listen := listFlag{values: envList("ANCORE_LISTEN")}
	fs.Var(&listen, "listen", "libp2p multiaddr to listen on; repeatable (env ANCORE_LISTEN, comma-separated; default TCP and QUIC on all interfaces)")
	bootstrap := listFlag{values: envList("ANCORE_BOOTSTRAP")}
	fs.Var(&bootstrap, "bootstrap", "peer to connect to, a multiaddr ending in /p2p/ID; repeatable (env ANCORE_BOOTSTRAP, comma-separated)")
	noMDNS := fs.Bool("no-mdns", os.Getenv("ANCORE_NO_MDNS") != "", "do not look for peers on the LAN (env ANCORE_NO_MDNS=1)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ancore [--data DIR] [--listen MULTIADDR]... [--bootstrap MULTIADDR]... [--no-mdns]\n\nRuns an Ancore node until interrupted. Flags:")
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
	n, err := node.New(node.Config{
		DataDir: *data, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Listen: listen.values, Bootstrap: bootstrap.values, NoLAN: *noMDNS,
	})
	if err != nil {
		return err
	}
	u, d := n.Identity().User.ID(), n.Identity().Device.ID()
	fmt.Printf("Ancore node\n  user:   %s\n  device: %s\n  data:   %s\n", node.KeyText(u[:]), node.KeyText(d[:]), n.DataDir())
	for _, a := range n.Addrs() {
		fmt.Printf("  addr:   %s\n", a)
	}
	lan := "on"
	if *noMDNS {
		lan = "off"
	}
	fmt.Printf("LAN discovery is %s. This build connects to peers but has no communities, local API or UI yet. Ctrl-C stops it.\n", lan)
	return n.Run(ctx)
}

// listFlag is a repeatable string flag whose default comes from the
// environment; the first use of the flag replaces that default.
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.values, l.set = nil, true
	}
	l.values = append(l.values, v)
	return nil
}

// envList splits a comma-separated environment variable.
func envList(name string) []string {
	var out []string
	for _, v := range strings.Split(os.Getenv(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
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
