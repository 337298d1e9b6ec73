package call

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/nodetest"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func connect(t *testing.T, p *peerNode, addr string) error {
	t.Helper()
	pi, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return err
	}
	return p.Libp2p().Connect(t.Context(), *pi)
}

// rawStream is a signaling stream opened by hand, to send what an honest
// node would not.
type rawStream struct {
	t *testing.T
	s network.Stream
	d *crdt.Device
}

func openRaw(t *testing.T, from, to *peerNode) *rawStream {
	t.Helper()
	s, err := from.Libp2p().NewStream(t.Context(), to.PeerID(), Protocol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Reset() })
	return &rawStream{t: t, s: s, d: from.Identity().Device}
}

// send signs m as the stream's device would and writes it; the write's
// error is returned (a stream cut off fails).
func (r *rawStream) send(m Message) error {
	r.t.Helper()
	b, err := Sign(r.d, m)
	if err != nil {
		r.t.Fatal(err)
	}
	return writeFrame(r.s, b)
}

// signUnchecked signs m without the caps Sign enforces.
func signUnchecked(d *crdt.Device, m Message) []byte {
	m.Author, m.Cert = d.ID(), d.Cert()
	w := m.wire()
	w.Sig = ed25519.Sign(ed25519.NewKeyFromSeed(d.Seed()), w.signingInput())
	b, err := encMode.Marshal(w)
	if err != nil {
		panic(err)
	}
	return b
}

func TestCallSignalingAbuse(t *testing.T) {
	a, b, c, outsider := startPeer(t, nil), startPeer(t, nil), startPeer(t, nil), startPeer(t, nil)
	id := community(t, a, b, c)
	for _, p := range []*peerNode{outsider, c} {
		for _, addr := range b.Addrs() {
			if err := connect(t, p, addr); err != nil {
				t.Fatal(err)
			}
		}
	}
	call := activeCall(t, a, b, id)
	now := time.Now()

	// A non-member rings b.
	raw := openRaw(t, outsider, b)
	if err := raw.send(Message{Kind: KindInitiate, Call: NewID(), Community: id, To: b.user(), Time: now}); err != nil {
		t.Fatal(err)
	}
	nodetest.Wait.For(t, "the outsider refused", b.refused.has(ErrNotMember))

	// A member sends an offer and ends a call it is not in.
	raw = openRaw(t, c, b)
	for _, m := range []Message{
		{Kind: KindOffer, Payload: "offer x"},
		{Kind: KindEnd, Reason: ReasonHangup},
	} {
		m.Call, m.Community, m.To, m.Time = call, id, b.user(), now
		if err := raw.send(m); err != nil {
			t.Fatal(err)
		}
	}
	nodetest.Wait.For(t, "a member not in the call refused", b.refused.has(errNotInCall))

	// A signature that is not the author's: a's message re-signed by c.
	forged := Message{Kind: KindEnd, Call: call, Community: id, To: b.user(), Time: now, Reason: ReasonHangup}
	forged.Author, forged.Cert = a.Identity().Device.ID(), a.Identity().Device.Cert()
	w := forged.wire()
	w.Sig = ed25519.Sign(ed25519.NewKeyFromSeed(c.Identity().Device.Seed()), w.signingInput())
	fb, err := encMode.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(raw.s, fb); err != nil {
		t.Fatal(err)
	}
	nodetest.Wait.For(t, "the forged signature refused", b.refused.has(ErrBadSignature))

	// An SDP over the cap, signed properly.
	over := signUnchecked(c.Identity().Device, Message{Kind: KindOffer, Call: NewID(), Community: id, To: b.user(), Time: now,
		Payload: strings.Repeat("v", MaxSDP+1)})
	if err := writeFrame(raw.s, over); err != nil {
		t.Fatal(err)
	}
	nodetest.Wait.For(t, "the SDP over the cap refused", b.refused.has(ErrTooLarge))

	// A flood of candidates: the stream is cut off.
	flood := openRaw(t, c, b)
	cut := false
	for i := 0; i < 10*messageBurst && !cut; i++ {
		cut = flood.send(Message{Kind: KindCandidate, Call: call, Community: id, To: b.user(), Time: time.Now(),
			Payload: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}) != nil
	}
	nodetest.Wait.For(t, "the flood cut off", b.refused.has(errFlood))
	reset := func(s network.Stream) bool {
		_ = s.SetReadDeadline(time.Now().Add(nodetest.Wait.Timeout))
		_, err := s.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	if !reset(flood.s) {
		t.Error("the flooder's stream was not reset")
	}
	if again := openRaw(t, c, b); !reset(again.s) {
		t.Error("the cut-off peer's new stream was served")
	}

	// The honest call is unaffected: still active on both sides, and it
	// ends normally.
	for _, p := range []*peerNode{a, b} {
		if in, _ := p.calls.Call(call); in.State != StateActive {
			t.Errorf("the honest call after the abuse: %+v", in)
		}
	}
	if _, err := b.calls.End(call); err != nil {
		t.Fatal(err)
	}
	if in := waitState(t, a, call, StateEnded); in.Reason != ReasonHangup {
		t.Errorf("the honest call ended with %q", in.Reason)
	}
}

// TestCallAcceptedBeforeTheOffer: a callee that accepts before the offer
// arrived answers it when it comes, with the candidates that came first.
func TestCallAcceptedBeforeTheOffer(t *testing.T) {
	caller, b := startPeer(t, nil), startPeer(t, nil)
	id := community(t, caller, b)
	raw := openRaw(t, caller, b)
	call := NewID()
	now := time.Now()
	if err := raw.send(Message{Kind: KindInitiate, Call: call, Community: id, To: b.user(), Time: now}); err != nil {
		t.Fatal(err)
	}
	waitState(t, b, call, StateRinging)
	if in, err := b.calls.Accept(t.Context(), call); err != nil || in.State != StateConnecting {
		t.Fatalf("accept: %+v, %v", in, err)
	}
	session := b.media.last()
	for i := range fakeCandidates {
		if err := raw.send(Message{Kind: KindCandidate, Call: call, Community: id, To: b.user(), Time: now,
			Payload: fmt.Sprintf("cand early %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.send(Message{Kind: KindOffer, Call: call, Community: id, To: b.user(), Time: now, Payload: "offer early"}); err != nil {
		t.Fatal(err)
	}
	// The session answered the offer, took the queued candidates and
	// connected.
	waitState(t, b, call, StateActive)
	session.mu.Lock()
	remote, got := session.remote, len(session.got)
	session.mu.Unlock()
	if remote != "early" || got != fakeCandidates {
		t.Errorf("the session holds the remote %q and %d candidates", remote, got)
	}
}
