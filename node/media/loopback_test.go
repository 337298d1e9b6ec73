package media

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// newCallPeer is one end of a loopback call.
func newCallPeer(tb testing.TB) *webrtc.PeerConnection {
	tb.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	var m webrtc.MediaEngine
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCapability, PayloadType: testPT}, webrtc.RTPCodecTypeAudio); err != nil {
		tb.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	return pc
}

var opusCapability = webrtc.RTPCodecCapability{
	MimeType: webrtc.MimeTypeOpus, ClockRate: SampleRate, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1",
}

// connectCall negotiates caller → callee (no trickle: loopback gathers at
// once) and waits until both are connected.
func connectCall(tb testing.TB, caller, callee *webrtc.PeerConnection) {
	tb.Helper()
	connected := make(chan struct{}, 2)
	for _, pc := range []*webrtc.PeerConnection{caller, callee} {
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected {
				connected <- struct{}{}
			}
		})
	}
	describe := func(pc *webrtc.PeerConnection, create func(*webrtc.PeerConnection) (webrtc.SessionDescription, error)) webrtc.SessionDescription {
		d, err := create(pc)
		if err != nil {
			tb.Fatal(err)
		}
		gathered := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(d); err != nil {
			tb.Fatal(err)
		}
		<-gathered
		return *pc.LocalDescription()
	}
	offer := describe(caller, func(pc *webrtc.PeerConnection) (webrtc.SessionDescription, error) { return pc.CreateOffer(nil) })
	if err := callee.SetRemoteDescription(offer); err != nil {
		tb.Fatal(err)
	}
	answer := describe(callee, func(pc *webrtc.PeerConnection) (webrtc.SessionDescription, error) { return pc.CreateAnswer(nil) })
	if err := caller.SetRemoteDescription(answer); err != nil {
		tb.Fatal(err)
	}
	for range 2 {
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			tb.Fatal("timed out waiting for the loopback call to connect")
		}
	}
}

// BenchmarkCallAudioLatency: synthetic capture of a 440 Hz tone on a 20 ms
// clock → Opus → RTP on a pion/webrtc PeerConnection (TrackLocalStaticRTP,
// DTLS-SRTP over loopback UDP) → jitter buffer → decode → playout
// callback, 1000 frames. p95-ms is from the end of a frame's capture (the
// tick of the capture clock, when a device hands over its 20 ms) to the
// playout callback receiving its decoded samples; device buffers are
// outside it. cpu-pct is the process's CPU time (both sides, pion
// included) over wall time, halved: per call side, in % of one core.
func BenchmarkCallAudioLatency(b *testing.B) {
	skipWithoutCodec(b)
	for range b.N {
		r := runLoopbackCall(b, 1000)
		b.ReportMetric(r.percentile(50), "p50-ms")
		b.ReportMetric(r.percentile(95), "p95-ms")
		b.ReportMetric(r.cpuPct, "cpu-pct")
	}
}

// The benchmark's path as a test, shorter: the tone arrives over a real
// PeerConnection pair (runLoopbackCall checks it), whatever the timing.
func TestCallAudioLoopback(t *testing.T) {
	skipWithoutCodec(t)
	runLoopbackCall(t, 150)
}

func skipWithoutCodec(tb testing.TB) {
	tb.Helper()
	if _, err := NewEncoder(EncoderConfig{}); errors.Is(err, ErrUnavailable) {
		tb.Skip("needs the codec: run with -tags media")
	}
}

type loopbackResult struct {
	latencies []time.Duration // sorted
	cpuPct    float64
}

func (r loopbackResult) percentile(pct int) float64 {
	return float64(r.latencies[(len(r.latencies)*pct+99)/100-1]) / float64(time.Millisecond)
}

func runLoopbackCall(b testing.TB, frames int) loopbackResult {
	caller, callee := newCallPeer(b), newCallPeer(b)
	track, err := webrtc.NewTrackLocalStaticRTP(opusCapability, "audio", "ancore")
	if err != nil {
		b.Fatal(err)
	}
	sender, err := caller.AddTrack(track)
	if err != nil {
		b.Fatal(err)
	}
	go func() { // RTCP from the callee; pion needs it read
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()

	var (
		mu        sync.Mutex
		start     time.Time // of the capture clock
		latencies []time.Duration
		played    []int16
	)
	rng := rand.New(rand.NewPCG(1, 1))
	ts0 := rng.Uint32()
	jb := NewJitterBuffer(JitterConfig{})
	arrived := make(chan struct{}, 1)
	done := make(chan struct{})
	dec, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()

	// The playout clock: a frame is played when the buffer says it is due,
	// woken early when a packet arrives (the target may have moved).
	playout := func() {
		pcm := make([]int16, FrameSamples)
		timer := time.NewTimer(time.Hour)
		for {
			mu.Lock()
			for {
				f, ok := jb.Pop(time.Now())
				if !ok {
					break
				}
				if _, err := dec.DecodeFrame(f, pcm); err != nil {
					b.Error(err)
				}
				i := int(f.Timestamp-ts0) / FrameSamples
				if i >= frames {
					mu.Unlock()
					close(done)
					return
				}
				// The playout callback: samples handed to the device.
				latency := time.Since(start.Add(time.Duration(i+1) * FrameDuration))
				if latency < 0 {
					b.Errorf("frame %d played %v before it was captured", i, -latency)
				}
				latencies = append(latencies, latency)
				played = append(played, pcm...)
				if i == frames-1 {
					mu.Unlock()
					close(done)
					return
				}
			}
			due, ok := jb.NextDue()
			mu.Unlock()
			if ok {
				timer.Reset(time.Until(due))
			}
			select {
			case <-timer.C:
			case <-arrived:
			}
		}
	}
	callee.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go playout()
		for {
			p, _, err := remote.ReadRTP()
			if err != nil {
				return
			}
			at := time.Now()
			packet, err := FromRTP(p, testPT)
			if err != nil {
				b.Error(err)
				continue
			}
			mu.Lock()
			jb.Push(packet, at)
			mu.Unlock()
			select {
			case arrived <- struct{}{}:
			default:
			}
		}
	})
	connectCall(b, caller, callee)

	enc, err := NewEncoder(EncoderConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	z := NewPacketizer(rng.Uint32(), testPT, uint16(rng.Uint32()), ts0)
	buf := make([]byte, MaxPayload)

	var before syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		b.Fatal(err)
	}
	mu.Lock()
	start = time.Now()
	mu.Unlock()
	for i := range frames {
		// The capture device hands over frame i when its last sample is in,
		// on its own clock; a sender that fell behind finds it waiting.
		captured := start.Add(time.Duration(i+1) * FrameDuration)
		time.Sleep(time.Until(captured))
		packet, err := enc.Encode(ToneFrame(440, 0.3, i), buf)
		if err != nil {
			b.Fatal(err)
		}
		if p, ok := z.Frame(packet); ok {
			if err := track.WriteRTP(p); err != nil {
				b.Fatal(err)
			}
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.Fatal("timed out waiting for the last frame to play out")
	}
	wall := time.Since(start)
	var after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		b.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	st := jb.Stats()
	b.Logf("%d frames played, %d concealed, %d late; target delay at the end %v", st.Played, st.Concealed, st.Late, jb.Delay())
	if len(latencies) < frames*9/10 {
		b.Fatalf("%d of %d frames played", len(latencies), frames)
	}
	if a, other := ToneLevel(played, 440), ToneLevel(played, 1000); a < 0.15 || other > a/20 {
		b.Fatalf("played audio: 440 Hz at %.3f, 1 kHz at %.3f; the tone did not come through", a, other)
	}
	slices.Sort(latencies)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	return loopbackResult{latencies: latencies, cpuPct: 100 * cpu.Seconds() / wall.Seconds() / 2}
}
