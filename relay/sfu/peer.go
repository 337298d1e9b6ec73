package sfu

import (
	"bytes"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// rembInterval is how often a publisher of video is told the rate its
// subscribers can take.
const rembInterval = time.Second

// Peer is one participant of a room: its publishing connection (made by
// the first Publish) and its subscribing connection.
type Peer struct {
	room    *Room
	id      string
	log     *slog.Logger
	sub     *webrtc.PeerConnection
	onOffer func(webrtc.SessionDescription)

	// pubConn is pub for RTCP to the publisher, which must not wait
	// while Publish holds mu through ICE gathering.
	pubConn atomic.Pointer[webrtc.PeerConnection]

	mu      sync.Mutex
	pub     *webrtc.PeerConnection
	downs   map[*upTrack]subscription
	pending bool // tracks changed while an offer was out
	closed  bool
}

type subscription struct {
	down   *downTrack
	sender *webrtc.RTPSender
}

// ID is the peer's id in its room; its tracks reach the others with it as
// their stream id.
func (p *Peer) ID() string { return p.id }

// Publish takes the peer's offer for its publishing connection (the first
// one, or a renegotiation adding or removing tracks) and returns the
// SFU's answer.
func (p *Peer) Publish(offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return webrtc.SessionDescription{}, ErrClosed
	}
	if p.pub == nil {
		pub, err := p.room.sfu.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return webrtc.SessionDescription{}, fmt.Errorf("sfu: publisher connection: %w", err)
		}
		pub.OnTrack(p.onTrack)
		pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateFailed {
				p.log.Info("publisher connection failed")
				go p.Leave()
			}
		})
		p.pub = pub
		p.pubConn.Store(pub)
	}
	if err := p.pub.SetRemoteDescription(offer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: publisher offer: %w", err)
	}
	answer, err := p.pub.CreateAnswer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: publisher answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pub)
	if err := p.pub.SetLocalDescription(answer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: publisher answer: %w", err)
	}
	<-gathered
	return *p.pub.LocalDescription(), nil
}

// Answer takes the peer's answer to the SFU's last offer for its
// subscribing connection.
func (p *Peer) Answer(answer webrtc.SessionDescription) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if err := p.sub.SetRemoteDescription(answer); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("sfu: subscriber answer: %w", err)
	}
	again := p.pending
	p.pending = false
	p.mu.Unlock()
	if again {
		p.negotiate()
	}
	return nil
}

// Leave closes the peer's connections and withdraws its tracks.
func (p *Peer) Leave() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	downs := p.downs
	p.downs = nil
	pub := p.pub
	p.mu.Unlock()
	for up, s := range downs {
		up.detach(s.down)
		s.down.close()
	}
	p.sub.Close()
	if pub != nil {
		pub.Close()
	}
	p.room.leave(p)
}

// negotiate offers the subscribing connection's current tracks, unless an
// offer is out: then Answer offers again.
func (p *Peer) negotiate() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if p.sub.SignalingState() != webrtc.SignalingStateStable {
		p.pending = true
		p.mu.Unlock()
		return
	}
	offer, err := p.sub.CreateOffer(nil)
	if err == nil {
		gathered := webrtc.GatheringCompletePromise(p.sub)
		if err = p.sub.SetLocalDescription(offer); err == nil {
			<-gathered
			offer = *p.sub.LocalDescription()
		}
	}
	p.mu.Unlock()
	if err != nil {
		p.log.Error("subscriber offer", "err", err)
		return
	}
	p.onOffer(offer)
}

// subscribe adds a copy of up to the peer's subscribing connection.
func (p *Peer) subscribe(up *upTrack, codec webrtc.RTPCodecCapability) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	local, err := webrtc.NewTrackLocalStaticRTP(codec, up.id, up.streamID)
	if err != nil {
		p.mu.Unlock()
		p.log.Error("subscriber track", "err", err)
		return
	}
	sender, err := p.sub.AddTrack(local)
	if err != nil {
		p.mu.Unlock()
		p.log.Error("subscriber track", "err", err)
		return
	}
	var w rtpWriter = local
	if wrap := p.room.sfu.cfg.wrap; wrap != nil {
		w = wrap(p.id, w)
	}
	d := newDownTrack(up, w, p.room.sfu.cfg.QueueLen)
	for _, e := range sender.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI && !up.video {
			d.audioLevelID = uint8(e.ID)
		}
	}
	p.downs[up] = subscription{down: d, sender: sender}
	p.mu.Unlock()
	go d.run()
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			d.handleRTCP(pkts, time.Now())
		}
	}()
	up.attach(d)
	up.requestKeyframe(time.Now()) // the newcomer needs one to start decoding
	p.negotiate()
}

// unsubscribe removes up from the peer's subscribing connection.
func (p *Peer) unsubscribe(up *upTrack) {
	p.mu.Lock()
	s, ok := p.downs[up]
	if ok {
		delete(p.downs, up)
	}
	closed := p.closed
	p.mu.Unlock()
	if !ok {
		return
	}
	up.detach(s.down)
	s.down.close()
	if closed {
		return
	}
	if err := p.sub.RemoveTrack(s.sender); err != nil {
		p.log.Debug("remove track", "err", err)
	}
	p.negotiate()
}

// onTrack runs a published track: its read loop forwards every packet
// until the track ends, and for video a loop tells the publisher the rate
// to send at.
func (p *Peer) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	up := &upTrack{
		id: remote.ID(), streamID: p.id, video: remote.Kind() == webrtc.RTPCodecTypeVideo,
		ssrc: uint32(remote.SSRC()), upstream: p.pubWriteRTCP,
	}
	for _, e := range receiver.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			up.audioLevelID = uint8(e.ID)
		}
	}
	if on := p.room.sfu.cfg.OnSpeaking; on != nil {
		up.onSpeaking = func(speaking bool) {
			on(Speaking{Room: p.room.id, Peer: p.id, Track: up.id, Speaking: speaking})
		}
	}
	p.log.Debug("track published", "track", up.id, "codec", remote.Codec().MimeType)
	p.room.publish(p, up, remote.Codec().RTPCodecCapability)
	defer p.room.unpublish(up)

	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			if _, _, err := receiver.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	if up.video {
		go func() {
			tick := time.NewTicker(rembInterval)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					p.pubWriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
						Bitrate: float32(up.videoRate()), SSRCs: []uint32{up.ssrc},
					}})
				}
			}
		}()
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		if err := up.forward(bytes.Clone(buf[:n])); err != nil {
			p.log.Debug("bad rtp", "track", up.id, "err", err)
		}
	}
}

func (p *Peer) pubWriteRTCP(pkts []rtcp.Packet) error {
	pub := p.pubConn.Load()
	if pub == nil {
		return ErrClosed
	}
	return pub.WriteRTCP(pkts)
}
