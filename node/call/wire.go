package call

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"
)

// Protocol is the stream protocol of call signaling: each side opens its
// own stream to the other and writes length-prefixed frames, one signed
// Message each, in the order it sends them.
const Protocol protocol.ID = "/ancore/call/1"

// Limits of the stream protocol, per remote peer.
const (
	// messageRate and messageBurst bound the messages a peer may send: a
	// call needs a few (initiate, offer, answer, end) and a burst of
	// candidates while ICE gathers.
	messageRate  = 20
	messageBurst = 100
	// cutOff is how long a peer over its rate stays refused.
	cutOff = time.Minute
	// maxCandidates caps the candidates one device sends in one call.
	maxCandidates = 64
	// writeTimeout bounds opening a stream and writing one frame.
	writeTimeout = 10 * time.Second
	// idleStream is how long an outgoing stream with nothing to send
	// stays open.
	idleStream = 30 * time.Second
	// maxQueued bounds the frames waiting for a peer's stream.
	maxQueued = 256
)

func writeFrame(w io.Writer, b []byte) error {
	_, err := w.Write(append(binary.AppendUvarint(make([]byte, 0, len(b)+binary.MaxVarintLen32), uint64(len(b))), b...))
	return err
}

func readFrame(r *bufio.Reader) ([]byte, error) {
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if size > MaxMessageSize {
		return nil, fmt.Errorf("%w: frame of %d bytes, at most %d", ErrTooLarge, size, MaxMessageSize)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// remote is what the feature keeps of a peer it signals with.
type remote struct {
	limiter *rate.Limiter
	cutTill time.Time               // refused until then: it went over its rate
	queue   chan []byte             // frames to send it, in order
	sending bool                    // a goroutine drains queue
	streams map[network.Stream]bool // its streams to us
}

// deliver drains p's queue into a stream of its own, opening it when
// there is something to send and closing it when idle.
func (f *Feature) deliver(ctx context.Context, p peer.ID, r *remote) {
	var s network.Stream
	defer func() {
		if s != nil {
			_ = s.Close()
		}
	}()
	idle := time.NewTimer(idleStream)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			f.mu.Lock()
			if len(r.queue) == 0 {
				r.sending = false
				f.mu.Unlock()
				return
			}
			f.mu.Unlock()
		case b := <-r.queue:
			var err error
			for attempt := 0; attempt < 2; attempt++ {
				if s == nil {
					s, err = f.open(ctx, p)
					if err != nil {
						break
					}
				}
				_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
				if err = writeFrame(s, b); err == nil {
					break
				}
				_ = s.Reset()
				s = nil
			}
			if err != nil {
				f.log.Info("call signal not sent", "peer", p, "err", err)
				f.undelivered(p)
			}
		}
		idle.Reset(idleStream)
	}
}

func (f *Feature) open(ctx context.Context, p peer.ID) (network.Stream, error) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	// Over the relay's circuit the connection is limited; signaling is
	// small and worth it.
	return f.host.Libp2p().NewStream(network.WithAllowLimitedConn(ctx, "call signaling"), p, Protocol)
}

// serve reads a peer's stream of messages until it ends, is cut off or
// the node stops.
func (f *Feature) serve(s network.Stream) {
	from := s.Conn().RemotePeer()
	if !f.admit(from, s) {
		_ = s.Reset()
		return
	}
	defer f.forget(from, s)
	br := bufio.NewReader(s)
	for {
		// The sender closes a stream idle for idleStream: one silent for
		// twice that holds resources for nothing.
		_ = s.SetReadDeadline(time.Now().Add(2 * idleStream))
		b, err := readFrame(br)
		if err != nil {
			if err != io.EOF {
				f.log.Info("call signal refused", "peer", from, "err", err)
				_ = s.Reset()
			}
			return
		}
		if !f.allow(from) {
			f.log.Info("call signal refused", "peer", from, "err", errFlood)
			f.cut(from)
			return
		}
		if err := f.receive(from, b, time.Now()); err != nil {
			f.log.Info("call signal refused", "peer", from, "err", err)
		}
	}
}

// send signs m for call c and queues it for p; f.mu is held.
func (f *Feature) send(p peer.ID, c *call, m Message) {
	m.Call, m.Community, m.To, m.Time = c.ID, c.Community, c.Peer, time.Now()
	b, err := Sign(f.host.Identity().Device, m)
	if err != nil {
		f.log.Warn("call signal not signed", "call", c.ID, "kind", m.Kind, "err", err)
		return
	}
	if f.ctx == nil {
		return
	}
	r := f.remote(p)
	select {
	case r.queue <- b:
	default:
		f.log.Warn("call signal dropped: queue full", "peer", p, "kind", m.Kind)
		return
	}
	if !r.sending {
		r.sending = true
		go f.deliver(f.ctx, p, r)
	}
}

// remote returns what is kept of p, made if new; f.mu is held.
func (f *Feature) remote(p peer.ID) *remote {
	r := f.remotes[p]
	if r == nil {
		if len(f.remotes) >= 1024 {
			now := time.Now()
			for q, old := range f.remotes {
				if !old.sending && len(old.streams) == 0 && now.After(old.cutTill) {
					delete(f.remotes, q)
				}
			}
		}
		r = &remote{limiter: rate.NewLimiter(messageRate, messageBurst), queue: make(chan []byte, maxQueued), streams: map[network.Stream]bool{}}
		f.remotes[p] = r
	}
	return r
}

// admit registers s, a stream from p, unless p is cut off.
func (f *Feature) admit(p peer.ID, s network.Stream) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.remote(p)
	if time.Now().Before(r.cutTill) {
		return false
	}
	r.streams[s] = true
	return true
}

func (f *Feature) forget(p peer.ID, s network.Stream) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.remotes[p]; r != nil {
		delete(r.streams, s)
	}
}

func (f *Feature) allow(p peer.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remote(p).limiter.Allow()
}

// cut refuses p's streams for cutOff and resets those open.
func (f *Feature) cut(p peer.ID) {
	f.mu.Lock()
	r := f.remote(p)
	r.cutTill = time.Now().Add(cutOff)
	streams := make([]network.Stream, 0, len(r.streams))
	for s := range r.streams {
		streams = append(streams, s)
	}
	f.mu.Unlock()
	for _, s := range streams {
		_ = s.Reset()
	}
}

// undelivered: a message to p could not be sent; an outgoing call that
// rings p no longer counts on it.
func (f *Feature) undelivered(p peer.ID) {
	f.mu.Lock()
	var closing []*call
	for _, c := range f.calls {
		if c.Outgoing && c.State == StateRinging && c.rung[p] == "" {
			if _, ok := c.rung[p]; ok {
				c.rung[p] = ReasonUnreachable
				if f.refusedByAll(c) {
					closing = append(closing, c)
				}
			}
		}
	}
	f.mu.Unlock()
	for _, c := range closing {
		c.closeSession()
	}
}
