package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// stream is a sender's packets of frames 0..n-1 from a starting seq and
// timestamp, with the frames in drop left unsent (sequence numbers skip
// over a lost packet, not over a DTX frame: lost packets were numbered).
type stream struct {
	packets []Packet
	sent    []bool // by frame
}

func newStream(n int, seq0 uint16, ts0 uint32, drop func(frame int) bool) stream {
	s := stream{sent: make([]bool, n)}
	for i := range n {
		p := Packet{SSRC: 7, Seq: seq0 + uint16(i), Timestamp: ts0 + uint32(i*FrameSamples), Payload: framePayload(i)}
		if drop(i) {
			continue
		}
		s.sent[i] = true
		s.packets = append(s.packets, p)
	}
	return s
}

// framePayload is a payload that names its frame.
func framePayload(i int) []byte { return binary.BigEndian.AppendUint32([]byte{0xfc}, uint32(i)) }

type arrival struct {
	p  Packet
	at time.Duration // since the start of the simulation
}

// play runs a buffer on a simulated clock in 1 ms steps: packets are pushed
// when they arrive, then due frames popped, until n frames came out and all
// packets arrived, or the clock passes limit.
func play(b *JitterBuffer, arrivals []arrival, n int, limit time.Duration, each func(now time.Duration)) []Frame {
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return int(a.at - b.at) })
	t0 := time.Unix(1e9, 0)
	var out []Frame
	for now := time.Duration(0); now <= limit && (len(out) < n || len(arrivals) > 0); now += time.Millisecond {
		for len(arrivals) > 0 && arrivals[0].at <= now {
			b.Push(arrivals[0].p, t0.Add(arrivals[0].at))
			arrivals = arrivals[1:]
		}
		for len(out) < n {
			f, ok := b.Pop(t0.Add(now))
			if !ok {
				break
			}
			out = append(out, f)
		}
		if each != nil {
			each(now)
		}
	}
	return out
}

// A fixed delay of 80 ms covers any reordering from network delays of up
// to 60 ms: whatever order packets arrive in, and with duplicates, the same
// frames come out — each sent frame from its packet, each lost one missing
// with the next frame's packet as FEC when that was sent — across wraps of
// the sequence number and timestamp.
func TestJitterBufferOrderIndependent(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, 300).Draw(rt, "frames")
		seq0 := rapid.OneOf(rapid.Uint16(), rapid.Uint16Range(65535-300, 65535)).Draw(rt, "seq0")
		ts0 := rapid.OneOf(rapid.Uint32(), rapid.Uint32Range(1<<32-300*FrameSamples, 1<<32-1)).Draw(rt, "ts0")
		lost := rapid.SliceOfN(rapid.Bool(), n, n).Draw(rt, "lost")
		lost[0], lost[n-1] = false, false // the ends are what the receiver knows of the stream
		s := newStream(n, seq0, ts0, func(i int) bool { return lost[i] && rapid.Bool().Draw(rt, "drop") })

		var arrivals []arrival
		for _, p := range s.packets {
			i := int((p.Timestamp - ts0) / FrameSamples)
			sendAt := time.Duration(i) * FrameDuration
			copies := rapid.IntRange(1, 3).Draw(rt, "copies")
			for range copies {
				delay := time.Duration(rapid.IntRange(0, 60).Draw(rt, "delay")) * time.Millisecond
				arrivals = append(arrivals, arrival{p, sendAt + delay})
			}
		}
		b := NewJitterBuffer(JitterConfig{MinDelay: 80 * time.Millisecond, MaxDelay: 80 * time.Millisecond})
		out := play(b, arrivals, n, time.Duration(n)*FrameDuration+time.Second, nil)

		if len(out) != n {
			rt.Fatalf("%d frames out, want %d", len(out), n)
		}
		for i, f := range out {
			if want := ts0 + uint32(i*FrameSamples); f.Timestamp != want {
				rt.Fatalf("frame %d: timestamp %d, want %d", i, f.Timestamp, want)
			}
			if s.sent[i] {
				if !bytes.Equal(f.Payload, framePayload(i)) || f.FEC != nil || f.Lost {
					rt.Fatalf("frame %d: got %+v, want its packet", i, f)
				}
				continue
			}
			if f.Payload != nil {
				rt.Fatalf("frame %d was not sent but has a payload", i)
			}
			if s.sent[i+1] != (f.FEC != nil) || (f.FEC != nil && !bytes.Equal(f.FEC, framePayload(i+1))) {
				rt.Fatalf("frame %d: FEC %x, next frame sent: %v", i, f.FEC, s.sent[i+1])
			}
			if s.sent[i+1] && !f.Lost {
				rt.Fatalf("frame %d: missing with the next packet there, but not reported lost", i)
			}
		}
		st := b.Stats()
		if st.Late != 0 || st.Dropped != 0 || st.Played != len(s.packets) || st.Accepted != len(s.packets) || st.Duplicate != len(arrivals)-len(s.packets) {
			rt.Fatalf("stats %+v for %d packets, %d arrivals", st, len(s.packets), len(arrivals))
		}
	})
}

// Under any delays (up to 300 ms, beyond what the buffer waits), loss and
// duplicates, the buffer's invariants hold: consecutive timestamps, each
// frame's own payload at most once, every packet accounted for, the target
// within its bounds, and no more packets held than its capacity.
func TestJitterBufferInvariants(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 400).Draw(rt, "frames")
		seq0 := rapid.Uint16().Draw(rt, "seq0")
		ts0 := rapid.Uint32().Draw(rt, "ts0")
		s := newStream(n, seq0, ts0, func(int) bool { return rapid.IntRange(0, 9).Draw(rt, "loss") == 0 })
		var arrivals []arrival
		for _, p := range s.packets {
			i := int((p.Timestamp - ts0) / FrameSamples)
			for range rapid.IntRange(1, 2).Draw(rt, "copies") {
				delay := time.Duration(rapid.IntRange(0, 300).Draw(rt, "delay")) * time.Millisecond
				arrivals = append(arrivals, arrival{p, time.Duration(i)*FrameDuration + delay})
			}
		}
		b := NewJitterBuffer(JitterConfig{})
		out := play(b, arrivals, n, time.Duration(n)*FrameDuration+time.Second, func(time.Duration) {
			if d := b.Delay(); d < 20*time.Millisecond || d > 80*time.Millisecond {
				rt.Fatalf("target delay %v out of [20ms, 80ms]", d)
			}
			if b.held > b.cfg.Capacity {
				rt.Fatalf("%d packets held, capacity %d", b.held, b.cfg.Capacity)
			}
		})
		seen := map[int]bool{}
		for k, f := range out {
			if k > 0 && f.Timestamp != out[k-1].Timestamp+FrameSamples {
				rt.Fatalf("frame %d: timestamp %d after %d", k, f.Timestamp, out[k-1].Timestamp)
			}
			if f.Payload == nil {
				continue
			}
			i := int(binary.BigEndian.Uint32(f.Payload[1:]))
			if f.Timestamp != ts0+uint32(i*FrameSamples) || seen[i] {
				rt.Fatalf("frame %d: payload of frame %d (seen before: %v)", k, i, seen[i])
			}
			seen[i] = true
		}
		st := b.Stats()
		if st.Accepted+st.Duplicate+st.Late+st.Dropped != len(arrivals) {
			rt.Fatalf("stats %+v do not add up to %d arrivals", st, len(arrivals))
		}
		if st.Played != len(seen) || st.Played+st.Concealed != len(out) {
			rt.Fatalf("stats %+v for %d frames out, %d played", st, len(out), len(seen))
		}
	})
}

// A sender that restarts its sequence numbers and timestamps (same SSRC,
// any new numbers) is followed: within 4 s, the new stream's frames are
// played from their packets.
func TestJitterBufferFollowsRestart(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		n1 := rapid.IntRange(1, 100).Draw(rt, "before")
		const n2 = 200
		seq1, ts1 := rapid.Uint16().Draw(rt, "seq1"), rapid.Uint32().Draw(rt, "ts1")
		seq2, ts2 := rapid.Uint16().Draw(rt, "seq2"), rapid.Uint32().Draw(rt, "ts2")
		var arrivals []arrival
		for i := range n1 + n2 {
			p := Packet{SSRC: 5, Seq: seq1 + uint16(i), Timestamp: ts1 + uint32(i*FrameSamples), Payload: framePayload(i)}
			if i >= n1 {
				p.Seq, p.Timestamp = seq2+uint16(i-n1), ts2+uint32((i-n1)*FrameSamples)
			}
			// Less than the 20 ms floor of the target: only the restart
			// makes packets late.
			delay := time.Duration(rapid.IntRange(0, 15).Draw(rt, "delay")) * time.Millisecond
			arrivals = append(arrivals, arrival{p, time.Duration(i)*FrameDuration + delay})
		}
		b := NewJitterBuffer(JitterConfig{})
		out := play(b, arrivals, 1<<30, time.Duration(n1+n2)*FrameDuration+time.Second, nil)
		played := map[int]bool{}
		for _, f := range out {
			if f.Payload != nil {
				played[int(binary.BigEndian.Uint32(f.Payload[1:]))] = true
			}
		}
		for i := n1 + n2 - 10; i < n1+n2; i++ {
			if !played[i] {
				rt.Fatalf("frame %d of the restarted stream not played; stats %+v", i, b.Stats())
			}
		}
		if st := b.Stats(); st.Resyncs > 1 {
			rt.Fatalf("stats %+v: more than the one resync", st)
		}
	})
}

// The target stays at its floor on a calm link, grows with jitter and
// shrinks back once the link is calm again.
func TestJitterBufferAdapts(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	delay := func(i int) time.Duration {
		switch {
		case i < 200 || i >= 500: // calm
			return 5 * time.Millisecond
		case i < 400: // 0-50 ms of jitter
			return time.Duration(rng.IntN(50)) * time.Millisecond
		default: // 400 ms spikes, past the cap
			return time.Duration(i%5) * 100 * time.Millisecond
		}
	}
	const n = 800
	var arrivals []arrival
	for i := range n {
		p := Packet{SSRC: 1, Seq: uint16(i), Timestamp: uint32(i * FrameSamples), Payload: framePayload(i)}
		arrivals = append(arrivals, arrival{p, time.Duration(i)*FrameDuration + delay(i)})
	}
	b := NewJitterBuffer(JitterConfig{})
	target := map[int]time.Duration{} // by frame sent at that time
	play(b, arrivals, n, time.Duration(n+100)*FrameDuration, func(now time.Duration) {
		if now%FrameDuration == 0 {
			target[int(now/FrameDuration)] = b.Delay()
		}
	})
	for _, tc := range []struct {
		frame    int
		min, max time.Duration
		what     string
	}{
		{199, 20 * time.Millisecond, 20 * time.Millisecond, "calm link: the floor"},
		{399, 45 * time.Millisecond, 80 * time.Millisecond, "0-50 ms of jitter"},
		{499, 80 * time.Millisecond, 80 * time.Millisecond, "400 ms spikes: the cap"},
		{510, 60 * time.Millisecond, 80 * time.Millisecond, "just after the spikes: still up"},
		{799, 20 * time.Millisecond, 20 * time.Millisecond, "calm again: back at the floor"},
	} {
		if got := target[tc.frame]; got < tc.min || got > tc.max {
			t.Errorf("%s: target %v at frame %d, want %v-%v", tc.what, got, tc.frame, tc.min, tc.max)
		}
	}
	if st := b.Stats(); st.Late == 0 || st.Resyncs != 0 {
		t.Fatalf("stats %+v: spikes past the cap should make packets late, without a resync", st)
	}
}

// After a loss the target holds two frames, so that the packet after a
// lost one is there in time for its FEC.
func TestJitterBufferLossKeepsRoomForFEC(t *testing.T) {
	t.Parallel()
	b := NewJitterBuffer(JitterConfig{})
	t0 := time.Unix(1e9, 0)
	var frames []Frame
	for i := range 100 {
		at := t0.Add(time.Duration(i) * FrameDuration)
		if i != 50 {
			b.Push(Packet{SSRC: 1, Seq: uint16(i), Timestamp: uint32(i * FrameSamples), Payload: framePayload(i)}, at)
		}
		for {
			f, ok := b.Pop(at)
			if !ok {
				break
			}
			frames = append(frames, f)
		}
	}
	if b.Delay() != 2*FrameDuration {
		t.Fatalf("target %v after a loss, want %v", b.Delay(), 2*FrameDuration)
	}
	var lost []Frame
	for _, f := range frames {
		if f.Missing() {
			lost = append(lost, f)
		}
	}
	if len(lost) != 1 || !lost[0].Lost || lost[0].Timestamp != 50*FrameSamples {
		t.Fatalf("missing frames %+v, want frame 50, lost", lost)
	}
	if st := b.Stats(); st.Lost != 1 || st.Concealed != 1 {
		t.Fatalf("stats %+v, want one frame lost", st)
	}
}

// A DTX gap — timestamps move on, sequence numbers do not — is concealed
// but not counted as loss.
func TestJitterBufferDTXIsNotLoss(t *testing.T) {
	t.Parallel()
	b := NewJitterBuffer(JitterConfig{})
	t0 := time.Unix(1e9, 0)
	seq := uint16(0)
	var missing int
	for i := range 100 {
		at := t0.Add(time.Duration(i) * FrameDuration)
		if i < 30 || i >= 60 {
			b.Push(Packet{SSRC: 1, Seq: seq, Timestamp: uint32(i * FrameSamples), Payload: framePayload(i)}, at)
			seq++
		}
		for {
			f, ok := b.Pop(at)
			if !ok {
				break
			}
			if f.Missing() {
				missing++
				if f.Lost {
					t.Fatalf("DTX frame %d reported lost", f.Timestamp/FrameSamples)
				}
			}
		}
	}
	if st := b.Stats(); missing != 30 || st.Lost != 0 || st.Concealed != 30 {
		t.Fatalf("%d missing, stats %+v, want 30 concealed and none lost", missing, st)
	}
}

// A new SSRC, or a sender whose numbers jump, restarts the buffer.
func TestJitterBufferResyncs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		next func(i int) Packet
	}{
		{"new SSRC", func(i int) Packet {
			return Packet{SSRC: 2, Seq: uint16(9000 + i), Timestamp: uint32(7e6 + i*FrameSamples), Payload: framePayload(i)}
		}},
		{"numbers jump back", func(i int) Packet {
			return Packet{SSRC: 1, Seq: uint16(100 + i), Timestamp: uint32(1000 + i*FrameSamples), Payload: framePayload(i)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewJitterBuffer(JitterConfig{})
			t0 := time.Unix(1e9, 0)
			var out []Frame
			for i := range 40 {
				at := t0.Add(time.Duration(i) * FrameDuration)
				p := Packet{SSRC: 1, Seq: uint16(30000 + i), Timestamp: uint32(5e8 + i*FrameSamples), Payload: framePayload(i)}
				if i >= 20 {
					p = tc.next(i)
				}
				b.Push(p, at)
				for {
					f, ok := b.Pop(at)
					if !ok {
						break
					}
					out = append(out, f)
				}
			}
			if b.Stats().Resyncs != 1 {
				t.Fatalf("stats %+v, want one resync", b.Stats())
			}
			last := out[len(out)-1]
			if !bytes.Equal(last.Payload, framePayload(39)) && !bytes.Equal(last.Payload, framePayload(38)) {
				t.Fatalf("last frame %+v: the new stream is not played", last)
			}
		})
	}
}

func TestUnwrap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ref, v, want int64 }{
		{65535, 0, 65536},
		{65536, 65535, 65535},
		{3, 65533, -3},
		{100, 200, 200},
		{70000, 4464, 70000},
	} {
		if got := unwrap(tc.ref, tc.v, 16); got != tc.want {
			t.Errorf("unwrap(%d, %d) = %d, want %d", tc.ref, tc.v, got, tc.want)
		}
	}
	if got := unwrap(1<<32-960, 0, 32); got != 1<<32 {
		t.Errorf("unwrap 32 bits over the wrap: %d", got)
	}
}

func ExampleJitterBuffer() {
	b := NewJitterBuffer(JitterConfig{})
	t0 := time.Unix(0, 0)
	for _, i := range []int{0, 2, 1, 4} { // 1 arrives after 2; 3 is lost
		b.Push(Packet{SSRC: 1, Seq: uint16(i), Timestamp: uint32(i * FrameSamples), Payload: framePayload(i)}, t0.Add(time.Duration(i)*FrameDuration))
	}
	for now := t0; now.Before(t0.Add(200 * time.Millisecond)); now = now.Add(time.Millisecond) {
		for f, ok := b.Pop(now); ok && f.Timestamp <= 4*FrameSamples; f, ok = b.Pop(now) {
			fmt.Printf("%d payload=%x fec=%x lost=%v\n", f.Timestamp/FrameSamples, f.Payload, f.FEC, f.Lost)
		}
	}
	// Output:
	// 0 payload=fc00000000 fec= lost=false
	// 1 payload=fc00000001 fec= lost=false
	// 2 payload=fc00000002 fec= lost=false
	// 3 payload= fec=fc00000004 lost=true
	// 4 payload=fc00000004 fec= lost=false
}

// A device ticking every 20 ms on its own clock gets exactly one frame a
// tick: in order on a steady link, fillers when the target grows, skipped
// frames when it shrinks, and its latency follows the target.
func TestJitterBufferTick(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	delay := func(i int) time.Duration {
		if i >= 200 && i < 300 {
			return time.Duration(rng.IntN(60)) * time.Millisecond
		}
		return 2 * time.Millisecond
	}
	const n = 800
	var arrivals []arrival
	for i := range n {
		p := Packet{SSRC: 1, Seq: uint16(i), Timestamp: uint32(i * FrameSamples), Payload: framePayload(i)}
		arrivals = append(arrivals, arrival{p, time.Duration(i)*FrameDuration + delay(i)})
	}
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return int(a.at - b.at) })
	b := NewJitterBuffer(JitterConfig{})
	t0 := time.Unix(1e9, 0)
	const phase = 7 * time.Millisecond // of the device's clock against the sender's
	var ticks []Frame
	latency := map[int]time.Duration{} // by frame
	for tick := phase; tick < time.Duration(n)*FrameDuration; tick += FrameDuration {
		for len(arrivals) > 0 && arrivals[0].at <= tick {
			b.Push(arrivals[0].p, t0.Add(arrivals[0].at))
			arrivals = arrivals[1:]
		}
		f := b.Tick(t0.Add(tick))
		ticks = append(ticks, f)
		if !f.Filler {
			i := int(f.Timestamp / FrameSamples)
			latency[i] = tick - time.Duration(i)*FrameDuration
		}
	}
	var last = -1
	for k, f := range ticks {
		if f.Filler {
			continue
		}
		i := int(f.Timestamp / FrameSamples)
		if i <= last {
			t.Fatalf("tick %d: frame %d after frame %d", k, i, last)
		}
		last = i
	}
	st := b.Stats()
	t.Logf("stats %+v; latency of frames 150, 299, 790: %v %v %v", st, latency[150], latency[299], latency[790])
	if st.Fillers == 0 || st.Skipped == 0 {
		t.Fatalf("stats %+v: the jitter should have grown the delay (fillers) and the calm after it shrunk it (skips)", st)
	}
	if len(ticks) != st.Fillers+st.Played+st.Concealed-st.Skipped {
		t.Fatalf("%d ticks, stats %+v: want one frame a tick", len(ticks), st)
	}
	// Calm before and after: the frame's own 2 ms, the 20 ms target and
	// the device's phase, within a frame.
	for _, i := range []int{150, 790} {
		if l := latency[i]; l < 20*time.Millisecond || l > 45*time.Millisecond {
			t.Errorf("frame %d played %v after it was sent, want 20-45 ms", i, l)
		}
	}
	if l := latency[299]; l < 45*time.Millisecond {
		t.Errorf("frame 299, at the end of the jitter, played %v after it was sent: the delay did not grow", l)
	}
}
