// Command ancore runs an Ancore node: its identity, its message store, its
// libp2p host (found by peers on the LAN and connected to bootstrap peers)
// and its communities, with the local API and the web UI on loopback. A
// build with the window (make desktop) shows the UI in it when there is a
// display; otherwise, or with --headless, it prints the UI's address.
// `ancore open` opens the UI of the node already running on a data folder
// in the default browser.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ancore/ancore/cmd/internal/envflag"
	"github.com/ancore/ancore/desktop"
	"github.com/ancore/ancore/desktop/ui"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/app"
	"github.com/ancore/ancore/node/relaylink"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ancore:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) > 1 && os.Args[1] == "open" {
		return runOpen(context.Background(), os.Args[2:], os.Stdout)
	}
	fs := flag.NewFlagSet("ancore", flag.ContinueOnError)
	data := dataFlag(fs)
	listen := envflag.NewList("ANCORE_LISTEN")
	fs.Var(listen, "listen", "libp2p multiaddr to listen on; repeatable (env ANCORE_LISTEN, comma-separated; default TCP and QUIC on all interfaces)")
	bootstrap := envflag.NewList("ANCORE_BOOTSTRAP")
	fs.Var(bootstrap, "bootstrap", "peer to connect to, a multiaddr ending in /p2p/ID; repeatable (env ANCORE_BOOTSTRAP, comma-separated)")
	noMDNS := fs.Bool("no-mdns", envflag.Bool("ANCORE_NO_MDNS"), "do not look for peers on the LAN (env ANCORE_NO_MDNS=1)")
	headless := fs.Bool("headless", envflag.Bool("ANCORE_HEADLESS"), "run without a window even where one could open; open the printed address in a browser (env ANCORE_HEADLESS=1)")
	apiAddr := fs.String("api", envflag.String("ANCORE_API", "127.0.0.1:0"), "loopback address of the local API and UI (env ANCORE_API)")
	relay := fs.String("relay", os.Getenv("ANCORE_RELAY"), "base URL of a home relay, e.g. https://relay.example.org; remembered for later starts (env ANCORE_RELAY)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ancore [--headless] [--data DIR] [--api 127.0.0.1:PORT] [--listen MULTIADDR]... [--bootstrap MULTIADDR]... [--no-mdns] [--relay URL]\n       ancore open [--data DIR] [--print]\n\nRuns an Ancore node until interrupted; `ancore open` opens the UI of the one\nrunning on the data folder in a browser (ancore open --help). Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (a subcommand comes first: ancore open --data DIR)", fs.Arg(0))
	}
	// Signals are caught from here on, so that a stop request right after
	// start still closes the store cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := app.Config{
		Node: node.Config{
			DataDir: *data, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
			Listen: listen.Values, Bootstrap: bootstrap.Values, NoLAN: *noMDNS,
		},
		Relay: relaylink.Config{URL: *relay},
	}
	cfg.CallAudio = callAudio(cfg.Node.Logger)
	ac := api.Config{Addr: *apiAddr, UI: ui.Handler(), Logger: cfg.Node.Logger}
	status := func(a *app.App, info *api.Info) { printStatus(a, info, !*noMDNS) }
	if !*headless {
		err := desktop.CanOpen()
		if err == nil {
			started := func(a *app.App, info api.Info) { status(a, &info) }
			return wiped(desktop.Run(ctx, desktop.Config{App: cfg, API: ac, Started: started}))
		}
		fmt.Printf("No window, so running headless: %v.\n", err)
	}
	a, err := app.Open(cfg)
	if err != nil {
		return err
	}
	if ac.Addr == "" {
		status(a, nil)
	} else {
		srv, err := a.Listen(ac)
		if err != nil {
			return errors.Join(err, a.Close())
		}
		info := srv.Info()
		status(a, &info)
	}
	fmt.Println("Ctrl-C stops the node.")
	return wiped(a.Run(ctx))
}

// wiped turns the node's stop after a logout with wipe into a clean exit:
// the next start makes a new identity.
func wiped(err error) error {
	if errors.Is(err, node.ErrWiped) {
		fmt.Printf("%v; the next start makes a new identity.\n", node.ErrWiped)
		return nil
	}
	return err
}

// printStatus prints who the node is and where to reach it.
// info is the local API's, nil when it serves none.
func printStatus(a *app.App, info *api.Info, lan bool) {
	n := a.Node
	id := n.Identity()
	fmt.Printf("Ancore node\n  user:   %s\n  device: %s\n  data:   %s\n", id.User.ID(), id.Device.ID(), n.DataDir())
	for _, a := range n.Addrs() {
		fmt.Printf("  addr:   %s\n", a)
	}
	if lan {
		fmt.Println("LAN discovery is on.")
	} else {
		fmt.Println("LAN discovery is off.")
	}
	if r := a.Relay.Status(); r.URL != nil {
		fmt.Printf("  relay:  %s\n", *r.URL)
	}
	if info != nil {
		fmt.Printf("Open Ancore in a browser: %s\n", info.OpenURL())
		fmt.Printf("Another tab or a bookmark needs the token again: run %s\n", openCommand(n.DataDir()))
		fmt.Printf("Local API: %s/api/v1/ (token in %s)\n", info.URL, filepath.Join(n.DataDir(), api.APIFile))
	}
}

// dataFlag is the data folder flag of the node and of `ancore open`.
func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", envflag.String("ANCORE_DATA", defaultDataDir()), "data folder (env ANCORE_DATA)")
}

// openCommand is the `ancore open` that finds the node on data.
func openCommand(data string) string {
	if data == envflag.String("ANCORE_DATA", defaultDataDir()) {
		return "ancore open"
	}
	return "ancore open --data " + data
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
