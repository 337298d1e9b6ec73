package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/node/media/sframe"
	"github.com/ancore/ancore/testwait"
)

var wait = testwait.Poll{Timeout: 30 * time.Second, Every: 20 * time.Millisecond}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// fixedKeys is a community's keys as a node holds them.
func fixedKeys(current []byte, all ...[]byte) Keys {
	return func() ([]byte, [][]byte, error) { return current, append([][]byte{current}, all...), nil }
}

// sessionPair is two sessions of one call whose signaling the test
// carries: offer, answer, and each side's trickled candidates once the
// other holds its description.
type sessionPair struct {
	caller, callee *Session
	connected      chan struct{} // one per side reaching Connected
}

func newSessionPair(t *testing.T, caller, callee SessionConfig) *sessionPair {
	t.Helper()
	p := &sessionPair{connected: make(chan struct{}, 2)}
	var mu sync.Mutex
	var callerCands, calleeCands []string
	var callerReady, calleeReady bool // the other side holds its description
	deliver := func(s **Session, cands *[]string, ready *bool, c string) {
		mu.Lock()
		defer mu.Unlock()
		if !*ready {
			*cands = append(*cands, c)
			return
		}
		if err := (*s).AddCandidate(c); err != nil {
			t.Errorf("add candidate: %v", err)
		}
	}
	caller.Events = Events{
		Candidate: func(c string) { deliver(&p.callee, &callerCands, &callerReady, c) },
		State:     p.state,
	}
	callee.Events = Events{
		Candidate: func(c string) { deliver(&p.caller, &calleeCands, &calleeReady, c) },
		State:     p.state,
	}
	var err error
	if p.caller, err = NewSession(caller); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.caller.Close() })
	if p.callee, err = NewSession(callee); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.callee.Close() })

	offer, err := p.caller.Offer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	answer, err := p.callee.Answer(t.Context(), offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.caller.SetAnswer(t.Context(), answer); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	callerReady, calleeReady = true, true
	for _, c := range callerCands {
		if err := p.callee.AddCandidate(c); err != nil {
			t.Errorf("add candidate: %v", err)
		}
	}
	for _, c := range calleeCands {
		if err := p.caller.AddCandidate(c); err != nil {
			t.Errorf("add candidate: %v", err)
		}
	}
	mu.Unlock()
	for range 2 {
		select {
		case <-p.connected:
		case <-time.After(wait.Timeout):
			t.Fatal("timed out waiting for the sessions to connect")
		}
	}
	return p
}

func (p *sessionPair) state(s ConnState) {
	if s == Connected {
		p.connected <- struct{}{}
	}
}

// hears waits until the last second r recorded holds freq and not other.
func hears(t *testing.T, who string, r *Recorder, freq, other float64) {
	t.Helper()
	wait.For(t, who+" hears the tone", func() bool {
		pcm := r.Last(50 * FrameSamples)
		return len(pcm) == 50*FrameSamples && ToneLevel(pcm, freq) > 0.1 && ToneLevel(pcm, other) < 0.02
	})
}

// Each payload on the wire is SFrame ciphertext under the sender's key
// for the call: it opens with that key, is not the Opus frame it carries,
// and does not open under another epoch's key.
func TestSessionSendsCiphertext(t *testing.T) {
	skipWithoutCodec(t)
	t.Parallel()
	epoch, otherEpoch := randomBytes(t, 32), randomBytes(t, 32)
	callID, callerDev, calleeDev := randomBytes(t, 16), randomBytes(t, 32), randomBytes(t, 32)
	var mu sync.Mutex
	var wire [][]byte
	heard := &Recorder{}
	callee := SessionConfig{Call: callID, Device: calleeDev, Peers: [][]byte{callerDev}, Keys: fixedKeys(epoch),
		Source: NewToneSource(660, 0.3), Sink: heard,
		wire: func(payload []byte) {
			mu.Lock()
			defer mu.Unlock()
			wire = append(wire, bytes.Clone(payload))
		}}
	caller := SessionConfig{Call: callID, Device: callerDev, Peers: [][]byte{calleeDev}, Keys: fixedKeys(epoch),
		Source: NewToneSource(440, 0.3), Sink: &Recorder{}}
	newSessionPair(t, caller, callee)
	hears(t, "the callee", heard, 440, 660)

	key, err := sframe.SenderKey(epoch, callID, callerDev)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := sframe.SenderKey(otherEpoch, callID, callerDev)
	if err != nil {
		t.Fatal(err)
	}
	right, other := sframe.NewOpener(), sframe.NewOpener()
	right.Add(key)
	other.Add(wrong)
	mu.Lock()
	defer mu.Unlock()
	if len(wire) < 50 {
		t.Fatalf("%d packets seen on the wire", len(wire))
	}
	for i, payload := range wire {
		opus, _, err := right.Open(nil, payload)
		if err != nil {
			t.Fatalf("packet %d does not open with the caller's key: %v", i, err)
		}
		if n, err := OpusPacketSamples(opus); err != nil || n != FrameSamples {
			t.Fatalf("packet %d opens to %d bytes that are not a 20 ms Opus frame (%d samples, %v)", i, len(opus), n, err)
		}
		if bytes.Contains(payload, opus) {
			t.Fatalf("packet %d carries its Opus frame in clear", i)
		}
		if _, _, err := other.Open(nil, payload); !errors.Is(err, sframe.ErrNoKey) {
			t.Fatalf("packet %d under another epoch's key: %v, want ErrNoKey", i, err)
		}
	}
}

// A callee that holds another epoch key than the caller's opens nothing
// and plays nothing of the caller's; the caller, holding the callee's,
// hears it.
func TestSessionWrongEpochKeyHearsNothing(t *testing.T) {
	skipWithoutCodec(t)
	t.Parallel()
	epoch, otherEpoch := randomBytes(t, 32), randomBytes(t, 32)
	callID, callerDev, calleeDev := randomBytes(t, 16), randomBytes(t, 32), randomBytes(t, 32)
	callerHeard, calleeHeard := &Recorder{}, &Recorder{}
	caller := SessionConfig{Call: callID, Device: callerDev, Peers: [][]byte{calleeDev}, Keys: fixedKeys(epoch, otherEpoch),
		Source: NewToneSource(440, 0.3), Sink: callerHeard}
	callee := SessionConfig{Call: callID, Device: calleeDev, Peers: [][]byte{callerDev}, Keys: fixedKeys(otherEpoch),
		Source: NewToneSource(660, 0.3), Sink: calleeHeard}
	p := newSessionPair(t, caller, callee)
	hears(t, "the caller", callerHeard, 660, 440)
	wait.For(t, "the callee refuses 50 packets", func() bool { return p.callee.Stats().Refused >= 50 })
	if st := p.callee.Stats(); st.Opened != 0 {
		t.Errorf("the callee opened %d packets sealed under an epoch key it does not hold (%+v)", st.Opened, st)
	}
	if pcm := calleeHeard.Last(1 << 30); ToneLevel(pcm, 440) > 0.01 {
		t.Errorf("the callee heard the caller's tone at %.3f", ToneLevel(pcm, 440))
	}
}

// A session cannot start without a current epoch key: it would have to
// send in clear.
func TestSessionNeedsAKey(t *testing.T) {
	skipWithoutCodec(t)
	t.Parallel()
	noKey := func() ([]byte, [][]byte, error) { return nil, nil, nil }
	_, err := NewSession(SessionConfig{Call: randomBytes(t, 16), Device: randomBytes(t, 32), Keys: noKey,
		Source: NewToneSource(440, 0.3), Sink: &Recorder{}})
	if err == nil {
		t.Fatal("a session without a current epoch key started")
	}
}

// closingSource is a Source that tells when its reader's context ended.
type closingSource struct {
	Source
	once  sync.Once
	ended chan struct{}
}

func newClosingSource(s Source) *closingSource {
	return &closingSource{Source: s, ended: make(chan struct{})}
}

func (s *closingSource) ReadFrame(ctx context.Context, pcm []int16) error {
	err := s.Source.ReadFrame(ctx, pcm)
	if ctx.Err() != nil {
		s.once.Do(func() { close(s.ended) })
	}
	return err
}

// Close returns once the session stopped sending: its source's reader
// is gone, and a second Close is harmless.
func TestSessionClose(t *testing.T) {
	skipWithoutCodec(t)
	t.Parallel()
	epoch := randomBytes(t, 32)
	callID, callerDev, calleeDev := randomBytes(t, 16), randomBytes(t, 32), randomBytes(t, 32)
	heard, source := &Recorder{}, newClosingSource(NewToneSource(440, 0.3))
	p := newSessionPair(t,
		SessionConfig{Call: callID, Device: callerDev, Peers: [][]byte{calleeDev}, Keys: fixedKeys(epoch), Source: source, Sink: &Recorder{}},
		SessionConfig{Call: callID, Device: calleeDev, Peers: [][]byte{callerDev}, Keys: fixedKeys(epoch), Source: NewToneSource(660, 0.3), Sink: heard})
	hears(t, "the callee", heard, 440, 660)
	if err := p.caller.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-source.ended:
	default:
		t.Fatal("Close returned while the session still read its source")
	}
	if err := p.caller.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// At a rekey the sender switches to the new epoch's key, and the
// receiver, asking for keys on an unknown KID, opens what it seals.
func TestSessionSwitchesToTheNewEpoch(t *testing.T) {
	skipWithoutCodec(t)
	t.Parallel()
	oldEpoch, newEpoch := randomBytes(t, 32), randomBytes(t, 32)
	callID, callerDev, calleeDev := randomBytes(t, 16), randomBytes(t, 32), randomBytes(t, 32)
	var mu sync.Mutex
	rekeyed := false
	keys := func() ([]byte, [][]byte, error) { // both nodes hold the rekey at once
		mu.Lock()
		defer mu.Unlock()
		if rekeyed {
			return newEpoch, [][]byte{oldEpoch, newEpoch}, nil
		}
		return oldEpoch, [][]byte{oldEpoch}, nil
	}
	openerOf := func(epoch []byte) *sframe.Opener {
		key, err := sframe.SenderKey(epoch, callID, callerDev)
		if err != nil {
			t.Fatal(err)
		}
		o := sframe.NewOpener()
		o.Add(key)
		return o
	}
	underOld, underNew := openerOf(oldEpoch), openerOf(newEpoch)
	var oldPackets, newPackets int
	heard := &Recorder{}
	callee := SessionConfig{Call: callID, Device: calleeDev, Peers: [][]byte{callerDev}, Keys: keys,
		Source: NewToneSource(660, 0.3), Sink: heard,
		wire: func(payload []byte) {
			mu.Lock()
			defer mu.Unlock()
			if _, _, err := underOld.Open(nil, payload); err == nil {
				oldPackets++
			} else if _, _, err := underNew.Open(nil, payload); err == nil {
				newPackets++
			}
		}}
	caller := SessionConfig{Call: callID, Device: callerDev, Peers: [][]byte{calleeDev}, Keys: keys,
		Source: NewToneSource(440, 0.3), Sink: &Recorder{}}
	p := newSessionPair(t, caller, callee)
	hears(t, "the callee", heard, 440, 660)
	mu.Lock()
	rekeyed = true
	mu.Unlock()
	wait.For(t, "the callee opens 50 packets under the new epoch", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return newPackets >= 50 && p.callee.Stats().Opened >= uint64(oldPackets+50)
	})
	hears(t, "the callee", heard, 440, 660)
}
