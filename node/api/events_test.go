package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/httpjson"
	"github.com/gorilla/websocket"
)

// eventWait is how long tests wait for something that should happen at once.
const eventWait = 10 * time.Second

// publishN publishes n events of type "test" carrying their seq, and
// checks the seqs they got. It may run outside the test's goroutine.
func publishN(t *testing.T, h *Hub, n int) {
	t.Helper()
	for range n {
		want := h.Seq() + 1
		if got := h.Publish("test", want); got != want {
			t.Errorf("Publish returned seq %d, want %d", got, want)
			return
		}
	}
}

// checkEvent wants ev to be the "test" event publishN made for seq.
func checkEvent(t *testing.T, ev Event, seq uint64) {
	t.Helper()
	if ev.Type != "test" || ev.Seq != seq || string(ev.Data) != strconv.FormatUint(seq, 10) {
		t.Fatalf("got event %s %d %s, want test %d %d", ev.Type, ev.Seq, ev.Data, seq, seq)
	}
}

// receive returns the next event of sub, failing the test after eventWait.
func receive(t *testing.T, sub *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-sub.Events():
		if !ok {
			t.Fatal("subscription ended")
		}
		return ev
	case <-time.After(eventWait):
		t.Fatal("no event")
	}
	return Event{}
}

// subscriberCount returns how many subscriptions h feeds.
func subscriberCount(h *Hub) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// within runs fn and fails the test if it does not return within eventWait.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(eventWait):
		t.Fatalf("%s did not return", what)
	}
}

func TestHubSeqAndRing(t *testing.T) {
	const size, n = 4, 10
	h := NewHub(size)
	if h.Seq() != 0 {
		t.Fatalf("Seq of a new hub is %d", h.Seq())
	}
	if _, _, err := h.Subscribe(1); !errors.Is(err, ErrTooOld) {
		t.Fatalf("Subscribe(1) before any event: %v, want ErrTooOld", err)
	}
	sub, missed, err := h.Subscribe(0)
	if err != nil || len(missed) != 0 {
		t.Fatalf("Subscribe(0): %d missed, %v; want none", len(missed), err)
	}
	publishN(t, h, n)
	for seq := uint64(1); seq <= n; seq++ {
		checkEvent(t, receive(t, sub), seq)
	}
	if h.Seq() != n {
		t.Fatalf("Seq is %d after %d events", h.Seq(), n)
	}

	// The ring holds events n-size+1..n, so since may go down to n-size.
	var subs []*Subscription
	for since := uint64(0); since <= n+2; since++ {
		s, missed, err := h.Subscribe(since)
		switch {
		case since >= 1 && since < n-size, since > n:
			if !errors.Is(err, ErrTooOld) {
				t.Errorf("Subscribe(%d): %v, want ErrTooOld", since, err)
			}
			continue
		case err != nil:
			t.Errorf("Subscribe(%d): %v", since, err)
			continue
		}
		want := 0 // since 0 asks for no history
		if since > 0 {
			want = int(n - since)
		}
		if len(missed) != want {
			t.Errorf("Subscribe(%d): %d missed, want %d", since, len(missed), want)
		}
		for i, ev := range missed {
			checkEvent(t, ev, since+1+uint64(i))
		}
		subs = append(subs, s)
	}
	// Live events follow the missed ones.
	publishN(t, h, 1)
	for _, s := range append(subs, sub) {
		checkEvent(t, receive(t, s), n+1)
		s.Close()
		s.Close()
		if _, ok := <-s.Events(); ok {
			t.Error("Events still open after Close")
		}
	}
	if got := subscriberCount(h); got != 0 {
		t.Errorf("%d subscribers after Close", got)
	}
}

func TestHubEventData(t *testing.T) {
	h := NewHub(16)
	sub, _, _ := h.Subscribe(0)
	defer sub.Close()
	h.Publish("empty", nil)
	h.Publish("object", map[string]string{"a": "b"})
	if ev := receive(t, sub); ev.Seq != 1 || ev.Type != "empty" || ev.Data != nil {
		t.Errorf("got %+v, want an empty event 1", ev)
	}
	if ev := receive(t, sub); ev.Seq != 2 || string(ev.Data) != `{"a":"b"}` {
		t.Errorf("got %+v, want object event 2", ev)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Publish of a channel did not panic")
			}
		}()
		h.Publish("bad", make(chan int))
	}()
	if h.Seq() != 2 {
		t.Errorf("Seq is %d after a failed Publish, want 2", h.Seq())
	}
}

// TestHubSubscribeWhilePublishing subscribes from many goroutines, at
// random seqs, while others publish: every subscription must see each event
// after its since exactly once, in order.
func TestHubSubscribeWhilePublishing(t *testing.T) {
	const (
		publishers = 4
		perPub     = 250 // in all fewer than subscriberBuffer: nobody overflows
		total      = publishers * perPub
		readers    = 8
		subsEach   = 20
	)
	h := NewHub(total) // nothing is evicted: every since stays valid
	var wg sync.WaitGroup
	var published sync.Map // seq → data
	for p := range publishers {
		wg.Go(func() {
			for i := range perPub {
				data := fmt.Sprintf("%d/%d", p, i)
				seq := h.Publish("test", data)
				published.Store(seq, `"`+data+`"`)
			}
		})
	}
	type seen struct {
		since uint64
		evs   []Event
	}
	results := make(chan seen, readers*subsEach)
	for range readers {
		wg.Go(func() {
			for range subsEach {
				var since uint64
				if now := h.Seq(); now > 0 {
					since = rand.Uint64N(now + 1)
				}
				sub, missed, err := h.Subscribe(since)
				if err != nil {
					t.Errorf("Subscribe(%d): %v", since, err)
					return
				}
				if since == 0 {
					since = sub.start
				}
				evs := missed
				timeout := time.After(eventWait)
				for uint64(len(evs)) < total-since {
					select {
					case ev := <-sub.Events():
						evs = append(evs, ev)
					case <-timeout:
						t.Errorf("subscription since %d stuck after %d events", since, len(evs))
						sub.Close()
						return
					}
				}
				sub.Close()
				results <- seen{since, evs}
			}
		})
	}
	wg.Wait()
	close(results)
	if h.Seq() != total {
		t.Fatalf("Seq is %d after %d events", h.Seq(), total)
	}
	n := 0
	for r := range results {
		n++
		if len(r.evs) != int(total-r.since) {
			t.Errorf("since %d: got %d events, want %d", r.since, len(r.evs), total-r.since)
		}
		for i, ev := range r.evs {
			want := r.since + 1 + uint64(i)
			data, _ := published.Load(want)
			if ev.Seq != want || string(ev.Data) != data {
				t.Errorf("since %d: event %d is %d %s, want %d %s", r.since, i, ev.Seq, ev.Data, want, data)
				break
			}
		}
	}
	if n != readers*subsEach {
		t.Errorf("%d subscriptions checked, want %d", n, readers*subsEach)
	}
	if got := subscriberCount(h); got != 0 {
		t.Errorf("%d subscribers left", got)
	}
}

func TestHubSlowSubscriber(t *testing.T) {
	h := NewHub(16)
	slow, _, _ := h.Subscribe(0)
	fast, _, _ := h.Subscribe(0)
	defer fast.Close()
	var (
		mu  sync.Mutex
		got []uint64
	)
	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	go func() {
		for ev := range fast.Events() {
			mu.Lock()
			got = append(got, ev.Seq)
			mu.Unlock()
		}
	}()
	waitCount := func(n int) {
		t.Helper()
		deadline := time.Now().Add(eventWait)
		for received() < n {
			if time.Now().After(deadline) {
				t.Fatalf("fast subscriber has %d events, want %d", received(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}

	// A full buffer is not yet an overflow.
	within(t, "Publish", func() { publishN(t, h, subscriberBuffer) })
	select {
	case <-slow.Overflowed():
		t.Fatal("overflowed with a full buffer")
	default:
	}
	waitCount(subscriberBuffer)

	within(t, "Publish", func() { publishN(t, h, 1) })
	select {
	case <-slow.Overflowed():
	default:
		t.Fatal("not overflowed one event past its buffer")
	}
	within(t, "Publish", func() { publishN(t, h, 100) })
	waitCount(subscriberBuffer + 101)
	select {
	case <-fast.Overflowed():
		t.Fatal("the fast subscriber overflowed")
	default:
	}
	mu.Lock()
	seqs := slices.Clone(got)
	mu.Unlock()
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("fast subscriber's event %d has seq %d", i, seq)
		}
	}

	// The slow subscriber keeps what it had, in order, then its feed ends.
	n := 0
	for ev := range slow.Events() {
		n++
		checkEvent(t, ev, uint64(n))
	}
	if n != subscriberBuffer {
		t.Errorf("slow subscriber kept %d events, want %d", n, subscriberBuffer)
	}
	slow.Close()
	if got := subscriberCount(h); got != 1 {
		t.Errorf("%d subscribers, want only the fast one", got)
	}
}

// eventServer serves a hub's event stream over real HTTP.
type eventServer struct {
	*httptest.Server
	hub      *Hub
	returned chan struct{} // a value each time a ServeWS call returns
	shutdown context.CancelFunc
}

// startEventServer serves h; configure, if not nil, may change the server
// before it starts.
func startEventServer(t *testing.T, h *Hub, configure func(*httptest.Server)) *eventServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &eventServer{hub: h, returned: make(chan struct{}, 64), shutdown: cancel}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { s.returned <- struct{}{} }()
		h.ServeWS(w, r)
	}))
	// As the node's server will: its base context ends on shutdown, and
	// with it the streams, which http.Server.Shutdown does not track.
	s.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	if configure != nil {
		configure(s.Server)
	}
	s.Start()
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return s
}

// url returns the stream's URL, with since unless it is "".
func (s *eventServer) url(since string) string {
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/events"
	if since != "" {
		u += "?since=" + since
	}
	return u
}

// dial connects to the stream.
func (s *eventServer) dial(t *testing.T, since string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(s.url(since), nil)
	if err != nil {
		t.Fatalf("dial since %q: %v", since, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	return c
}

// waitReturned waits for a ServeWS call to return.
func (s *eventServer) waitReturned(t *testing.T) {
	t.Helper()
	select {
	case <-s.returned:
	case <-time.After(eventWait):
		t.Fatal("the handler did not return")
	}
}

// readEvent reads the next envelope from c.
func readEvent(t *testing.T, c *websocket.Conn) Event {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(eventWait))
	var ev Event
	if err := c.ReadJSON(&ev); err != nil {
		t.Fatalf("read event: %v", err)
	}
	return ev
}

// wantEnvelope wants ev to be the server's own envelope typ at seq.
func wantEnvelope(t *testing.T, ev Event, typ string, seq uint64) {
	t.Helper()
	if ev.Type != typ || ev.Seq != seq || ev.Data != nil {
		t.Fatalf("got %s %d %s, want %s %d", ev.Type, ev.Seq, ev.Data, typ, seq)
	}
}

// wantClose reads from c until the server's close frame and wants its code
// and reason.
func wantClose(t *testing.T, c *websocket.Conn, code int, reason string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(eventWait))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || ce.Text != reason {
			t.Fatalf("connection ended with %v, want close %d %q", err, code, reason)
		}
		return
	}
}

func TestWSHelloAndLive(t *testing.T) {
	h := NewHub(16)
	s := startEventServer(t, h, nil)
	publishN(t, h, 3)
	c := s.dial(t, "")
	wantEnvelope(t, readEvent(t, c), typeHello, 3)
	// hello is sent after subscribing, so these are live.
	publishN(t, h, 2)
	checkEvent(t, readEvent(t, c), 4)
	checkEvent(t, readEvent(t, c), 5)

	// A client seeing the node for the first time.
	c = s.dial(t, "0")
	wantEnvelope(t, readEvent(t, c), typeHello, 5)
	publishN(t, h, 1)
	checkEvent(t, readEvent(t, c), 6)
}

func TestWSReconnectSince(t *testing.T) {
	const n = 10
	h := NewHub(16)
	s := startEventServer(t, h, nil)
	publishN(t, h, n)
	for _, k := range []uint64{1, 4, 9, 10} {
		c := s.dial(t, strconv.FormatUint(k, 10))
		now := h.Seq()
		wantEnvelope(t, readEvent(t, c), typeHello, now)
		for seq := k + 1; seq <= now; seq++ {
			checkEvent(t, readEvent(t, c), seq)
		}
		publishN(t, h, 2)
		checkEvent(t, readEvent(t, c), now+1)
		checkEvent(t, readEvent(t, c), now+2)
		c.Close()
		s.waitReturned(t)
	}
}

func TestWSResync(t *testing.T) {
	h := NewHub(4)
	s := startEventServer(t, h, nil)
	publishN(t, h, 10)
	for _, since := range []func(now uint64) uint64{
		func(now uint64) uint64 { return 2 },       // long evicted
		func(now uint64) uint64 { return now - 5 }, // the ring holds now-3..now
		func(now uint64) uint64 { return now + 1 }, // from before a restart
		func(now uint64) uint64 { return 1<<64 - 1 },
	} {
		now := h.Seq()
		c := s.dial(t, strconv.FormatUint(since(now), 10))
		wantEnvelope(t, readEvent(t, c), typeHello, now)
		wantEnvelope(t, readEvent(t, c), typeResync, now)
		publishN(t, h, 1)
		checkEvent(t, readEvent(t, c), now+1)
	}
}

func TestWSBadSince(t *testing.T) {
	h := NewHub(4)
	s := startEventServer(t, h, nil)
	for _, since := range []string{"abc", "-1", "1.5", "18446744073709551616"} {
		c, resp, err := websocket.DefaultDialer.Dial(s.url(since), nil)
		if err == nil {
			c.Close()
			t.Fatalf("since=%s: the upgrade succeeded", since)
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("since=%s: %v, want status 400", since, err)
		}
		var body httpjson.ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code != "bad_query" || body.Error.Message == "" {
			t.Errorf("since=%s: error body %+v, %v", since, body, err)
		}
		resp.Body.Close()
		s.waitReturned(t)
	}
	// Not a WebSocket handshake at all.
	resp, err := http.Get(s.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("plain GET: %s %s, want a JSON 400", resp.Status, resp.Header.Get("Content-Type"))
	}
	if got := subscriberCount(h); got != 0 {
		t.Errorf("%d subscribers after refused requests", got)
	}
}

func TestWSClientCloseEndsHandler(t *testing.T) {
	h := NewHub(4)
	s := startEventServer(t, h, nil)

	c := s.dial(t, "")
	wantEnvelope(t, readEvent(t, c), typeHello, 0)
	c.Close() // abruptly, without a close frame
	s.waitReturned(t)

	c = s.dial(t, "")
	wantEnvelope(t, readEvent(t, c), typeHello, 0)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(eventWait)); err != nil {
		t.Fatal(err)
	}
	s.waitReturned(t)
	if got := subscriberCount(h); got != 0 {
		t.Errorf("%d subscribers after the clients left", got)
	}
}

func TestWSClientMessages(t *testing.T) {
	h := NewHub(4)
	s := startEventServer(t, h, nil)
	c := s.dial(t, "")
	wantEnvelope(t, readEvent(t, c), typeHello, 0)
	// Small messages are read and ignored.
	for _, size := range []int{1, wsMaxClientMessage} {
		if err := c.WriteMessage(websocket.TextMessage, make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}
	publishN(t, h, 1)
	checkEvent(t, readEvent(t, c), 1)

	if err := c.WriteMessage(websocket.BinaryMessage, make([]byte, wsMaxClientMessage+1)); err != nil {
		t.Fatal(err)
	}
	// The server closes with 1009, but it may also reset the connection,
	// as the message is still unread, and the frame is lost: either will do.
	c.SetReadDeadline(time.Now().Add(eventWait))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		if ce := (*websocket.CloseError)(nil); errors.As(err, &ce) && ce.Code != websocket.CloseMessageTooBig {
			t.Errorf("closed with %v, want 1009", ce)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the connection stayed open")
		}
		break
	}
	s.waitReturned(t)
}

func TestWSShutdown(t *testing.T) {
	h := NewHub(4)
	s := startEventServer(t, h, nil)
	c := s.dial(t, "")
	wantEnvelope(t, readEvent(t, c), typeHello, 0)
	s.shutdown()
	wantClose(t, c, websocket.CloseGoingAway, "node shutting down")
	s.waitReturned(t)
}

func TestWSPing(t *testing.T) {
	h := NewHub(4)
	// pongWait is 20 pings, so that a loaded machine's stalls do not end
	// the answering client's connection.
	h.pingPeriod, h.pongWait = 50*time.Millisecond, time.Second
	s := startEventServer(t, h, nil)

	// A client that reads answers pings, and stays connected well past
	// pongWait.
	c := s.dial(t, "")
	pings := make(chan struct{}, 100)
	c.SetPingHandler(func(data string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(eventWait))
	})
	events := make(chan Event, 10)
	go func() {
		defer close(events)
		for {
			var ev Event
			if c.ReadJSON(&ev) != nil {
				return
			}
			events <- ev
		}
	}()
	wantEnvelope(t, <-events, typeHello, 0)
	for range 30 { // 1.5 s, past pongWait
		select {
		case <-pings:
		case <-time.After(eventWait):
			t.Fatal("no ping")
		}
	}
	publishN(t, h, 1)
	select {
	case ev := <-events:
		checkEvent(t, ev, 1)
	case <-time.After(eventWait):
		t.Fatal("a client answering pings was dropped")
	}
	select {
	case <-s.returned:
		t.Fatal("the handler returned")
	default:
	}

	// A client that stops reading does not answer; the server drops it.
	silent := s.dial(t, "")
	wantEnvelope(t, readEvent(t, silent), typeHello, 1)
	s.waitReturned(t)
}

// TestWSOverflow stalls a client until its subscription overflows, and
// wants the server to tell it to reconnect.
func TestWSOverflow(t *testing.T) {
	const n = subscriberBuffer + 512
	h := NewHub(n) // room to catch up after the overflow
	// Small socket buffers on both ends, so that a client that does not
	// read soon blocks the server's writer.
	s := startEventServer(t, h, func(s *httptest.Server) { s.Listener = smallWrites{s.Listener} })
	dialer := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				err = c.(*net.TCPConn).SetReadBuffer(8 << 10)
			}
			return c, err
		},
	}
	c, resp, err := dialer.Dial(s.url(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	defer c.Close()
	wantEnvelope(t, readEvent(t, c), typeHello, 0)

	// Each event is 4 KiB: the sockets hold a few dozen of them at most.
	data := strings.Repeat("x", 4<<10)
	within(t, "Publish", func() {
		for range n {
			h.Publish("big", data)
		}
	})

	c.SetReadDeadline(time.Now().Add(eventWait))
	var last uint64
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater || ce.Text != "overflow: reconnect with since" {
				t.Fatalf("connection ended with %v, want an overflow close", err)
			}
			break
		}
		var ev Event
		if err := json.Unmarshal(msg, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != last+1 {
			t.Fatalf("got seq %d after %d", ev.Seq, last)
		}
		last = ev.Seq
	}
	if last >= n {
		t.Fatalf("received every event (%d) before the overflow", last)
	}
	s.waitReturned(t)

	// Reconnecting with the last seq seen delivers the rest.
	c = s.dial(t, strconv.FormatUint(last, 10))
	wantEnvelope(t, readEvent(t, c), typeHello, n)
	for seq := last + 1; seq <= n; seq++ {
		if ev := readEvent(t, c); ev.Seq != seq || ev.Type != "big" {
			t.Fatalf("got %s %d, want big %d", ev.Type, ev.Seq, seq)
		}
	}
}

// smallWrites shrinks the send buffer of accepted connections.
type smallWrites struct{ net.Listener }

func (l smallWrites) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = c.(*net.TCPConn).SetWriteBuffer(8 << 10)
	}
	return c, err
}
