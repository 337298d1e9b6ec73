// Package nodetest runs real nodes in tests: on loopback, without LAN
// discovery (tests side by side must not find each other), stopped when
// the test ends.
package nodetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/testwait"
)

// Wait is how tests of nodes wait for a condition: nodes on loopback
// converge in milliseconds, but a loaded CI machine may take seconds.
var Wait = testwait.Poll{Timeout: 30 * time.Second, Every: 20 * time.Millisecond}

// Config is a test node's configuration on data folder dir.
func Config(dir string) node.Config {
	return node.Config{DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoLAN: true}
}

// Live is a running node.
type Live struct {
	*node.Node
	cancel context.CancelFunc
	done   chan error
	beside sync.WaitGroup
}

// Run runs n until the test ends (or Stop), and each of beside with it,
// in the node's context (the local API's Serve, say). It returns once the
// node's networking is up.
func Run(t testing.TB, n *node.Node, beside ...func(context.Context)) *Live {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &Live{Node: n, cancel: cancel, done: make(chan error, 1)}
	for _, f := range beside {
		l.beside.Go(func() { f(ctx) })
	}
	go func() { l.done <- n.Run(ctx) }()
	Wait.For(t, "node running", n.Running)
	t.Cleanup(func() { l.Stop(t) })
	return l
}

// Start builds a node from cfg and runs it until the test ends.
func Start(t testing.TB, cfg node.Config) *Live {
	t.Helper()
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Run(t, n)
}

// Stop stops the node (once) and waits for it and what ran beside it;
// an error from Run fails the test.
func (l *Live) Stop(t testing.TB) {
	t.Helper()
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.cancel = nil
	if err := <-l.done; err != nil {
		t.Error(err)
	}
	l.beside.Wait()
}

// Wait waits up to timeout for Run to return on its own (a node that
// wipes itself stops), and gives its error; ok is false on a timeout.
// The test has then seen Run's error: Stop reports nothing more.
func (l *Live) Wait(timeout time.Duration) (err error, ok bool) {
	select {
	case err = <-l.done:
	case <-time.After(timeout):
		return nil, false
	}
	l.cancel()
	l.cancel = nil
	l.beside.Wait()
	return err, true
}
