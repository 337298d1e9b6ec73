package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ancore/ancore/node/media/sframe"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// PayloadType is the RTP payload type of Opus in the sessions' SDP.
const PayloadType = 111

// keyRefresh is how often a session asks for the community's keys again
// while it sends, so that it switches to a new epoch's key within this
// long of the rekey arriving.
const keyRefresh = time.Second

// ConnState is the state of a session's connection, as it reports it.
type ConnState uint8

const (
	Connected    ConnState = iota + 1 // media flows (at first, or again)
	Disconnected                      // lost, may come back
	Failed                            // lost for good
)

// Events are how a session reports, from any goroutine.
type Events struct {
	// Candidate is a local ICE candidate (the JSON of an
	// RTCIceCandidateInit) for the other side's AddCandidate.
	Candidate func(candidate string)
	// State is the connection's state changing.
	State func(ConnState)
}

// Keys returns the epoch keys of the call's community that the node
// holds, and the current one, which the session seals with.
type Keys func() (current []byte, all [][]byte, err error)

// SessionConfig is what a session is made of.
type SessionConfig struct {
	Call   []byte   // the call's ID: the keys are the call's own
	Device []byte   // this device's key: it seals under its sender key
	Peers  [][]byte // the other side's devices, whose media it opens
	Keys   Keys
	Source Source // what it sends
	Sink   Sink   // where what it receives is played
	Events Events

	// wire, in tests, sees each received RTP payload before it is opened.
	wire func(payload []byte)
}

// SessionStats count a session's packets.
type SessionStats struct {
	Sent     uint64 // RTP packets sent, each sealed
	Received uint64 // RTP packets received
	Opened   uint64 // received packets that opened
	Refused  uint64 // received packets that did not open, or are not Opus
}

// Session is one call's audio over a pion/webrtc PeerConnection: Opus
// from its Source, each RTP payload sealed with SFrame under this
// device's key for the call (node/media/sframe), and the other side's
// packets opened, through the jitter buffer and the decoder to its Sink.
// It never sends a payload in clear: it has a sender key from the start
// (NewSession fails without one) and seals every packet.
type Session struct {
	cfg   SessionConfig
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	enc   *Encoder
	dec   *Decoder

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	sending bool
	sealer  *sframe.Sealer
	sendKey []byte // the epoch key the sealer's key is derived from

	opener     *sframe.Opener
	openerKIDs map[uint64]bool
	refreshed  time.Time // when the opener last asked for keys

	sent, received, opened, refused atomic.Uint64
}

// NewSession makes a call's session: ErrUnavailable in a build without
// the codec.
func NewSession(cfg SessionConfig) (*Session, error) {
	if cfg.Source == nil || cfg.Sink == nil || cfg.Keys == nil {
		return nil, errors.New("media session: needs a source, a sink and keys")
	}
	enc, err := NewEncoder(EncoderConfig{})
	if err != nil {
		return nil, fmt.Errorf("media session: %w", err)
	}
	dec, err := NewDecoder()
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("media session: %w", err)
	}
	s := &Session{cfg: cfg, enc: enc, dec: dec, opener: sframe.NewOpener(), openerKIDs: map[uint64]bool{}}
	fail := func(err error) (*Session, error) {
		enc.Close()
		dec.Close()
		return nil, fmt.Errorf("media session: %w", err)
	}
	if err := s.rekey(); err != nil {
		return fail(err)
	}
	if err := s.addOpenKeys(); err != nil {
		return fail(err)
	}
	if s.pc, s.track, err = newPeerConnection(); err != nil {
		return fail(err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil || cfg.Events.Candidate == nil {
			return // gathering is complete
		}
		if b, err := json.Marshal(c.ToJSON()); err == nil {
			cfg.Events.Candidate(string(b))
		}
	})
	s.pc.OnConnectionStateChange(s.connectionState)
	s.pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if remote.Kind() != webrtc.RTPCodecTypeAudio || !s.start(1) {
			return
		}
		s.receive(remote)
	})
	return s, nil
}

func newPeerConnection() (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP, error) {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	var m webrtc.MediaEngine
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: PayloadType}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, err
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, nil, err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "ancore")
	if err != nil {
		return nil, nil, errors.Join(err, pc.Close())
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return nil, nil, errors.Join(err, pc.Close())
	}
	go func() { // RTCP from the other side; pion needs it read
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	return pc, track, nil
}

var opusCodec = webrtc.RTPCodecCapability{
	MimeType: webrtc.MimeTypeOpus, ClockRate: SampleRate, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1",
}

// start counts n loops of the session's, unless it closed.
func (s *Session) start(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(n)
	return true
}

func (s *Session) connectionState(st webrtc.PeerConnectionState) {
	var report ConnState
	switch st {
	case webrtc.PeerConnectionStateConnected:
		report = Connected
		s.mu.Lock()
		begin := !s.sending && !s.closed
		if begin {
			s.sending = true
			s.wg.Add(1)
		}
		s.mu.Unlock()
		if begin {
			go s.send()
		}
	case webrtc.PeerConnectionStateDisconnected:
		report = Disconnected
	case webrtc.PeerConnectionStateFailed:
		report = Failed
	default:
		return
	}
	if s.cfg.Events.State != nil {
		s.cfg.Events.State(report)
	}
}

// rekey makes the sealer of the current epoch key, when it changed.
func (s *Session) rekey() error {
	current, _, err := s.cfg.Keys()
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if current == nil {
		return errors.New("keys: no current epoch key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealer != nil && bytes.Equal(current, s.sendKey) {
		return nil
	}
	key, err := sframe.SenderKey(current, s.cfg.Call, s.cfg.Device)
	if err != nil {
		return err
	}
	s.sealer, s.sendKey = sframe.NewSealer(key), current
	return nil
}

// addOpenKeys lets the opener open what each of the other side's devices
// seals under each epoch key the node holds.
func (s *Session) addOpenKeys() error {
	_, all, err := s.cfg.Keys()
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshed = time.Now()
	for _, epoch := range all {
		for _, dev := range s.cfg.Peers {
			key, err := sframe.SenderKey(epoch, s.cfg.Call, dev)
			if err != nil {
				return err
			}
			if !s.openerKIDs[key.KID()] {
				s.openerKIDs[key.KID()] = true
				s.opener.Add(key)
			}
		}
	}
	return nil
}

// send encodes, seals and sends the source's frames until the session
// closes or the source fails.
func (s *Session) send() {
	defer s.wg.Done()
	var seed [10]byte
	_, _ = rand.Read(seed[:])
	z := NewPacketizer(binary.BigEndian.Uint32(seed[0:]), PayloadType, binary.BigEndian.Uint16(seed[4:]), binary.BigEndian.Uint32(seed[6:]))
	pcm := make([]int16, FrameSamples)
	buf := make([]byte, MaxPayload)
	var sealed []byte
	lastKeys := time.Now()
	for {
		if err := s.cfg.Source.ReadFrame(s.ctx, pcm); err != nil {
			return
		}
		if time.Since(lastKeys) >= keyRefresh {
			lastKeys = time.Now()
			_ = s.rekey() // keys that cannot be had now: the old ones go on
		}
		payload, err := s.enc.Encode(pcm, buf)
		if err != nil {
			continue
		}
		p, ok := z.Frame(payload)
		if !ok {
			continue
		}
		s.mu.Lock()
		sealed = s.sealer.Seal(sealed[:0], payload)
		s.mu.Unlock()
		p.Payload = sealed
		if err := s.track.WriteRTP(p); err != nil {
			return
		}
		s.sent.Add(1)
	}
}

// receive reads the remote track until it ends: each packet opened, into
// the jitter buffer, which the playout loop empties into the sink.
func (s *Session) receive(remote *webrtc.TrackRemote) {
	defer s.wg.Done()
	jb := NewJitterBuffer(JitterConfig{})
	var mu sync.Mutex // jb's
	arrived := make(chan struct{}, 1)
	playing := false
	defer func() {
		if playing {
			close(arrived) // the playout loop ends with the track
		}
	}()
	for {
		p, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		at := time.Now()
		s.received.Add(1)
		if s.cfg.wire != nil {
			s.cfg.wire(p.Payload)
		}
		opened, err := s.open(p.Payload)
		if err != nil {
			s.refused.Add(1)
			continue
		}
		p.Payload = opened
		packet, err := FromRTP(p, PayloadType)
		if err != nil {
			s.refused.Add(1)
			continue
		}
		s.opened.Add(1)
		mu.Lock()
		jb.Push(packet, at)
		mu.Unlock()
		if !playing && s.start(1) {
			playing = true
			go s.playout(jb, &mu, arrived)
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
}

// open opens a sealed payload; a KID it has no key for makes it ask for
// the keys again (a rekey), at most once per keyRefresh.
func (s *Session) open(payload []byte) ([]byte, error) {
	opened, _, err := s.opener.Open(nil, payload)
	if !errors.Is(err, sframe.ErrNoKey) {
		return opened, err
	}
	s.mu.Lock()
	stale := time.Since(s.refreshed) >= keyRefresh
	s.mu.Unlock()
	if !stale {
		return nil, err
	}
	if kerr := s.addOpenKeys(); kerr != nil {
		return nil, errors.Join(err, kerr)
	}
	opened, _, err = s.opener.Open(nil, payload)
	return opened, err
}

// playout plays each frame when the jitter buffer says it is due, woken
// early when a packet arrives, until arrived closes.
func (s *Session) playout(jb *JitterBuffer, mu *sync.Mutex, arrived <-chan struct{}) {
	defer s.wg.Done()
	pcm := make([]int16, FrameSamples)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		mu.Lock()
		for {
			f, ok := jb.Pop(time.Now())
			if !ok {
				break
			}
			_, _ = s.dec.DecodeFrame(f, pcm) // a refused packet is concealed
			s.cfg.Sink.WriteFrame(pcm)
		}
		due, ok := jb.NextDue()
		mu.Unlock()
		if ok {
			timer.Reset(time.Until(due))
		}
		select {
		case <-timer.C:
		case _, open := <-arrived:
			if !open {
				return
			}
		}
	}
}

// Offer makes the caller's offer; candidates follow through Events.
func (s *Session) Offer(context.Context) (string, error) {
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("offer: %w", err)
	}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("offer: %w", err)
	}
	return offer.SDP, nil
}

// Answer answers the caller's offer.
func (s *Session) Answer(_ context.Context, offer string) (string, error) {
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	return answer.SDP, nil
}

// SetAnswer takes the callee's answer.
func (s *Session) SetAnswer(_ context.Context, answer string) error {
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("set answer: %w", err)
	}
	return nil
}

// AddCandidate adds one of the other side's candidates, after its
// description.
func (s *Session) AddCandidate(candidate string) error {
	var init webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(candidate), &init); err != nil {
		return fmt.Errorf("candidate: %w", err)
	}
	return s.pc.AddICECandidate(init)
}

// Stats returns the session's packet counts.
func (s *Session) Stats() SessionStats {
	return SessionStats{Sent: s.sent.Load(), Received: s.received.Load(), Opened: s.opened.Load(), Refused: s.refused.Load()}
}

// Close ends the session: the connection, then its loops, then the
// codec. It may be called more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	err := s.pc.Close()
	s.wg.Wait()
	s.enc.Close()
	s.dec.Close()
	return err
}
