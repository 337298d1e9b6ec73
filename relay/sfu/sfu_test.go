package sfu

import (
	"bytes"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/testwait"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

var wait = testwait.Poll{Timeout: 30 * time.Second, Every: 5 * time.Millisecond}

func loopbackOnly(se *webrtc.SettingEngine) {
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
}

func newSFU(t *testing.T, cfg Config) *SFU {
	t.Helper()
	cfg.Settings = loopbackOnly
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clientOpts choose a test client's interceptors.
type clientOpts struct {
	// nackResponder lets the publisher answer NACKs itself; without it
	// a retransmission can only come from the SFU's cache.
	nackResponder bool
	// noReplayProtection turns SRTP replay protection off on the
	// subscriber, so that a retransmission of a packet already received
	// is seen again.
	noReplayProtection bool
	// otherExtensionFirst registers another header extension before the
	// audio level, so the client numbers the audio level differently
	// from the SFU.
	otherExtensionFirst bool
	// video publishes VP8 instead of Opus.
	video bool
}

// client is a participant built on pion as a node would be: a publishing
// and a subscribing connection to the SFU, signaled by calls.
type client struct {
	t    *testing.T
	api  *webrtc.API
	peer *Peer
	sub  *webrtc.PeerConnection

	pub        *webrtc.PeerConnection
	track      *webrtc.TrackLocalStaticRTP
	sender     *webrtc.RTPSender
	levelID    uint8
	seq        uint16
	nacksHeard chan *rtcp.TransportLayerNack
	video      bool
	heard      chan rtcp.Packet // every other RTCP packet the publisher gets

	mu       sync.Mutex
	got      map[string]map[uint16]*rtp.Packet // stream id → seq → packet
	subLevel uint8                             // the audio level's ID on the subscribing connection
}

func newClient(t *testing.T, room *Room, id string, opts clientOpts) *client {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	if err := me.RegisterCodec(vp8, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	if opts.otherExtensionFirst {
		for _, uri := range []string{sdp.ABSSendTimeURI, sdp.TransportCCURI} {
			if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeAudio); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(gen)
	if opts.nackResponder {
		resp, err := nack.NewResponderInterceptor()
		if err != nil {
			t.Fatal(err)
		}
		reg.Add(resp)
	}
	var se webrtc.SettingEngine
	loopbackOnly(&se)
	se.DisableSRTPReplayProtection(opts.noReplayProtection)
	c := &client{t: t, api: webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)),
		got: map[string]map[uint16]*rtp.Packet{}, nacksHeard: make(chan *rtcp.TransportLayerNack, 64),
		video: opts.video, heard: make(chan rtcp.Packet, 256)}
	c.sub, err = c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.sub.Close() })
	c.sub.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		for _, e := range recv.GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI {
				c.mu.Lock()
				c.subLevel = uint8(e.ID)
				c.mu.Unlock()
			}
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			c.mu.Lock()
			m := c.got[tr.StreamID()]
			if m == nil {
				m = map[uint16]*rtp.Packet{}
				c.got[tr.StreamID()] = m
			}
			if _, dup := m[p.SequenceNumber]; dup {
				m[p.SequenceNumber^0x8000] = p // a retransmission, kept aside
			}
			m[p.SequenceNumber] = p
			c.mu.Unlock()
		}
	})
	offers := make(chan webrtc.SessionDescription, 16)
	c.peer, err = room.Join(id, func(o webrtc.SessionDescription) { offers <- o })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.peer.Leave)
	go func() {
		for o := range offers {
			if c.sub.SetRemoteDescription(o) != nil {
				return
			}
			answer, err := c.sub.CreateAnswer(nil)
			if err != nil {
				return
			}
			gathered := webrtc.GatheringCompletePromise(c.sub)
			if c.sub.SetLocalDescription(answer) != nil {
				return
			}
			<-gathered
			if c.peer.Answer(*c.sub.LocalDescription()) != nil {
				return
			}
		}
	}()
	return c
}

// publish sends one Opus (or VP8) track to the SFU.
func (c *client) publish() {
	t := c.t
	t.Helper()
	var err error
	if c.pub, err = c.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.pub.Close() })
	codec, id := opus.RTPCodecCapability, "audio"
	if c.video {
		codec, id = vp8.RTPCodecCapability, "camera"
	}
	if c.track, err = webrtc.NewTrackLocalStaticRTP(codec, id, c.peer.ID()); err != nil {
		t.Fatal(err)
	}
	if c.sender, err = c.pub.AddTrack(c.track); err != nil {
		t.Fatal(err)
	}
	for _, e := range c.sender.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			c.levelID = uint8(e.ID)
		}
	}
	go func() {
		for {
			pkts, _, err := c.sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if n, ok := p.(*rtcp.TransportLayerNack); ok {
					select {
					case c.nacksHeard <- n:
					default:
					}
					continue
				}
				select {
				case c.heard <- p:
				default:
				}
			}
		}
	}()
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pub)
	if err := c.pub.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	answer, err := c.peer.Publish(*c.pub.LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.pub.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}
}

// send writes one packet; level 0 means no audio level extension.
func (c *client) send(payload []byte, level uint8) uint16 {
	c.t.Helper()
	c.seq++
	p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: c.seq, Timestamp: uint32(c.seq) * 960}, Payload: payload}
	if level != 0 {
		ext, err := rtp.AudioLevelExtension{Level: level, Voice: level <= loudLevel}.Marshal()
		if err != nil {
			c.t.Fatal(err)
		}
		if err := p.Header.SetExtension(c.levelID, ext); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := c.track.WriteRTP(p); err != nil {
		c.t.Fatal(err)
	}
	return c.seq
}

func (c *client) packet(stream string, seq uint16) *rtp.Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[stream][seq]
}

func (c *client) count(stream string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got[stream])
}

// warmUp sends until every subscriber receives from pub, so that what
// follows finds every connection up.
func warmUp(t *testing.T, pub *client, subs ...*client) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	wait.For(t, "every subscriber to receive", func() bool {
		<-tick.C
		pub.send([]byte("warm-up"), 0)
		for _, s := range subs {
			if s.count(pub.peer.ID()) == 0 {
				return false
			}
		}
		return true
	})
}

// sendPaced sends n random payloads at a steady pace (the SFU queues a
// burst; this test is about delivery, not queue size).
func sendPaced(pub *client, n int, level uint8) map[uint16][]byte {
	sent := map[uint16][]byte{}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for range n {
		<-tick.C
		payload := make([]byte, 80)
		rand.Read(payload)
		sent[pub.send(payload, level)] = payload
	}
	return sent
}

func receivedAll(sent map[uint16][]byte, stream string, subs ...*client) func() bool {
	return func() bool {
		for _, s := range subs {
			for seq := range sent {
				if s.packet(stream, seq) == nil {
					return false
				}
			}
		}
		return true
	}
}

func TestFanOutByteIdentical(t *testing.T) {
	s := newSFU(t, Config{})
	room := s.Room("call")
	var subs []*client
	for _, id := range []string{"b", "c", "d", "e", "f"} {
		subs = append(subs, newClient(t, room, id, clientOpts{}))
	}
	pub := newClient(t, room, "a", clientOpts{nackResponder: true})
	pub.publish()
	warmUp(t, pub, subs...)

	sent := sendPaced(pub, 300, 0)
	wait.For(t, "every packet at every subscriber", receivedAll(sent, "a", subs...))
	for _, sub := range subs {
		for seq, payload := range sent {
			if got := sub.packet("a", seq); !bytes.Equal(got.Payload, payload) {
				t.Fatalf("subscriber %s, packet %d: payload %x, want %x", sub.peer.ID(), seq, got.Payload, payload)
			}
		}
	}
	if pub.count("a") != 0 {
		t.Fatal("the publisher received its own track")
	}
}

func TestNACKAnsweredFromCache(t *testing.T) {
	s := newSFU(t, Config{})
	room := s.Room("call")
	sub := newClient(t, room, "b", clientOpts{noReplayProtection: true})
	pub := newClient(t, room, "a", clientOpts{}) // no responder: only the SFU can retransmit
	pub.publish()
	warmUp(t, pub, sub)
	sent := sendPaced(pub, 20, 0)
	wait.For(t, "the packets", receivedAll(sent, "a", sub))

	var seq uint16
	for seq = range sent {
		break
	}
	var ssrc uint32
	for _, r := range sub.sub.GetReceivers() {
		if tr := r.Track(); tr != nil {
			ssrc = uint32(tr.SSRC())
		}
	}
	nack := &rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{seq})}
	if err := sub.sub.WriteRTCP([]rtcp.Packet{nack}); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the retransmission", func() bool { return sub.packet("a", seq^0x8000) != nil })
	if got := sub.packet("a", seq^0x8000); got.SequenceNumber != seq || !bytes.Equal(got.Payload, sent[seq]) {
		t.Fatalf("retransmission: seq %d payload %x, want %d %x", got.SequenceNumber, got.Payload, seq, sent[seq])
	}
	select {
	case n := <-pub.nacksHeard:
		t.Fatalf("the SFU asked the publisher for a cached packet: %v", n)
	default:
	}
}

// blockedWriter stands for a subscriber whose path has stalled: its first
// write blocks until the test ends.
type blockedWriter struct{ gate chan struct{} }

func (w blockedWriter) WriteRTP(*rtp.Packet) error {
	<-w.gate
	return nil
}

func TestSlowSubscriberDoesNotStallOthers(t *testing.T) {
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	cfg := Config{wrap: func(peer string, w rtpWriter) rtpWriter {
		if peer == "slow" {
			return blockedWriter{gate}
		}
		return w
	}}
	s := newSFU(t, cfg)
	room := s.Room("call")
	slow := newClient(t, room, "slow", clientOpts{})
	subs := []*client{newClient(t, room, "b", clientOpts{}), newClient(t, room, "c", clientOpts{})}
	pub := newClient(t, room, "a", clientOpts{nackResponder: true})
	pub.publish()
	warmUp(t, pub, subs...)

	sent := sendPaced(pub, 2*DefaultQueueLen, 0)
	wait.For(t, "every packet at the other subscribers", receivedAll(sent, "a", subs...))
	slow.peer.mu.Lock()
	var dropped uint64
	for _, s := range slow.peer.downs {
		dropped += s.down.dropped.Load()
	}
	slow.peer.mu.Unlock()
	if dropped == 0 {
		t.Fatal("the stalled subscriber's queue dropped nothing")
	}
	if slow.count("a") != 0 {
		t.Fatal("the stalled subscriber received packets")
	}

	// The publisher leaves while that subscriber's write is stuck: its
	// track is withdrawn from everyone all the same.
	pub.peer.Leave()
	wait.For(t, "the track withdrawn", func() bool {
		room.mu.Lock()
		tracks := len(room.tracks)
		room.mu.Unlock()
		slow.peer.mu.Lock()
		defer slow.peer.mu.Unlock()
		return tracks == 0 && len(slow.peer.downs) == 0
	})
}

func TestSpeakingEvents(t *testing.T) {
	events := make(chan Speaking, 16)
	s := newSFU(t, Config{OnSpeaking: func(e Speaking) { events <- e }})
	room := s.Room("call")
	sub := newClient(t, room, "b", clientOpts{})
	pub := newClient(t, room, "a", clientOpts{nackResponder: true})
	pub.publish()
	warmUp(t, pub, sub)

	// Room noise and a click: no speech. The subscriber having them all
	// means the SFU's read loop has seen them.
	noise := sendPaced(pub, 30, 90)
	noise[pub.send(make([]byte, 80), 5)] = nil
	noise = mergeSent(noise, sendPaced(pub, 30, 90))
	wait.For(t, "the noise", receivedAll(noise, "a", sub))
	select {
	case e := <-events:
		t.Fatalf("noise made an event: %+v", e)
	default:
	}

	sendPaced(pub, 10, 20)
	want := Speaking{Room: "call", Peer: "a", Track: "audio", Speaking: true}
	if e := nextEvent(t, events); e != want {
		t.Fatalf("after speech: %+v, want %+v", e, want)
	}
	sendPaced(pub, quietPackets, 127)
	want.Speaking = false
	if e := nextEvent(t, events); e != want {
		t.Fatalf("after silence: %+v, want %+v", e, want)
	}
}

func mergeSent(a, b map[uint16][]byte) map[uint16][]byte {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func nextEvent(t *testing.T, events chan Speaking) Speaking {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(wait.Timeout):
		t.Fatal("timed out waiting for a speaking event")
		return Speaking{}
	}
}

// TestAudioLevelRenumbered: a publisher that numbers its header
// extensions differently from the subscriber still reaches it with the
// audio level under the subscriber's ID, and the SFU reads it.
func TestAudioLevelRenumbered(t *testing.T) {
	events := make(chan Speaking, 16)
	s := newSFU(t, Config{OnSpeaking: func(e Speaking) { events <- e }})
	room := s.Room("call")
	sub := newClient(t, room, "b", clientOpts{})
	pub := newClient(t, room, "a", clientOpts{nackResponder: true, otherExtensionFirst: true})
	pub.publish()
	warmUp(t, pub, sub)
	sub.mu.Lock()
	subID := sub.subLevel
	sub.mu.Unlock()
	if subID == 0 || subID == pub.levelID {
		t.Fatalf("audio level IDs: publisher %d, subscriber %d; the test needs two different ones", pub.levelID, subID)
	}

	sent := sendPaced(pub, 10, 20)
	wait.For(t, "the packets", receivedAll(sent, "a", sub))
	for seq := range sent {
		p := sub.packet("a", seq)
		var lvl rtp.AudioLevelExtension
		if err := lvl.Unmarshal(p.GetExtension(subID)); err != nil || lvl.Level != 20 || !lvl.Voice {
			t.Fatalf("packet %d: audio level %+v (%v) under ID %d, want 20 with voice", seq, lvl, err, subID)
		}
		if ids := p.GetExtensionIDs(); len(ids) != 1 {
			t.Fatalf("packet %d: extensions %v, want the audio level alone", seq, ids)
		}
	}
	if e := nextEvent(t, events); !e.Speaking {
		t.Fatalf("event %+v, want speaking", e)
	}
}

// TestVideoPublisherFeedback: a video publisher is asked for a keyframe
// when a subscriber arrives and is told a rate (REMB) within the SFU's
// bounds.
func TestVideoPublisherFeedback(t *testing.T) {
	s := newSFU(t, Config{})
	room := s.Room("call")
	pub := newClient(t, room, "a", clientOpts{video: true, nackResponder: true})
	pub.publish()
	sub := newClient(t, room, "b", clientOpts{})
	warmUp(t, pub, sub)
	ssrc := uint32(pub.sender.GetParameters().Encodings[0].SSRC)

	var pli, remb bool
	deadline := time.After(wait.Timeout)
	for !pli || !remb {
		select {
		case p := <-pub.heard:
			switch p := p.(type) {
			case *rtcp.PictureLossIndication:
				pli = pli || p.MediaSSRC == ssrc
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				if len(p.SSRCs) == 1 && p.SSRCs[0] == ssrc {
					if p.Bitrate < minVideoRate || p.Bitrate > maxVideoRate {
						t.Fatalf("REMB %v bit/s, outside %d-%d", p.Bitrate, minVideoRate, maxVideoRate)
					}
					remb = true
				}
			}
		case <-deadline:
			t.Fatalf("timed out waiting for feedback: PLI %v, REMB %v", pli, remb)
		}
	}
}

// TestRejoinReplaces: a peer joining again under its id replaces the
// earlier one, which has left, and receives the room's tracks.
func TestRejoinReplaces(t *testing.T) {
	s := newSFU(t, Config{})
	room := s.Room("call")
	first := newClient(t, room, "b", clientOpts{})
	pub := newClient(t, room, "a", clientOpts{nackResponder: true})
	pub.publish()
	warmUp(t, pub, first)

	second := newClient(t, room, "b", clientOpts{})
	if err := first.peer.Answer(webrtc.SessionDescription{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("the replaced peer answers: %v, want ErrClosed", err)
	}
	room.mu.Lock()
	current := room.peers["b"]
	room.mu.Unlock()
	if current != second.peer {
		t.Fatal("the room does not hold the new peer")
	}
	warmUp(t, pub, second)
}
