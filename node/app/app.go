// Package app assembles a node as the programs run it: the core
// (package node), its features (the relay link, invite previews, address
// announcements, calls) and its local API (node/api), wired explicitly.
// cmd/ancore and the desktop app use it, so
// that a headless node and a windowed one are the same node.
package app

import (
	"context"
	"errors"
	"sync"

	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/announce"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/call"
	"github.com/ancore/ancore/node/media"
	"github.com/ancore/ancore/node/preview"
	"github.com/ancore/ancore/node/relaylink"
)

// Config says how to build the app's node and its features.
type Config struct {
	Node  node.Config
	Relay relaylink.Config
	// Calls configures the calls feature; without a media engine
	// (Calls.Media nil) calls are unavailable and the API says so.
	Calls call.Config
	// CallAudio opens each call's sound, where it comes from and goes to.
	// In a build with the media tag and CallAudio set, Calls.Media (when
	// nil) is node/media's audio sessions with it; otherwise calls stay
	// unavailable.
	CallAudio CallAudio
}

// CallAudio opens a call's audio: the source it sends, the sink that
// plays what it receives. A source or sink that is an io.Closer (a
// device) is closed when the call's session closes.
type CallAudio func(call.Info) (media.Source, media.Sink, error)

// App is a node with its features, and its local API once Listen opened
// it.
type App struct {
	Node    *node.Node
	Relay   *relaylink.Link
	Preview *preview.Preview
	Addrs   *announce.Announcer
	Calls   *call.Feature
	api     *api.Server
}

// Open builds the node and attaches its features.
func Open(cfg Config) (*App, error) {
	link := relaylink.New(cfg.Relay)
	nc := cfg.Node
	nc.HostOptions = append(nc.HostOptions[:len(nc.HostOptions):len(nc.HostOptions)], link.HostOptions()...)
	n, err := node.New(nc)
	if err != nil {
		return nil, err
	}
	if err := link.Open(n, nc.Logger); err != nil {
		return nil, errors.Join(err, closed(n))
	}
	previews := preview.New()
	if err := previews.Open(n, nc.Logger); err != nil {
		return nil, errors.Join(err, closed(n))
	}
	addrs := announce.New()
	if err := addrs.Open(n, nc.Logger); err != nil {
		return nil, errors.Join(err, closed(n))
	}
	if cfg.Calls.Media == nil {
		cfg.Calls.Media = callMedia(n, cfg.CallAudio)
	}
	calls := call.New(cfg.Calls)
	if err := calls.Open(n, nc.Logger); err != nil {
		return nil, errors.Join(err, closed(n))
	}
	return &App{Node: n, Relay: link, Preview: previews, Addrs: addrs, Calls: calls}, nil
}

// Listen opens the local API with the features' routes and views.
func (a *App) Listen(cfg api.Config) (*api.Server, error) {
	cfg.Features = append(cfg.Features, a.Relay, a.Preview, a.Calls)
	cfg.Carried = a.Relay.Carried
	cfg.RelayNetwork = func() any { return a.Relay.Network() }
	srv, err := api.Listen(a.Node, cfg)
	if err == nil {
		a.api = srv
	}
	return srv, err
}

// Run runs the node, its features and its API (if Listen opened it) until
// ctx ends or the node stops on its own (a wipe), and returns what the
// node's Run returned.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var beside sync.WaitGroup
	beside.Go(func() { a.Relay.Run(ctx) })
	beside.Go(func() { a.Preview.Run(ctx) })
	beside.Go(func() { a.Addrs.Run(ctx) })
	beside.Go(func() { a.Calls.Run(ctx) })
	var err error
	if a.api != nil {
		err = api.Run(ctx, a.Node, a.api)
	} else {
		err = a.Node.Run(ctx)
	}
	cancel()
	beside.Wait()
	return err
}

// Close closes an app that never ran.
func (a *App) Close() error { return closed(a.Node) }

// closed closes a node that never ran: Run with a finished context closes
// its host and store.
func closed(n *node.Node) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return n.Run(ctx)
}
