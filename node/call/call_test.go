package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/nodetest"
	"github.com/libp2p/go-libp2p"
)

// fakeMedia makes sessions that connect only when signaling carried
// everything right: each side's description names its token, each of its
// candidates carries it, and a session reports connected once it holds
// the other side's description and all of its candidates. A candidate
// before the remote description is an error, as in WebRTC.
type fakeMedia struct {
	mu       sync.Mutex
	sessions []*fakeSession
}

const fakeCandidates = 3

func (m *fakeMedia) NewSession(_ Info, ev SessionEvents) (Session, error) {
	s := &fakeSession{ev: ev, token: randomToken()}
	m.mu.Lock()
	m.sessions = append(m.sessions, s)
	m.mu.Unlock()
	return s, nil
}

// last returns the session made last.
func (m *fakeMedia) last() *fakeSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sessions) == 0 {
		return nil
	}
	return m.sessions[len(m.sessions)-1]
}

func randomToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type fakeSession struct {
	ev     SessionEvents
	token  string
	mu     sync.Mutex
	remote string
	got    map[string]bool
	closed bool
}

func (s *fakeSession) gather() {
	go func() {
		for i := range fakeCandidates {
			s.ev.Candidate(fmt.Sprintf("cand %s %d", s.token, i))
		}
	}()
}

func (s *fakeSession) Offer(context.Context) (string, error) {
	s.gather()
	return "offer " + s.token, nil
}

func (s *fakeSession) Answer(_ context.Context, offer string) (string, error) {
	token, ok := strings.CutPrefix(offer, "offer ")
	if !ok {
		return "", fmt.Errorf("not an offer: %q", offer)
	}
	s.mu.Lock()
	s.remote = token
	s.mu.Unlock()
	s.gather()
	return "answer " + s.token, nil
}

func (s *fakeSession) SetAnswer(_ context.Context, answer string) error {
	token, ok := strings.CutPrefix(answer, "answer ")
	if !ok {
		return fmt.Errorf("not an answer: %q", answer)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote = token
	return nil
}

func (s *fakeSession) AddCandidate(c string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remote == "" {
		return errors.New("candidate before the remote description")
	}
	if !strings.HasPrefix(c, "cand "+s.remote+" ") {
		return fmt.Errorf("candidate %q is not the remote side's", c)
	}
	if s.got == nil {
		s.got = map[string]bool{}
	}
	s.got[c] = true
	if len(s.got) == fakeCandidates && !s.closed {
		go s.ev.State(MediaConnected)
	}
	return nil
}

func (s *fakeSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *fakeSession) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// refusals records the errors the feature logs refusing signals.
type refusals struct {
	mu   sync.Mutex
	errs []error
}

func (r *refusals) Enabled(context.Context, slog.Level) bool { return true }
func (r *refusals) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *refusals) WithGroup(string) slog.Handler            { return r }
func (r *refusals) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "call signal refused" {
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "err" {
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		}
		return true
	})
	return nil
}

// has reports whether an error that is target was refused.
func (r *refusals) has(target error) func() bool {
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, err := range r.errs {
			if errors.Is(err, target) {
				return true
			}
		}
		return false
	}
}

// peerNode is a running node with the calls feature.
type peerNode struct {
	*nodetest.Live
	calls   *Feature
	media   *fakeMedia
	refused *refusals
	api     *api.Server // with withAPI

	mu     sync.Mutex
	states map[ID][]State // the call:state events, without withAPI
}

// peerConfig is what a test peer is made of.
type peerConfig struct {
	calls Config
	host  []libp2p.Option // the node's HostOptions
	api   bool            // serve the local API with the feature's routes (which then hears the node's events)
}

type nodeOption func(*peerConfig)

func withAPI(c *peerConfig) { c.api = true }

func withRing(d time.Duration) nodeOption {
	return func(c *peerConfig) { c.calls.RingTimeout = d }
}

func withConnect(d time.Duration) nodeOption {
	return func(c *peerConfig) { c.calls.ConnectTimeout = d }
}

func withMedia(m Media) nodeOption { return func(c *peerConfig) { c.calls.Media = m } }

// startPeer starts a node with the feature; seed, if not nil, makes it a
// device of that user.
func startPeer(t *testing.T, seed []byte, opts ...nodeOption) *peerNode {
	t.Helper()
	p := &peerNode{media: &fakeMedia{}, refused: &refusals{}}
	ncfg := nodetest.Config(t.TempDir())
	cfg := peerConfig{calls: Config{Media: p.media}}
	for _, o := range opts {
		o(&cfg)
	}
	ncfg.HostOptions = cfg.host
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	if seed != nil {
		if err := n.SwapUser(seed, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	p.calls = New(cfg.calls)
	if err := p.calls.Open(n, slog.New(p.refused)); err != nil {
		t.Fatal(err)
	}
	beside := []func(context.Context){p.calls.Run}
	if cfg.api {
		if p.api, err = api.Listen(n, api.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), Features: []api.Feature{p.calls}}); err != nil {
			t.Fatal(err)
		}
		beside = append(beside, p.api.Serve)
	} else {
		p.states = map[ID][]State{}
		n.OnEvent(func(e node.Event) {
			if in, ok := e.Data.(InfoJSON); ok && e.Type == "call:state" {
				id, err := ParseID(in.ID)
				if err != nil {
					t.Errorf("call:state event with id %q", in.ID)
				}
				p.mu.Lock()
				p.states[id] = append(p.states[id], in.State)
				p.mu.Unlock()
			}
		})
	}
	p.Live = nodetest.Run(t, n, beside...)
	return p
}

func (p *peerNode) user() crdt.UserID { return p.Identity().User.ID() }

// community makes a community of owner's that the others join; each
// learns whose device every other is.
func community(t *testing.T, owner *peerNode, others ...*peerNode) crdt.ID {
	t.Helper()
	ctx := t.Context()
	id, err := owner.CreateCommunity(ctx, "Calls")
	if err != nil {
		t.Fatal(err)
	}
	link, err := owner.CreateInvite(ctx, id, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range others {
		if _, err := o.Join(ctx, link); err != nil {
			t.Fatal(err)
		}
	}
	knowEachOther(t, id, append([]*peerNode{owner}, others...)...)
	return id
}

// knowEachOther waits until every node holds every other's membership and
// knows whose device each is.
func knowEachOther(t *testing.T, id crdt.ID, nodes ...*peerNode) {
	t.Helper()
	for _, a := range nodes {
		for _, b := range nodes {
			if a == b {
				continue
			}
			nodetest.Wait.For(t, "membership and device known", func() bool {
				if a.calls.members(id, a.user(), b.user()) != nil {
					return false
				}
				u, ok := a.DeviceUser(b.PeerID())
				return ok && u == b.user()
			})
		}
	}
}

// state waits for call id on p to be in want.
func waitState(t *testing.T, p *peerNode, id ID, want State) Info {
	t.Helper()
	var in Info
	nodetest.Wait.For(t, fmt.Sprintf("call %s %s", id, want), func() bool {
		var err error
		in, err = p.calls.Call(id)
		return err == nil && in.State == want
	})
	return in
}

func start(t *testing.T, from, to *peerNode, community crdt.ID) ID {
	t.Helper()
	in, err := from.calls.Start(t.Context(), community, to.user())
	if err != nil {
		t.Fatal(err)
	}
	if in.State != StateRinging || !in.Outgoing || in.Peer != to.user() {
		t.Fatalf("started %+v", in)
	}
	return in.ID
}

// activeCall has from call to, to accept, and waits until both sides have
// the call active.
func activeCall(t *testing.T, from, to *peerNode, community crdt.ID) ID {
	t.Helper()
	call := start(t, from, to, community)
	waitState(t, to, call, StateRinging)
	if _, err := to.calls.Accept(t.Context(), call); err != nil {
		t.Fatal(err)
	}
	waitState(t, from, call, StateActive)
	waitState(t, to, call, StateActive)
	return call
}

func TestCallRingAcceptEnd(t *testing.T) {
	a, b := startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b)

	for _, hangsUp := range []string{"caller", "callee"} {
		call := start(t, a, b, id)
		in := waitState(t, b, call, StateRinging)
		if in.Outgoing || in.Peer != a.user() || in.Community != id {
			t.Fatalf("callee sees %+v", in)
		}
		if _, err := a.calls.Accept(t.Context(), call); !errors.Is(err, ErrCallState) {
			t.Errorf("caller accepting its own call: %v", err)
		}
		if _, err := b.calls.Accept(t.Context(), call); err != nil {
			t.Fatal(err)
		}
		waitState(t, a, call, StateActive)
		waitState(t, b, call, StateActive)
		ender, other := a, b
		if hangsUp == "callee" {
			ender, other = b, a
		}
		if _, err := ender.calls.End(call); err != nil {
			t.Fatal(err)
		}
		if in := waitState(t, other, call, StateEnded); in.Reason != ReasonHangup {
			t.Errorf("%s hung up: other side ended with %q", hangsUp, in.Reason)
		}
		if in, _ := ender.calls.Call(call); in.State != StateEnded || in.Ended.IsZero() {
			t.Errorf("%s hung up: its call is %+v", hangsUp, in)
		}
		nodetest.Wait.For(t, "sessions closed", func() bool { return a.media.last().isClosed() && b.media.last().isClosed() })
		want := []State{StateRinging, StateConnecting, StateActive, StateEnded}
		for _, p := range []*peerNode{a, b} {
			p.mu.Lock()
			got := p.states[call]
			p.mu.Unlock()
			if !slices.Equal(got, want) {
				t.Errorf("%s hung up: call:state events %v, want %v", hangsUp, got, want)
			}
		}
	}
	calls := a.calls.Calls()
	if len(calls) != 2 || calls[0].State != StateEnded || calls[0].Started.Before(calls[1].Started) {
		t.Errorf("recent calls: %+v", calls)
	}
}

func TestCallBothEndAtOnce(t *testing.T) {
	a, b := startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b)
	call := activeCall(t, a, b, id)
	var wg sync.WaitGroup
	for _, p := range []*peerNode{a, b} {
		wg.Go(func() {
			if _, err := p.calls.End(call); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitState(t, a, call, StateEnded)
	waitState(t, b, call, StateEnded)
	// A new call works after both ended: nothing is left half over.
	again := start(t, b, a, id)
	waitState(t, a, again, StateRinging)
	if _, err := a.calls.Accept(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	waitState(t, b, again, StateActive)
}

func TestCallReject(t *testing.T) {
	a, b := startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b)
	call := start(t, a, b, id)
	waitState(t, b, call, StateRinging)
	if _, err := b.calls.Reject(call); err != nil {
		t.Fatal(err)
	}
	if in := waitState(t, a, call, StateRejected); in.Reason != ReasonDeclined {
		t.Errorf("caller: rejected with %q", in.Reason)
	}
	if in, _ := b.calls.Call(call); in.State != StateRejected {
		t.Errorf("callee: %+v", in)
	}
	if _, err := b.calls.Accept(t.Context(), call); !errors.Is(err, ErrUnknownCall) {
		t.Errorf("accepting a rejected call: %v", err)
	}
}

func TestCallMissed(t *testing.T) {
	short := withRing(500 * time.Millisecond)
	a, b := startPeer(t, nil, short), startPeer(t, nil, short)
	id := community(t, a, b)
	call := start(t, a, b, id)
	if in := waitState(t, a, call, StateMissed); in.Reason != ReasonNoAnswer {
		t.Errorf("caller: missed with %q", in.Reason)
	}
	if in := waitState(t, b, call, StateMissed); in.Reason != ReasonNoAnswer {
		t.Errorf("callee: missed with %q", in.Reason)
	}
	if _, err := b.calls.Accept(t.Context(), call); !errors.Is(err, ErrUnknownCall) {
		t.Errorf("accepting a missed call: %v", err)
	}
}

func TestCallCancelledIsMissed(t *testing.T) {
	a, b := startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b)
	call := start(t, a, b, id)
	waitState(t, b, call, StateRinging)
	if _, err := a.calls.End(call); err != nil {
		t.Fatal(err)
	}
	if in := waitState(t, b, call, StateMissed); in.Reason != ReasonCancelled {
		t.Errorf("callee: missed with %q", in.Reason)
	}
	if in, _ := a.calls.Call(call); in.State != StateEnded || in.Reason != ReasonCancelled {
		t.Errorf("caller: %+v", in)
	}
}

func TestCallBusy(t *testing.T) {
	a, b, c := startPeer(t, nil), startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b, c)
	for _, addr := range b.Addrs() {
		if err := connect(t, c, addr); err != nil {
			t.Fatal(err)
		}
	}
	call := start(t, a, b, id)
	waitState(t, b, call, StateRinging)
	if _, err := b.calls.Accept(t.Context(), call); err != nil {
		t.Fatal(err)
	}
	waitState(t, b, call, StateActive)
	if _, err := a.calls.Start(t.Context(), id, c.user()); !errors.Is(err, ErrInCall) {
		t.Errorf("calling from a call: %v", err)
	}
	other := start(t, c, b, id)
	if in := waitState(t, c, other, StateBusy); in.Reason != ReasonBusy {
		t.Errorf("caller of a busy user: %q", in.Reason)
	}
	if in, err := b.calls.Call(other); err != nil || in.State != StateMissed || in.Reason != ReasonBusy || in.Peer != c.user() {
		t.Errorf("the busy callee's record of the call: %+v, %v", in, err)
	}
	if in, _ := a.calls.Call(call); in.State != StateActive {
		t.Errorf("the call in progress: %+v", in)
	}
	if in, _ := b.calls.Call(call); in.State != StateActive {
		t.Errorf("the call in progress, callee: %+v", in)
	}
}

func TestCallUnavailableWithoutMedia(t *testing.T) {
	a, b := startPeer(t, nil), startPeer(t, nil, withMedia(nil))
	id := community(t, a, b)
	if _, err := b.calls.Start(t.Context(), id, a.user()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("calling without media: %v", err)
	}
	call := start(t, a, b, id)
	if in := waitState(t, a, call, StateRejected); in.Reason != ReasonUnavailable {
		t.Errorf("calling a node without media: %q", in.Reason)
	}
	if in, err := b.calls.Call(call); err != nil || in.State != StateMissed || in.Reason != ReasonUnavailable {
		t.Errorf("the node without media's record of the call: %+v, %v", in, err)
	}
}

func TestCallSecondDeviceAnswers(t *testing.T) {
	a, b1 := startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b1)
	b2 := startPeer(t, b1.Identity().User.Seed())
	topic, err := b1.TopicSecret(id)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := b1.EpochKeys(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range append(a.Addrs(), b1.Addrs()...) {
		if err := connect(t, b2, addr); err != nil {
			t.Fatal(err)
		}
	}
	if err := b2.ImportCommunity(t.Context(), id, topic, keys); err != nil {
		t.Fatal(err)
	}
	knowEachOther(t, id, a, b1, b2)

	call := start(t, a, b1, id)
	waitState(t, b1, call, StateRinging)
	waitState(t, b2, call, StateRinging)
	if _, err := b2.calls.Accept(t.Context(), call); err != nil {
		t.Fatal(err)
	}
	if in := waitState(t, b1, call, StateEnded); in.Reason != ReasonAnsweredElsewhere {
		t.Errorf("the device that did not answer: %q", in.Reason)
	}
	waitState(t, a, call, StateActive)
	waitState(t, b2, call, StateActive)
	if _, err := b1.calls.Accept(t.Context(), call); !errors.Is(err, ErrUnknownCall) {
		t.Errorf("answering on the first device too: %v", err)
	}
	if _, err := a.calls.End(call); err != nil {
		t.Fatal(err)
	}
	waitState(t, b2, call, StateEnded)
}

func TestCallEndsWhenAMemberIsRemoved(t *testing.T) {
	a, b := startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b)
	call := activeCall(t, a, b, id)
	if err := a.Kick(t.Context(), id, b.user()); err != nil {
		t.Fatal(err)
	}
	if in := waitState(t, a, call, StateEnded); in.Reason != ReasonNotMember {
		t.Errorf("the kicker's side ended with %q", in.Reason)
	}
	if in := waitState(t, b, call, StateEnded); in.Reason != ReasonNotMember {
		t.Errorf("the kicked side ended with %q", in.Reason)
	}
	if _, err := a.calls.Start(t.Context(), id, b.user()); !errors.Is(err, ErrNotMember) {
		t.Errorf("calling a kicked member: %v", err)
	}
}

func TestCallReconnects(t *testing.T) {
	short := withConnect(time.Second)
	a, b := startPeer(t, nil, short), startPeer(t, nil, short)
	id := community(t, a, b)
	call := activeCall(t, a, b, id)

	// The media drops and comes back: reconnecting, then active again.
	s := a.media.last()
	s.ev.State(MediaDisconnected)
	waitState(t, a, call, StateReconnecting)
	s.ev.State(MediaConnected)
	waitState(t, a, call, StateActive)
	if in, _ := b.calls.Call(call); in.State != StateActive {
		t.Errorf("the other side while one reconnected: %+v", in)
	}

	// It drops for longer than the connect timeout: the call fails on
	// both sides.
	s.ev.State(MediaDisconnected)
	if in := waitState(t, a, call, StateEnded); in.Reason != ReasonFailed {
		t.Errorf("lost media ended with %q", in.Reason)
	}
	if in := waitState(t, b, call, StateEnded); in.Reason != ReasonFailed {
		t.Errorf("the other side ended with %q", in.Reason)
	}
}

func TestCallUnreachable(t *testing.T) {
	a, b := startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b)
	b.Stop(t)
	nodetest.Wait.For(t, "b gone", func() bool { return len(a.Libp2p().Network().ConnsToPeer(b.PeerID())) == 0 })
	call := start(t, a, b, id)
	if in := waitState(t, a, call, StateEnded); in.Reason != ReasonUnreachable {
		t.Errorf("calling a device that is gone ended with %q", in.Reason)
	}
}
