package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestPacketCache(t *testing.T) {
	var c packetCache
	var newest uint16
	for i := range 3 * cacheSize {
		newest = uint16(65000 + i) // wraps past 65535
		c.store(newest, []byte{byte(i)})
	}
	if got := c.get(newest); len(got) != 1 || got[0] != byte((3*cacheSize-1)%256) {
		t.Fatalf("newest packet: %v", got)
	}
	if c.get(newest-cacheSize+1) == nil {
		t.Fatal("the oldest packet still in the window is gone")
	}
	if c.get(newest-cacheSize) != nil {
		t.Fatal("a packet older than the window was returned")
	}
}

func TestSpeakerState(t *testing.T) {
	var s speakerState
	for range 20 {
		if s.observe(90) {
			t.Fatal("quiet packets started speech")
		}
	}
	for i := range speakOn {
		if changed := s.observe(30); changed != (i == speakOn-1) {
			t.Fatalf("loud packet %d: changed %v", i, changed)
		}
	}
	for i := range quietPackets {
		if changed := s.observe(127); changed != (i == quietPackets-1) {
			t.Fatalf("quiet packet %d: changed %v", i, changed)
		}
	}
	if s.speaking {
		t.Fatal("still speaking after silence")
	}
}

func TestNextRate(t *testing.T) {
	if got := nextRate(1_000_000, 0); got != 1_050_000 {
		t.Errorf("no loss: %d, want 1050000", got)
	}
	if got := nextRate(1_000_000, 12); got != 1_000_000 { // ~5 %
		t.Errorf("5 %% loss: %d, want it held", got)
	}
	if got := nextRate(1_000_000, 64); got != 875_000 { // 25 %
		t.Errorf("25 %% loss: %d, want 875000", got)
	}
	if got := nextRate(minVideoRate, 255); got != minVideoRate {
		t.Errorf("floor: %d", got)
	}
	if got := nextRate(maxVideoRate, 0); got != maxVideoRate {
		t.Errorf("ceiling: %d", got)
	}
}

func TestKeyframeRequestsRateLimited(t *testing.T) {
	var sent []rtcp.Packet
	up := &upTrack{video: true, ssrc: 7, upstream: func(p []rtcp.Packet) error { sent = append(sent, p...); return nil }}
	d := newDownTrack(up, nil, 1)
	now := time.Unix(1000, 0)
	for i := range 10 {
		d.handleRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: 99}}, now.Add(time.Duration(i)*10*time.Millisecond))
	}
	d.handleRTCP([]rtcp.Packet{&rtcp.FullIntraRequest{MediaSSRC: 99}}, now.Add(pliInterval))
	if len(sent) != 2 {
		t.Fatalf("%d keyframe requests upstream, want 2", len(sent))
	}
	if pli, ok := sent[0].(*rtcp.PictureLossIndication); !ok || pli.MediaSSRC != 7 {
		t.Fatalf("upstream %v, want a PLI for the publisher's SSRC", sent[0])
	}
}

func TestUncachedNACKGoesUpstream(t *testing.T) {
	var sent []rtcp.Packet
	up := &upTrack{ssrc: 7, upstream: func(p []rtcp.Packet) error { sent = append(sent, p...); return nil }}
	up.cache.store(10, []byte("ten"))
	d := newDownTrack(up, nil, 4)
	d.handleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: 99, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{10, 11})}}, time.Now())
	if got := <-d.q; string(got) != "ten" {
		t.Fatalf("queued %q, want the cached packet", got)
	}
	if len(sent) != 1 {
		t.Fatalf("upstream: %v", sent)
	}
	n := sent[0].(*rtcp.TransportLayerNack)
	if n.MediaSSRC != 7 || len(n.Nacks) != 1 || n.Nacks[0].PacketList()[0] != 11 || len(n.Nacks[0].PacketList()) != 1 {
		t.Fatalf("upstream NACK %+v, want 11 of SSRC 7", n)
	}
}

func TestVideoRateIsTheLowestSubscriberFloored(t *testing.T) {
	up := &upTrack{video: true}
	good, poor := newDownTrack(up, nil, 1), newDownTrack(up, nil, 1)
	up.attach(good)
	up.attach(poor)
	good.handleRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 2_000_000}}, time.Now())
	poor.handleRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 300_000}}, time.Now())
	if got := up.videoRate(); got != 300_000 {
		t.Fatalf("rate %d, want the poor subscriber's 300000", got)
	}
	for range 20 {
		poor.handleRTCP([]rtcp.Packet{&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{FractionLost: 128}}}}, time.Now())
	}
	if got := up.videoRate(); got != minVideoRate {
		t.Fatalf("rate %d under heavy loss, want the floor %d", got, minVideoRate)
	}
	up.detach(poor)
	if got := up.videoRate(); got != startVideoRate {
		t.Fatalf("rate %d without the poor subscriber, want %d", got, startVideoRate)
	}
}
