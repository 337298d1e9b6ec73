// Package sfu is the relay's selective forwarding unit for calls too big
// for a full mesh: each participant publishes its tracks to the relay
// once, and the relay forwards every RTP packet to the other participants
// without decoding it. Payloads are opaque here — the members encrypt
// them end to end (SFrame-style, header clear) with a key the relay never
// has — so the SFU only reads RTP headers: sequence numbers for its NACK
// cache, the audio-level extension (RFC 6464) for speaker detection.
//
// It is Galene's design, pared down: per publisher track a packet cache
// that answers subscribers' NACKs; per subscriber track a bounded queue
// and writer, so a subscriber that falls behind loses packets instead of
// stalling the rest; keyframe requests relayed to the publisher and rate
// limited; one video layer whose bitrate the publisher adapts to the REMB
// the SFU derives from its subscribers' loss (rate.go says why).
//
// Signaling is the caller's: each participant has a publishing peer
// connection, which it offers (Peer.Publish), and a subscribing one, which
// the SFU offers whenever the set of tracks changes (the onOffer callback
// of Room.Join, answered with Peer.Answer). Two connections mean neither
// side ever has to resolve an offer glare. Descriptions are complete
// (ICE gathered), not trickled.
package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// ErrClosed: the peer has left (or was replaced by a later Join).
var ErrClosed = errors.New("sfu: peer has left")

// Config configures an SFU. Its zero value works on every interface with
// ephemeral ports.
type Config struct {
	// Settings adjusts pion's setting engine: ICE ports or a UDP mux,
	// public (1:1 NAT) addresses, network types.
	Settings func(*webrtc.SettingEngine)
	// QueueLen is each subscriber track's queue in packets; zero means
	// DefaultQueueLen.
	QueueLen int
	// OnSpeaking is told when a published audio track starts or stops
	// carrying speech. It is called from the track's read loop: it must
	// not block.
	OnSpeaking func(Speaking)
	// Logger receives the SFU's logs; nil means slog.Default().
	Logger *slog.Logger

	// wrap lets tests put a writer in front of a subscriber's track.
	wrap func(peer string, w rtpWriter) rtpWriter
}

// Speaking is a change of a published audio track's speech state.
type Speaking struct {
	Room, Peer, Track string
	Speaking          bool
}

// SFU holds what its rooms share: pion's API with the SFU's codecs and
// interceptors.
type SFU struct {
	cfg Config
	log *slog.Logger
	api *webrtc.API

	mu    sync.Mutex
	rooms map[string]*Room
}

// Codecs the SFU negotiates. Both carry NACK feedback: audio is
// retransmitted from the cache too, a lost Opus packet being 20 ms gone.
var (
	opus = webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}},
	}}
	vp8 = webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}, {Type: "goog-remb"}},
	}}
)

// New builds an SFU.
func New(cfg Config) (*SFU, error) {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu codecs: %w", err)
	}
	if err := me.RegisterCodec(vp8, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("sfu codecs: %w", err)
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu header extensions: %w", err)
	}
	// The SFU asks publishers for what it lost (generator) but answers
	// subscribers itself from its cache, so no NACK responder; reports
	// give subscribers loss figures and sender reports for lip sync.
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, err
	}
	reg.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, err
	}
	reg.Add(rr)
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, err
	}
	reg.Add(sr)
	var se webrtc.SettingEngine
	if cfg.Settings != nil {
		cfg.Settings(&se)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return &SFU{cfg: cfg, log: log.With("subsystem", "sfu"), api: api, rooms: map[string]*Room{}}, nil
}

// Room returns the room with this id, making it if there is none. A room
// is forgotten when its last peer leaves.
func (s *SFU) Room(id string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[id]
	if r == nil {
		r = &Room{sfu: s, id: id, peers: map[string]*Peer{}, tracks: map[*upTrack]published{}}
		s.rooms[id] = r
	}
	return r
}

// Room is one call: every peer receives every other peer's tracks.
type Room struct {
	sfu *SFU
	id  string

	mu     sync.Mutex
	peers  map[string]*Peer
	tracks map[*upTrack]published
	gone   bool // forgotten by the SFU; joins go to its successor
}

type published struct {
	owner *Peer
	codec webrtc.RTPCodecCapability
}

// Join adds a peer to the room and makes its subscribing connection.
// onOffer receives the SFU's offers for it, whenever tracks come and go;
// each is answered with Peer.Answer. onOffer runs on the SFU's goroutines,
// the first time before Join returns if the room has tracks: it must hand
// the offer to the signaling channel, not wait for the answer.
//
// A peer that joins again under its id replaces its earlier self, which
// leaves: an app that restarted mid-call comes back at once instead of
// waiting for its old connections to time out.
func (r *Room) Join(id string, onOffer func(webrtc.SessionDescription)) (*Peer, error) {
	sub, err := r.sfu.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu: subscriber connection: %w", err)
	}
	p := &Peer{room: r, id: id, sub: sub, onOffer: onOffer, downs: map[*upTrack]subscription{},
		log: r.sfu.log.With("room", r.id, "peer", id)}
	for {
		r.mu.Lock()
		if r.gone {
			r.mu.Unlock()
			sub.Close()
			return r.sfu.Room(r.id).Join(id, onOffer)
		}
		old := r.peers[id]
		if old == nil {
			break
		}
		r.mu.Unlock()
		old.log.Info("replaced by a new join")
		old.Leave()
	}
	r.peers[id] = p
	var existing []*upTrack
	for up := range r.tracks {
		existing = append(existing, up)
	}
	codecs := make([]webrtc.RTPCodecCapability, len(existing))
	for i, up := range existing {
		codecs[i] = r.tracks[up].codec
	}
	r.mu.Unlock()
	sub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			p.log.Info("subscriber connection failed")
			go p.Leave()
		}
	})
	for i, up := range existing {
		p.subscribe(up, codecs[i])
	}
	return p, nil
}

// publish makes up available to every other peer of the room.
func (r *Room) publish(owner *Peer, up *upTrack, codec webrtc.RTPCodecCapability) {
	r.mu.Lock()
	r.tracks[up] = published{owner: owner, codec: codec}
	var others []*Peer
	for _, p := range r.peers {
		if p != owner {
			others = append(others, p)
		}
	}
	r.mu.Unlock()
	for _, p := range others {
		p.subscribe(up, codec)
	}
}

// unpublish withdraws up from every peer.
func (r *Room) unpublish(up *upTrack) {
	r.mu.Lock()
	if _, ok := r.tracks[up]; !ok {
		r.mu.Unlock()
		return
	}
	delete(r.tracks, up)
	var peers []*Peer
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	for _, p := range peers {
		p.unsubscribe(up)
	}
}

// leave forgets p and withdraws its tracks.
func (r *Room) leave(p *Peer) {
	r.mu.Lock()
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
	}
	var own []*upTrack
	for up, pub := range r.tracks {
		if pub.owner == p {
			own = append(own, up)
		}
	}
	empty := len(r.peers) == 0
	r.mu.Unlock()
	for _, up := range own {
		r.unpublish(up)
	}
	if empty {
		s := r.sfu
		s.mu.Lock()
		r.mu.Lock()
		if len(r.peers) == 0 && s.rooms[r.id] == r {
			delete(s.rooms, r.id)
			r.gone = true
		}
		r.mu.Unlock()
		s.mu.Unlock()
	}
}
