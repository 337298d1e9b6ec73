package call

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// receive verifies a frame from p and acts on it.
func (f *Feature) receive(p peer.ID, b []byte, now time.Time) error {
	m, err := Decode(b, now)
	if err != nil {
		return err
	}
	if dev, ok := p2p.DeviceOf(p); !ok || dev != m.Author {
		return fmt.Errorf("%w: %s signed by another device than its sender's", ErrBadSignature, m.Kind)
	}
	me := f.host.Identity().User.ID()
	if m.To != me {
		return fmt.Errorf("%w: %s for another user", errNotInCall, m.Kind)
	}
	if err := f.members(m.Community, me, m.User()); err != nil {
		return fmt.Errorf("%s: %w", m.Kind, err)
	}
	if err := f.fresh(b, now); err != nil {
		return err
	}
	return f.handle(p, m)
}

// fresh refuses a message seen within MaxAge (older ones are stale).
func (f *Feature) fresh(b []byte, now time.Time) error {
	key := sha256.Sum256(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.seen[key]; ok {
		return errReplay
	}
	if len(f.seen) >= 4096 {
		for k, t := range f.seen {
			if now.Sub(t) > MaxAge+crdt.MaxClockSkew {
				delete(f.seen, k)
			}
		}
	}
	f.seen[key] = now
	return nil
}

// handle acts on a verified message from device p.
func (f *Feature) handle(p peer.ID, m Message) error {
	if m.Kind == KindInitiate {
		return f.ring(p, m)
	}
	f.mu.Lock()
	c := f.calls[m.Call]
	if c == nil {
		f.mu.Unlock()
		if f.ended(m.Call) {
			return nil // both sides ended at once, or a late candidate
		}
		return fmt.Errorf("%w: %s for call %s", errNotInCall, m.Kind, m.Call)
	}
	_, rung := c.rung[p]
	if m.User() != c.Peer || (c.Outgoing && !rung) || (!c.Outgoing && p != c.remote) {
		f.mu.Unlock()
		return fmt.Errorf("%w: %s for call %s", errNotInCall, m.Kind, m.Call)
	}
	if c.Outgoing && c.remote != "" && p != c.remote {
		// A device answering or trickling after another answered.
		f.send(p, c, Message{Kind: KindEnd, Reason: ReasonAnsweredElsewhere})
		f.mu.Unlock()
		return nil
	}
	switch m.Kind {
	case KindOffer:
		if c.Outgoing || c.offer != "" {
			f.mu.Unlock()
			return fmt.Errorf("%w: unexpected offer for call %s", errNotInCall, m.Call)
		}
		c.offer = m.Payload
		accepted := c.accepted
		f.mu.Unlock()
		if accepted {
			if err := f.answer(f.context(), c, m.Payload); err != nil {
				f.hangUp(c, ReasonFailed)
				return err
			}
		}
		return nil
	case KindAnswer:
		if !c.Outgoing || c.State != StateRinging {
			f.mu.Unlock()
			return fmt.Errorf("%w: unexpected answer for call %s", errNotInCall, m.Call)
		}
		c.remote = p
		for q, refused := range c.rung {
			if q != p && refused == "" {
				f.send(q, c, Message{Kind: KindEnd, Reason: ReasonAnsweredElsewhere})
			}
		}
		c.State = StateConnecting
		f.arm(c, f.cfg.ConnectTimeout, StateEnded, ReasonFailed)
		f.emit(c)
		f.mu.Unlock()
		c.sess.mu.Lock()
		err := errors.New("no session")
		if c.sess.s != nil && !c.sess.closed {
			if err = c.sess.s.SetAnswer(f.context(), m.Payload); err == nil {
				c.sess.remoteSet = true
				f.addPending(c)
			}
		}
		c.sess.mu.Unlock()
		if err != nil {
			f.hangUp(c, ReasonFailed)
			return fmt.Errorf("call %s: answer: %w", m.Call, err)
		}
		return nil
	case KindCandidate:
		c.received++
		if c.received > maxCandidates {
			f.mu.Unlock()
			return fmt.Errorf("%w: more than %d candidates in call %s", ErrTooLarge, maxCandidates, m.Call)
		}
		f.mu.Unlock()
		c.sess.mu.Lock()
		defer c.sess.mu.Unlock()
		if !c.sess.remoteSet {
			c.sess.pending = append(c.sess.pending, m.Payload)
			return nil
		}
		if c.sess.closed {
			return nil
		}
		return c.sess.s.AddCandidate(m.Payload)
	case KindReject:
		if !c.Outgoing || c.State != StateRinging {
			f.mu.Unlock()
			return fmt.Errorf("%w: unexpected reject for call %s", errNotInCall, m.Call)
		}
		over := false
		switch m.Reason {
		case ReasonBusy, ReasonUnavailable:
			c.rung[p] = m.Reason
			over = f.refusedByAll(c)
		default:
			c.rung[p] = ReasonDeclined
			for q, refused := range c.rung {
				if refused == "" {
					f.send(q, c, Message{Kind: KindEnd, Reason: ReasonDeclinedElsewhere})
				}
			}
			f.finish(c, StateRejected, ReasonDeclined)
			over = true
		}
		f.mu.Unlock()
		if over {
			c.closeSession()
		}
		return nil
	case KindEnd:
		state := StateEnded
		if !c.Outgoing && c.State == StateRinging && (m.Reason == ReasonCancelled || m.Reason == ReasonNoAnswer) {
			state = StateMissed
		}
		if c.Outgoing && c.State == StateRinging {
			// A device of the callee's hung up while it rang: as a decline.
			c.rung[p] = ReasonDeclined
			f.mu.Unlock()
			return f.handle(p, Message{Kind: KindReject, Call: m.Call, Cert: m.Cert, Reason: ReasonDeclined})
		}
		f.finish(c, state, m.Reason)
		f.mu.Unlock()
		c.closeSession()
		return nil
	}
	f.mu.Unlock()
	return fmt.Errorf("%w: kind %d", ErrMalformed, m.Kind)
}

// ring takes an incoming call:initiate from device p.
func (f *Feature) ring(p peer.ID, m Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls[m.Call] != nil || f.endedLocked(m.Call) {
		return fmt.Errorf("%w: call %s initiated again", errReplay, m.Call)
	}
	c := &call{Info: Info{ID: m.Call, Community: m.Community, Peer: m.User(), State: StateRinging, Started: time.Now()}, remote: p}
	switch {
	case f.cfg.Media == nil:
		f.send(p, c, Message{Kind: KindReject, Reason: ReasonUnavailable})
		f.finish(c, StateMissed, ReasonUnavailable)
		return nil
	case len(f.calls) > 0:
		f.send(p, c, Message{Kind: KindReject, Reason: ReasonBusy})
		f.finish(c, StateMissed, ReasonBusy)
		return nil
	}
	f.calls[c.ID] = c
	f.arm(c, f.cfg.RingTimeout, StateMissed, ReasonNoAnswer)
	f.emit(c)
	return nil
}

func (f *Feature) ended(id ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.endedLocked(id)
}

func (f *Feature) endedLocked(id ID) bool {
	for _, in := range f.recent {
		if in.ID == id {
			return true
		}
	}
	return false
}

func (f *Feature) context() context.Context {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx == nil {
		return context.Background()
	}
	return f.ctx
}
