package call

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ancore/ancore/node/nodetest"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// pionMedia makes real WebRTC sessions (pion): the caller opens a data
// channel and says hello on it, the callee hands what it hears to heard.
// Candidates travel as the JSON of webrtc.ICECandidateInit.
type pionMedia struct {
	heard chan string
}

func (m *pionMedia) NewSession(in Info, ev SessionEvents) (Session, error) {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return // gathering is complete
		}
		b, err := json.Marshal(c.ToJSON())
		if err == nil {
			ev.Candidate(string(b))
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			ev.State(MediaConnected)
		case webrtc.PeerConnectionStateDisconnected:
			ev.State(MediaDisconnected)
		case webrtc.PeerConnectionStateFailed:
			ev.State(MediaFailed)
		}
	})
	if in.Outgoing {
		dc, err := pc.CreateDataChannel("hello", nil)
		if err != nil {
			return nil, err
		}
		dc.OnOpen(func() { _ = dc.SendText("hello from " + in.ID.String()) })
	} else {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			dc.OnMessage(func(msg webrtc.DataChannelMessage) { m.heard <- string(msg.Data) })
		})
	}
	return &pionSession{pc: pc}, nil
}

type pionSession struct{ pc *webrtc.PeerConnection }

func (s *pionSession) Offer(context.Context) (string, error) {
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	return offer.SDP, s.pc.SetLocalDescription(offer)
}

func (s *pionSession) Answer(_ context.Context, offer string) (string, error) {
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	return answer.SDP, s.pc.SetLocalDescription(answer)
}

func (s *pionSession) SetAnswer(_ context.Context, answer string) error {
	return s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
}

func (s *pionSession) AddCandidate(c string) error {
	var init webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(c), &init); err != nil {
		return err
	}
	return s.pc.AddICECandidate(init)
}

func (s *pionSession) Close() error { return s.pc.Close() }

// TestCallPion negotiates real WebRTC peer connections through the
// feature's signaling between two real nodes: offer, answer and trickled
// candidates, until a data channel carries the caller's hello.
func TestCallPion(t *testing.T) {
	callerMedia, calleeMedia := &pionMedia{heard: make(chan string, 4)}, &pionMedia{heard: make(chan string, 4)}
	a, b := startPeer(t, nil, withMedia(callerMedia)), startPeer(t, nil, withMedia(calleeMedia))
	id := community(t, a, b)
	call := activeCall(t, a, b, id)
	select {
	case got := <-calleeMedia.heard:
		if want := "hello from " + call.String(); got != want {
			t.Errorf("the data channel carried %q, want %q", got, want)
		}
	case <-time.After(nodetest.Wait.Timeout):
		t.Fatal("timed out waiting for the data channel's hello")
	}
	if _, err := b.calls.End(call); err != nil {
		t.Fatal(err)
	}
	waitState(t, a, call, StateEnded)
}
