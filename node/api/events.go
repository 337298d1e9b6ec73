package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ancore/ancore/httpjson"
	"github.com/gorilla/websocket"
)

// ErrTooOld: the events after the seq a client asked from are no longer
// buffered, or were never published by this hub (the node restarted and
// numbers events from 1 again). The client must refetch its state.
var ErrTooOld = errors.New("api: events since that seq are not available")

// Event is one envelope on the stream: {"type": …, "seq": n, "data": …}.
// Data is shared by every subscriber and must not be modified.
type Event struct {
	Type string          `json:"type"`
	Seq  uint64          `json:"seq"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Envelopes ServeWS sends on its own, before any published event.
const (
	// typeHello opens every stream; its seq is the last event published
	// when the stream began, so the client knows where the missed events
	// end and live ones start.
	typeHello = "hello"
	// typeResync follows hello when the client's since was ErrTooOld: the
	// client must refetch its state, and the stream goes on from hello's seq.
	typeResync = "resync"
)

const (
	// subscriberBuffer is how many live events a subscriber may fall
	// behind before it is dropped. Holding more for a stalled client would
	// let it grow the node's memory without bound; a dropped client
	// reconnects and gets what it missed from the ring.
	subscriberBuffer = 1024

	wsPingPeriod = 30 * time.Second
	// wsPongWait is how long a client may stay silent; a ping every
	// wsPingPeriod keeps an answering client within it.
	wsPongWait  = 60 * time.Second
	wsWriteWait = 10 * time.Second
	// wsCloseWait bounds waiting for the client's answer to a close frame.
	wsCloseWait = time.Second
	// wsMaxClientMessage bounds what a client may send: the stream only
	// goes one way, so anything large is abuse.
	wsMaxClientMessage = 4 << 10
)

// Hub numbers events, keeps the last few in a ring so that a reconnecting
// client can get what it missed, and fans them out to subscribers.
//
// Seqs start at 1 and have no gaps, so a client that holds seq n has seen
// every event up to n and a gap on its side means it lost some.
type Hub struct {
	// Timings of ServeWS; tests shorten them.
	pingPeriod, pongWait, writeWait time.Duration

	mu   sync.Mutex
	seq  uint64  // last seq published
	ring []Event // event seq s at ring[(s-1)%len(ring)]
	held int     // events in the ring: min(seq, len(ring))
	subs map[*Subscription]struct{}
}

// NewHub returns a hub that keeps the last size events for reconnecting
// clients. It panics if size < 1.
func NewHub(size int) *Hub {
	if size < 1 {
		panic(fmt.Sprintf("api: NewHub(%d): the ring needs room for an event", size))
	}
	return &Hub{
		pingPeriod: wsPingPeriod,
		pongWait:   wsPongWait,
		writeWait:  wsWriteWait,
		ring:       make([]Event, size),
		subs:       make(map[*Subscription]struct{}),
	}
}

// Publish sends an event of type typ carrying data, marshaled to JSON, to
// every subscriber and returns its seq. It never waits for a subscriber: one
// that is too far behind is dropped (see Subscription.Overflowed).
//
// Publish panics if data cannot be marshaled: payloads are the node's own
// types, so that is a bug, and skipping the event would leave a silent gap.
func (h *Hub) Publish(typ string, data any) uint64 {
	var raw json.RawMessage
	if data != nil {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			panic(fmt.Sprintf("api: publish %s: %v", typ, err))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev := Event{Type: typ, Seq: h.seq, Data: raw}
	h.ring[(h.seq-1)%uint64(len(h.ring))] = ev
	h.held = min(h.held+1, len(h.ring))
	for s := range h.subs {
		select {
		case s.events <- ev:
		default:
			delete(h.subs, s)
			s.ended = true
			close(s.overflowed)
			close(s.events)
		}
	}
	return h.seq
}

// Seq returns the seq of the last event published, 0 before the first.
func (h *Hub) Seq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// Subscribe returns the buffered events with Seq > since, in order, and a
// subscription that delivers every later event exactly once: together they
// have no gap and no duplicate. since == 0 asks for no history, and missed
// is empty.
//
// It returns ErrTooOld if some events after since are no longer buffered, or
// if since > Seq().
func (h *Hub) Subscribe(since uint64) (sub *Subscription, missed []Event, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if since > h.seq {
		return nil, nil, ErrTooOld
	}
	if since > 0 {
		oldest := h.seq - uint64(h.held) + 1
		if since+1 < oldest {
			return nil, nil, ErrTooOld
		}
		for s := since + 1; s <= h.seq; s++ {
			missed = append(missed, h.ring[(s-1)%uint64(len(h.ring))])
		}
	}
	sub = &Subscription{
		hub:        h,
		start:      h.seq,
		events:     make(chan Event, subscriberBuffer),
		overflowed: make(chan struct{}),
	}
	h.subs[sub] = struct{}{}
	return sub, missed, nil
}

// Subscription is a subscriber's live feed of a Hub's events.
type Subscription struct {
	hub        *Hub
	start      uint64 // the hub's Seq when subscribed: live events follow it
	events     chan Event
	overflowed chan struct{}
	ended      bool // guarded by hub.mu
}

// Events delivers the events published after Subscribe, in order. It is
// closed when the subscription ends, by Close or by overflow; events already
// in it stay readable.
func (s *Subscription) Events() <-chan Event { return s.events }

// Overflowed is closed when the subscriber fell more than 1024 events behind
// and was dropped: the client must reconnect with the last seq it saw.
func (s *Subscription) Overflowed() <-chan struct{} { return s.overflowed }

// Close ends the subscription. It may be called more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	delete(s.hub.subs, s)
	close(s.events)
}

var eventsUpgrader = websocket.Upgrader{
	// The API's middleware (Guard) in front of ServeWS already refused
	// cross-site Origins and checked the token.
	CheckOrigin: func(*http.Request) bool { return true },
	Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
		httpjson.Error(w, status, "bad_handshake", reason.Error())
	},
}

// ServeWS streams the hub's events over a WebSocket. The client passes the
// last seq it saw as the query parameter since (absent: it wants no
// history). The stream opens with {"type":"hello","seq":n}, where n is the
// last event published so far; if the events after since are lost,
// {"type":"resync","seq":n} follows and the client must refetch its state.
// Then come the missed events, if any, and the live ones.
//
// The server pings every 30 s and drops a client that has not answered
// within 60 s. A client that falls too far behind is sent a close frame
// (1013, "overflow: reconnect with since") and should reconnect with the
// last seq it saw. Client messages are read and discarded; one over 4 KiB
// ends the connection.
//
// ServeWS checks neither token nor Origin: the API's middleware does.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) {
	var since uint64
	if q := r.URL.Query().Get("since"); q != "" {
		var err error
		if since, err = strconv.ParseUint(q, 10, 64); err != nil {
			httpjson.Error(w, http.StatusBadRequest, "bad_query", fmt.Sprintf("since %q is not a seq", q))
			return
		}
	}
	conn, err := eventsUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}

	// Reading is needed even though the stream only goes out: gorilla
	// handles pongs and close frames while a read is pending.
	readDone := make(chan struct{})
	conn.SetReadLimit(wsMaxClientMessage)
	conn.SetReadDeadline(time.Now().Add(h.pongWait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(h.pongWait))
	})
	go func() {
		defer close(readDone)
		for {
			_, msg, err := conn.NextReader()
			if err != nil {
				return
			}
			// Read the message through: the read limit counts a message's
			// frames only as they are read, and NextReader skips the rest
			// of a fragmented message unchecked.
			if _, err := io.Copy(io.Discard, msg); err != nil {
				return
			}
		}
	}()
	defer func() {
		conn.Close()
		<-readDone
	}()

	resync := false
	sub, missed, err := h.Subscribe(since)
	if errors.Is(err, ErrTooOld) {
		resync = true
		sub, missed, _ = h.Subscribe(0) // cannot fail
	}
	defer sub.Close()

	// This goroutine is the connection's only writer (gorilla allows one);
	// WriteControl, which pings and closes use, may run beside it.
	send := func(ev Event) error {
		conn.SetWriteDeadline(time.Now().Add(h.writeWait))
		return conn.WriteJSON(ev)
	}
	// closeWith sends a close frame and waits briefly for the client's
	// answer: closing the socket while the client still sends would reset
	// the connection, and the client could lose the frame and its reason.
	closeWith := func(code int, reason string) {
		msg := websocket.FormatCloseMessage(code, reason)
		if conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.writeWait)) != nil {
			return
		}
		t := time.NewTimer(wsCloseWait)
		defer t.Stop()
		select {
		case <-readDone:
		case <-t.C:
		}
	}
	gone := func() bool {
		select {
		case <-readDone:
			return true
		case <-r.Context().Done():
			return true
		default:
			return false
		}
	}

	if send(Event{Type: typeHello, Seq: sub.start}) != nil {
		return
	}
	if resync && send(Event{Type: typeResync, Seq: sub.start}) != nil {
		return
	}
	for _, ev := range missed {
		if gone() || send(ev) != nil {
			return
		}
	}

	ping := time.NewTicker(h.pingPeriod)
	defer ping.Stop()
	const overflow = "overflow: reconnect with since"
	for {
		// Overflow first: a client that must reconnect gets the events
		// still queued from the ring, and sending them delays the close.
		select {
		case <-sub.Overflowed():
			closeWith(websocket.CloseTryAgainLater, overflow)
			return
		default:
		}
		select {
		case ev, ok := <-sub.Events():
			if !ok { // only an overflow closes it while we serve
				closeWith(websocket.CloseTryAgainLater, overflow)
				return
			}
			if send(ev) != nil {
				return
			}
		case <-ping.C:
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.writeWait)) != nil {
				return
			}
		case <-readDone:
			return
		case <-r.Context().Done():
			closeWith(websocket.CloseGoingAway, "node shutting down")
			return
		}
	}
}
