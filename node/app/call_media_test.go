//go:build media

package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/call"
	"github.com/ancore/ancore/node/media"
	"github.com/ancore/ancore/node/nodetest"
)

// callSide is a running app whose calls send a tone and record what they
// hear.
type callSide struct {
	*App
	tone  float64
	mu    sync.Mutex
	heard *media.Recorder
	sent  *endingSource
}

// endingSource is a Source that tells when the session reading it closed
// (its context ended), and whether the app closed it after, as it closes
// a device.
type endingSource struct {
	media.Source
	once   sync.Once
	ended  chan struct{}
	closed atomic.Bool
}

func (s *endingSource) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *endingSource) ReadFrame(ctx context.Context, pcm []int16) error {
	err := s.Source.ReadFrame(ctx, pcm)
	if ctx.Err() != nil {
		s.once.Do(func() { close(s.ended) })
	}
	return err
}

func (c *callSide) audio(call.Info) (media.Source, media.Sink, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.heard = &media.Recorder{}
	c.sent = &endingSource{Source: media.NewToneSource(c.tone, 0.3), ended: make(chan struct{})}
	return c.sent, c.heard, nil
}

func (c *callSide) session() (*media.Recorder, *endingSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heard, c.sent
}

func startCallSide(t *testing.T, tone float64) *callSide {
	t.Helper()
	c := &callSide{tone: tone}
	a, err := Open(Config{Node: nodetest.Config(t.TempDir()), CallAudio: c.audio})
	if err != nil {
		t.Fatal(err)
	}
	c.App = a
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("app run: %v", err)
		}
	})
	nodetest.Wait.For(t, "node running", a.Node.Running)
	return c
}

func (c *callSide) user() crdt.UserID { return c.Node.Identity().User.ID() }

func (c *callSide) waitState(t *testing.T, id call.ID, want call.State) {
	t.Helper()
	nodetest.Wait.For(t, fmt.Sprintf("call %s %s", id, want), func() bool {
		in, err := c.Calls.Call(id)
		return err == nil && in.State == want
	})
}

// hears waits until the last second that side played holds freq and not
// other (its own tone).
func (c *callSide) hears(t *testing.T, who string, freq, other float64) {
	t.Helper()
	const n = 50 * media.FrameSamples
	nodetest.Wait.For(t, fmt.Sprintf("%s hears %v Hz", who, freq), func() bool {
		heard, _ := c.session()
		if heard == nil {
			return false
		}
		pcm := heard.Last(n)
		return len(pcm) == n && media.ToneLevel(pcm, freq) > 0.1 && media.ToneLevel(pcm, other) < 0.02
	})
}

// TestCallAudioEndToEnd: two nodes in one community call each other on
// loopback through the calls feature with node/media's sessions, keyed
// from the community's epoch key; each hears the other's tone and not its
// own, and a hang-up from either side closes both sessions and their
// audio.
func TestCallAudioEndToEnd(t *testing.T) {
	caller, callee := startCallSide(t, 440), startCallSide(t, 660)
	ctx := t.Context()
	community, err := caller.Node.CreateCommunity(ctx, "Calls")
	if err != nil {
		t.Fatal(err)
	}
	link, err := caller.Node.CreateInvite(ctx, community, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := callee.Node.Join(ctx, link); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*callSide{{caller, callee}, {callee, caller}} {
		a, b := pair[0], pair[1]
		nodetest.Wait.For(t, "membership and device known", func() bool {
			c, err := a.Node.Community(community)
			if err != nil || c.Members[b.user()] == nil || c.Members[b.user()].State != crdt.Joined {
				return false
			}
			u, ok := a.Node.DeviceUser(b.Node.PeerID())
			return ok && u == b.user()
		})
	}
	// Both hold the same current epoch key: the one media is keyed from.
	nodetest.Wait.For(t, "one current epoch key", func() bool {
		ka, _, errA := epochKeys(caller.Node, community)
		kb, _, errB := epochKeys(callee.Node, community)
		return errA == nil && errB == nil && string(ka) == string(kb)
	})

	for _, hangsUp := range []*callSide{caller, callee} {
		in, err := caller.Calls.Start(ctx, community, callee.user())
		if err != nil {
			t.Fatal(err)
		}
		callee.waitState(t, in.ID, call.StateRinging)
		if _, err := callee.Calls.Accept(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		caller.waitState(t, in.ID, call.StateActive)
		callee.waitState(t, in.ID, call.StateActive)
		callee.hears(t, "the callee", 440, 660)
		caller.hears(t, "the caller", 660, 440)

		if _, err := hangsUp.Calls.End(in.ID); err != nil {
			t.Fatal(err)
		}
		caller.waitState(t, in.ID, call.StateEnded)
		callee.waitState(t, in.ID, call.StateEnded)
		for _, side := range []struct {
			name string
			*callSide
		}{{"caller", caller}, {"callee", callee}} {
			_, sent := side.session()
			select {
			case <-sent.ended:
			case <-time.After(nodetest.Wait.Timeout):
				t.Errorf("the %s's session did not close", side.name)
			}
			nodetest.Wait.For(t, "the "+side.name+"'s source closed with its session", sent.closed.Load)
		}
	}
}
