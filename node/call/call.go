// Package call is the calls feature's signaling: the signed messages of
// the seed plan (call:initiate, call:offer, call:answer,
// call:ice-candidate, call:end, call:reject), their stream protocol
// between two nodes (/ancore/call/1, over the relay's circuit too), and
// the state machine of a call — ringing, connecting, active,
// reconnecting, ended, missed, busy, rejected — with its timeouts, busy
// lines and a callee's devices ringing together. The media is not its
// own: a Media engine the app hands it makes each call's Session, whose
// SDP and ICE candidates this package carries as opaque text.
package call

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Errors of calls (the API's codes in docs/api/openapi.yaml).
var (
	// ErrUnavailable: this node has no media engine, so it can neither
	// place nor answer a call.
	ErrUnavailable = errors.New("calls are unavailable in this build: no media engine")
	// ErrUnknownCall: no current call has this id.
	ErrUnknownCall = errors.New("no such call")
	// ErrCallState: the call is not in a state that allows this (accepting
	// an outgoing call, rejecting an active one, …).
	ErrCallState = errors.New("the call cannot do that now")
	// ErrInCall: this node is in a call already.
	ErrInCall = errors.New("already in a call")
	// ErrNotMember: caller or callee is not a member of the community
	// named.
	ErrNotMember = errors.New("not a member of the community")
	// ErrUnreachable: none of the callee's devices is connected.
	ErrUnreachable = errors.New("none of the user's devices is reachable")
	// ErrSelf: a user cannot call itself.
	ErrSelf = errors.New("cannot call yourself")
	// errNotInCall: a message for a call the sender is not in.
	errNotInCall = errors.New("call signal for a call the sender is not in")
	// errFlood: a peer over its rate of messages, cut off for a while.
	errFlood = errors.New("call signals over the rate: peer cut off")
	// errReplay: a message seen before.
	errReplay = errors.New("call signal replayed")
)

// State is where a call is.
type State string

const (
	StateRinging      State = "ringing"      // the callee's devices ring
	StateConnecting   State = "connecting"   // answered; media connecting
	StateActive       State = "active"       // media flows
	StateReconnecting State = "reconnecting" // media lost, may come back
	StateEnded        State = "ended"        // hung up, or failed
	StateMissed       State = "missed"       // nobody answered in time
	StateBusy         State = "busy"         // the callee was in a call
	StateRejected     State = "rejected"     // the callee declined
)

func (s State) over() bool {
	return s == StateEnded || s == StateMissed || s == StateBusy || s == StateRejected
}

// Reasons of ends and rejects, on the wire and in call:state events.
const (
	ReasonHangup            = "hangup"             // ended by a side
	ReasonCancelled         = "cancelled"          // the caller gave up before an answer
	ReasonNoAnswer          = "no-answer"          // the ring timed out
	ReasonDeclined          = "declined"           // the callee rejected
	ReasonDeclinedElsewhere = "declined-elsewhere" // another device of the callee rejected
	ReasonAnsweredElsewhere = "answered-elsewhere" // another device of the callee answered
	ReasonBusy              = "busy"               // the callee was in a call
	ReasonUnavailable       = "unavailable"        // the callee's node cannot take calls
	ReasonUnreachable       = "unreachable"        // no device of the callee could be reached
	ReasonFailed            = "failed"             // media did not connect, or was lost
	ReasonNotMember         = "not-member"         // a side is no longer a member of the community
)

// Config configures the feature.
type Config struct {
	// Media makes calls' media sessions; nil: calls are unavailable and
	// the API says so (ErrUnavailable), incoming calls are refused with
	// ReasonUnavailable.
	Media Media
	// RingTimeout is how long a call rings before it is missed; 30 s if 0.
	RingTimeout time.Duration
	// ConnectTimeout is how long an answered call, or one whose media was
	// lost, may take to connect before it ends as failed; 30 s if 0.
	ConnectTimeout time.Duration
}

// recentCalls is how many ended calls the feature remembers.
const recentCalls = 50

// Feature is the calls feature on a node.
type Feature struct {
	cfg  Config
	host node.Host
	log  *slog.Logger

	mu      sync.Mutex
	ctx     context.Context // Run's, for the streams
	calls   map[ID]*call    // current calls
	recent  []Info          // ended calls, newest first
	remotes map[peer.ID]*remote
	seen    map[[sha256.Size]byte]time.Time // signatures of messages within MaxAge
}

// New makes the feature; Open attaches it to a node.
func New(cfg Config) *Feature {
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 30 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	return &Feature{cfg: cfg, calls: map[ID]*call{}, remotes: map[peer.ID]*remote{}, seen: map[[sha256.Size]byte]time.Time{}}
}

// Open attaches the feature to h, before h runs.
func (f *Feature) Open(h node.Host, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	f.host, f.log = h, logger.With("subsystem", "call")
	h.OnCommunity(f.standingChanged)
	return nil
}

// standingChanged ends the calls in a community that caller or callee is
// no longer a member of (kicked, banned, left), on both sides.
func (f *Feature) standingChanged(_, after *crdt.Community) {
	if after == nil || after.Genesis == nil {
		return
	}
	me := f.host.Identity().User.ID()
	joined := func(u crdt.UserID) bool { m := after.Members[u]; return m != nil && m.State == crdt.Joined }
	f.mu.Lock()
	var closing []*call
	for _, c := range f.calls {
		if c.Community == after.ID && (!joined(me) || !joined(c.Peer)) {
			f.tellEnd(c, ReasonNotMember)
			f.finish(c, StateEnded, ReasonNotMember)
			closing = append(closing, c)
		}
	}
	f.mu.Unlock()
	for _, c := range closing {
		go c.closeSession() // the hook must not block on a session busy answering
	}
}

// Run serves signaling while the node is on the network, until ctx ends;
// then it ends every current call.
func (f *Feature) Run(ctx context.Context) {
	select {
	case <-f.host.Ready():
	case <-ctx.Done():
		return
	}
	f.mu.Lock()
	f.ctx = ctx
	f.mu.Unlock()
	h := f.host.Libp2p()
	h.SetStreamHandler(Protocol, f.serve)
	<-ctx.Done()
	h.RemoveStreamHandler(Protocol)
	f.mu.Lock()
	var closing []*call
	for _, c := range f.calls {
		f.finish(c, StateEnded, ReasonHangup)
		closing = append(closing, c)
	}
	f.mu.Unlock()
	for _, c := range closing {
		c.closeSession()
	}
}

// Info is a call as the API shows it.
type Info struct {
	ID        ID
	Community crdt.ID
	Peer      crdt.UserID // the other side's user
	Outgoing  bool        // this node placed it
	State     State
	Reason    string
	Started   time.Time
	Ended     time.Time // zero while current
}

// call is a current call. Its fields are f.mu's, but for the session,
// which is sess.mu's (taken before f.mu, never inside it).
type call struct {
	Info
	rung     map[peer.ID]string // outgoing: the devices rung, and why each refused ("" ringing)
	remote   peer.ID            // the other side's device: the caller's, or the one that answered
	offer    string             // incoming: the offer, once it came
	accepted bool               // incoming: accepted, answering once the offer comes
	sent     bool               // our offer or answer is sent: candidates may follow
	local    []string           // local candidates waiting for sent
	received int                // candidates received from the remote
	timer    *time.Timer        // the ring or connect timeout

	sess struct {
		mu        sync.Mutex
		s         Session
		remoteSet bool     // the remote description is set: candidates may be added
		pending   []string // remote candidates waiting for remoteSet
		closed    bool
	}
}

func (c *call) closeSession() {
	c.sess.mu.Lock()
	defer c.sess.mu.Unlock()
	if c.sess.s != nil && !c.sess.closed {
		_ = c.sess.s.Close()
	}
	c.sess.closed = true
}

// Calls returns the current calls, then the recent ones, newest first.
func (f *Feature) Calls() []Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Info, 0, len(f.calls)+len(f.recent))
	for _, c := range f.calls {
		out = append(out, c.Info)
	}
	slices.SortFunc(out, func(a, b Info) int { return b.Started.Compare(a.Started) })
	return append(out, f.recent...)
}

// Call returns the call id, current or recent.
func (f *Feature) Call(id ID) (Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.calls[id]; c != nil {
		return c.Info, nil
	}
	for _, in := range f.recent {
		if in.ID == id {
			return in, nil
		}
	}
	return Info{}, ErrUnknownCall
}

// members checks that every one of users is a joined member of
// community.
func (f *Feature) members(community crdt.ID, users ...crdt.UserID) error {
	c, err := f.host.Community(community)
	if err != nil || c.Genesis == nil || c.Dissolved {
		return fmt.Errorf("%w: %s", ErrNotMember, community)
	}
	for _, u := range users {
		if m := c.Members[u]; m == nil || m.State != crdt.Joined {
			return fmt.Errorf("%w: %s", ErrNotMember, u)
		}
	}
	return nil
}

// Start calls user, a fellow member of community: every connected device
// of theirs rings.
func (f *Feature) Start(ctx context.Context, community crdt.ID, user crdt.UserID) (Info, error) {
	if f.cfg.Media == nil {
		return Info{}, ErrUnavailable
	}
	if !f.host.Running() {
		return Info{}, node.ErrNotRunning
	}
	me := f.host.Identity().User.ID()
	if user == me {
		return Info{}, ErrSelf
	}
	if err := f.members(community, me, user); err != nil {
		return Info{}, err
	}
	// Every device of the user's this node knows and can dial rings; one
	// that cannot be reached drops out (undelivered).
	h := f.host.Libp2p()
	rung := map[peer.ID]string{}
	for _, p := range append(h.Network().Peers(), h.Peerstore().PeersWithAddrs()...) {
		if u, ok := f.host.DeviceUser(p); ok && u == user && p != h.ID() {
			rung[p] = ""
		}
	}
	if len(rung) == 0 {
		return Info{}, fmt.Errorf("%w: %s", ErrUnreachable, user)
	}
	c := &call{Info: Info{ID: NewID(), Community: community, Peer: user, Outgoing: true, State: StateRinging, Started: time.Now()}, rung: rung}
	f.mu.Lock()
	if f.ctx == nil || f.ctx.Err() != nil {
		f.mu.Unlock()
		return Info{}, node.ErrNotRunning
	}
	if len(f.calls) > 0 {
		f.mu.Unlock()
		return Info{}, ErrInCall
	}
	f.calls[c.ID] = c
	info := c.Info
	f.mu.Unlock()

	c.sess.mu.Lock()
	s, err := f.cfg.Media.NewSession(info, f.events(c))
	var offer string
	if err == nil {
		c.sess.s = s
		if c.sess.closed {
			_ = s.Close()
		} else {
			offer, err = s.Offer(ctx)
		}
	}
	c.sess.mu.Unlock()
	f.mu.Lock()
	if err != nil || c.State.over() {
		if err == nil {
			err = fmt.Errorf("%w: call %s ended while it started", ErrCallState, c.ID)
		} else {
			f.finish(c, StateEnded, ReasonFailed)
		}
		f.mu.Unlock()
		c.closeSession()
		return Info{}, fmt.Errorf("start call: %w", err)
	}
	for p := range c.rung {
		f.send(p, c, Message{Kind: KindInitiate})
		f.send(p, c, Message{Kind: KindOffer, Payload: offer})
	}
	f.flushLocal(c)
	f.arm(c, f.cfg.RingTimeout, StateMissed, ReasonNoAnswer)
	f.emit(c)
	info = c.Info
	f.mu.Unlock()
	return info, nil
}

// Accept answers an incoming call that rings.
func (f *Feature) Accept(ctx context.Context, id ID) (Info, error) {
	if f.cfg.Media == nil {
		return Info{}, ErrUnavailable
	}
	f.mu.Lock()
	c, err := f.ringingIncoming(id, "accept")
	if err != nil {
		f.mu.Unlock()
		return Info{}, err
	}
	c.accepted = true
	c.State = StateConnecting
	f.arm(c, f.cfg.ConnectTimeout, StateEnded, ReasonFailed)
	f.emit(c)
	offer, info := c.offer, c.Info
	f.mu.Unlock()

	c.sess.mu.Lock()
	s, err := f.cfg.Media.NewSession(info, f.events(c))
	if err == nil {
		c.sess.s = s
		if c.sess.closed {
			_ = s.Close()
		}
	}
	c.sess.mu.Unlock()
	if err == nil && offer != "" {
		err = f.answer(ctx, c, offer)
	}
	if err != nil {
		f.hangUp(c, ReasonFailed)
		return Info{}, fmt.Errorf("accept call: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return c.Info, nil
}

// answer answers the offer of an accepted incoming call with its session.
func (f *Feature) answer(ctx context.Context, c *call, offer string) error {
	c.sess.mu.Lock()
	if c.sess.closed || c.sess.s == nil {
		c.sess.mu.Unlock()
		return fmt.Errorf("%w: call %s is over", ErrCallState, c.ID)
	}
	sdp, err := c.sess.s.Answer(ctx, offer)
	if err == nil {
		c.sess.remoteSet = true
		f.addPending(c)
	}
	c.sess.mu.Unlock()
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.State.over() {
		return nil
	}
	f.send(c.remote, c, Message{Kind: KindAnswer, Payload: sdp})
	f.flushLocal(c)
	return nil
}

// addPending adds the remote candidates that waited for the remote
// description; sess.mu is held. A candidate the session cannot use is
// skipped, as one that comes later would be: ICE goes on with the others.
func (f *Feature) addPending(c *call) {
	for _, cand := range c.sess.pending {
		if err := c.sess.s.AddCandidate(cand); err != nil {
			f.log.Info("call candidate not added", "call", c.ID, "err", err)
		}
	}
	c.sess.pending = nil
}

// ringingIncoming is call id if it is an incoming call that rings, the
// only kind one may accept or reject (verb); f.mu is held.
func (f *Feature) ringingIncoming(id ID, verb string) (*call, error) {
	c := f.calls[id]
	if c == nil {
		return nil, ErrUnknownCall
	}
	if c.Outgoing || c.State != StateRinging {
		return nil, fmt.Errorf("%w: %s a call that is %s", ErrCallState, verb, c.State)
	}
	return c, nil
}

// Reject declines an incoming call that rings.
func (f *Feature) Reject(id ID) (Info, error) {
	f.mu.Lock()
	c, err := f.ringingIncoming(id, "reject")
	if err != nil {
		f.mu.Unlock()
		return Info{}, err
	}
	f.send(c.remote, c, Message{Kind: KindReject, Reason: ReasonDeclined})
	f.finish(c, StateRejected, ReasonDeclined)
	info := c.Info
	f.mu.Unlock()
	c.closeSession()
	return info, nil
}

// End ends a current call: hangs up, cancels an outgoing call that
// rings, or declines an incoming one.
func (f *Feature) End(id ID) (Info, error) {
	f.mu.Lock()
	c := f.calls[id]
	if c == nil {
		f.mu.Unlock()
		return Info{}, ErrUnknownCall
	}
	if !c.Outgoing && c.State == StateRinging {
		f.mu.Unlock()
		return f.Reject(id)
	}
	reason := ReasonHangup
	if c.Outgoing && c.State == StateRinging {
		reason = ReasonCancelled
	}
	f.mu.Unlock()
	f.hangUp(c, reason)
	f.mu.Lock()
	defer f.mu.Unlock()
	return c.Info, nil
}

// hangUp ends c, telling the other side (every device that rings, before
// an answer) why.
func (f *Feature) hangUp(c *call, reason string) {
	f.mu.Lock()
	if c.State.over() {
		f.mu.Unlock()
		return
	}
	f.tellEnd(c, reason)
	f.finish(c, StateEnded, reason)
	f.mu.Unlock()
	c.closeSession()
}

// tellEnd sends call:end to the other side; f.mu is held.
func (f *Feature) tellEnd(c *call, reason string) {
	if c.remote != "" {
		f.send(c.remote, c, Message{Kind: KindEnd, Reason: reason})
		return
	}
	for p, refused := range c.rung {
		if refused == "" {
			f.send(p, c, Message{Kind: KindEnd, Reason: reason})
		}
	}
}

// finish moves c to the recent calls in state; f.mu is held. The caller
// closes the session after unlocking.
func (f *Feature) finish(c *call, state State, reason string) {
	if c.State.over() {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.State, c.Reason, c.Ended = state, reason, time.Now()
	delete(f.calls, c.ID)
	f.recent = append([]Info{c.Info}, f.recent[:min(len(f.recent), recentCalls-1)]...)
	f.emit(c)
}

// arm (re)starts c's timeout: when it fires in the same state, the call
// ends in state with reason. f.mu is held.
func (f *Feature) arm(c *call, d time.Duration, state State, reason string) {
	if c.timer != nil {
		c.timer.Stop()
	}
	armed := c.State
	c.timer = time.AfterFunc(d, func() {
		f.mu.Lock()
		if c.State != armed || c.State.over() {
			f.mu.Unlock()
			return
		}
		if c.Outgoing || state != StateMissed {
			f.tellEnd(c, reason)
		}
		f.finish(c, state, reason)
		f.mu.Unlock()
		c.closeSession()
	})
}

// events are the session's reports on call c.
func (f *Feature) events(c *call) SessionEvents {
	return SessionEvents{
		Candidate: func(cand string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if c.State.over() {
				return
			}
			c.local = append(c.local, cand)
			if c.sent {
				f.flushLocal(c)
			}
		},
		State: func(s MediaState) { f.mediaState(c, s) },
	}
}

// flushLocal sends c's waiting local candidates and marks the offer or
// answer sent; f.mu is held.
func (f *Feature) flushLocal(c *call) {
	c.sent = true
	for _, cand := range c.local {
		if c.remote != "" {
			f.send(c.remote, c, Message{Kind: KindCandidate, Payload: cand})
			continue
		}
		for p, refused := range c.rung {
			if refused == "" {
				f.send(p, c, Message{Kind: KindCandidate, Payload: cand})
			}
		}
	}
	c.local = nil
}

func (f *Feature) mediaState(c *call, s MediaState) {
	f.mu.Lock()
	if c.State.over() || c.State == StateRinging {
		f.mu.Unlock()
		return
	}
	switch s {
	case MediaConnected:
		if c.State != StateActive {
			c.State = StateActive
			c.timer.Stop()
			f.emit(c)
		}
	case MediaDisconnected:
		if c.State == StateActive {
			c.State = StateReconnecting
			f.arm(c, f.cfg.ConnectTimeout, StateEnded, ReasonFailed)
			f.emit(c)
		}
	case MediaFailed:
		f.mu.Unlock()
		f.hangUp(c, ReasonFailed)
		return
	}
	f.mu.Unlock()
}

// emit announces c's state on the local API's stream; f.mu is held.
func (f *Feature) emit(c *call) { f.host.Emit("call:state", infoJSON(c.Info)) }

// refusedByAll ends c, an outgoing call that rings, when no device rings
// any more: busy if one was busy, else rejected if one could not take
// calls, else ended as unreachable. f.mu is held. It reports whether it
// ended it.
func (f *Feature) refusedByAll(c *call) bool {
	state, reason := StateEnded, ReasonUnreachable
	for _, refused := range c.rung {
		switch {
		case refused == "":
			return false
		case refused == ReasonBusy:
			state, reason = StateBusy, ReasonBusy
		case refused != ReasonUnreachable && state != StateBusy:
			state, reason = StateRejected, refused
		}
	}
	f.finish(c, state, reason)
	return true
}
