package media

import (
	"slices"
	"time"
)

// JitterConfig tunes a JitterBuffer; the zero value is the default.
type JitterConfig struct {
	// MinDelay and MaxDelay bound the target delay: how long a frame waits
	// after the earliest it could have arrived (default 20 and 80 ms).
	MinDelay, MaxDelay time.Duration
	// Capacity is how many frames ahead of the playout point are kept
	// (default 64, 1.28 s); packets further ahead are dropped.
	Capacity int
}

// Frame is one 20 ms frame due for playout. Exactly one of three cases:
// Payload is the frame's Opus packet; or Payload is nil and FEC is the
// next frame's packet, whose in-band FEC recovers this one; or both are
// nil and the decoder conceals the frame.
type Frame struct {
	// Timestamp is the frame's RTP timestamp.
	Timestamp uint32
	Payload   []byte
	FEC       []byte
	// Lost: the frame is missing and, as far as the sequence numbers tell
	// so far, a packet for it was sent (a missing frame with Lost false is
	// silence the sender did not send, DTX, or not yet known).
	Lost bool
	// Filler: not a frame of the stream but one Tick inserted because the
	// next was not due yet; the decoder conceals it.
	Filler bool
}

// Missing reports whether the frame has no packet of its own.
func (f Frame) Missing() bool { return f.Payload == nil }

// JitterStats counts what a JitterBuffer did with its packets and frames.
type JitterStats struct {
	Accepted  int // packets stored for playout
	Duplicate int // packets already stored
	Late      int // packets that came after their frame was played
	Dropped   int // packets off the stream: too far from the playout point, or numbered backwards
	Resyncs   int // restarts on a new stream or a jump in its numbers
	Played    int // frames played from their own packet
	Concealed int // frames played without their packet (Lost or not)
	Lost      int // concealed frames whose packet was sent
	Fillers   int // frames Tick inserted: the delay grew
	Skipped   int // frames Tick left out: the delay shrank or the device stalled
}

const (
	// transitWindow is how many recent packets the delay statistics cover
	// (2 s of audio): a jitter spike keeps the target up that long.
	transitWindow = 100
	// headroom is added to the measured jitter for the playout clock's own
	// wake-up jitter.
	headroom = 5 * time.Millisecond
	// shrinkStep is how far the target falls per packet when calm: at most
	// 50 ms a second, and only after the spike left transitWindow.
	shrinkStep = time.Millisecond
	// lossMemory is how many frames a loss keeps the target at two frames,
	// so that the next packet is there for FEC when one is lost (5 s).
	lossMemory = 250
	// resyncAfter packets in a row more than Capacity frames away from the
	// playout point, or numbered backwards, mean the sender restarted its
	// numbers; the buffer follows the new ones.
	resyncAfter = 8
)

// JitterBuffer reorders one sender's RTP packets and releases them as
// frames on a playout clock. A packet of frame s is due at
//
//	origin + s·20 ms + minTransit + target
//
// where transit is a packet's arrival time minus its media time, minTransit
// the smallest over the last transitWindow packets (the fastest path,
// following clock drift), and target the adaptive delay: the 95th
// percentile of transit above minTransit, plus headroom, within
// [MinDelay, MaxDelay]; it grows at once and shrinks a millisecond per
// packet. A larger target makes frames due later, a smaller one sooner:
// Pop hands them out on that schedule, and Tick, for a device that takes a
// frame every 20 ms, inserts a filler frame or skips one.
// Memory is bounded by Capacity frames. Not safe for concurrent use.
type JitterBuffer struct {
	cfg JitterConfig

	started bool // a packet was accepted
	playing bool // a frame was popped since the last resync
	ssrc    uint32
	origin  time.Time
	baseTS  int64 // extended timestamp of frame 0
	maxSeq  int64 // extended sequence number of the highest packet seen
	maxTS   int64
	next    int64 // the frame to play next
	ring    []entry
	held    int

	lastSeq    int64 // sequence number of the last packet played
	hasLastSeq bool
	lossAt     int64 // frame of the last loss
	lossSeen   bool
	strays     int

	transits   []time.Duration // ring of the last transitWindow
	transitPos int
	minTransit time.Duration
	target     time.Duration
	sorted     []time.Duration // scratch for the percentile

	stats JitterStats
}

type entry struct {
	used    bool
	frame   int64
	seq     int64
	payload []byte
}

// NewJitterBuffer returns an empty buffer.
func NewJitterBuffer(cfg JitterConfig) *JitterBuffer {
	if cfg.MinDelay <= 0 {
		cfg.MinDelay = 20 * time.Millisecond
	}
	if cfg.MaxDelay < cfg.MinDelay {
		cfg.MaxDelay = max(80*time.Millisecond, cfg.MinDelay)
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 64
	}
	return &JitterBuffer{
		cfg:      cfg,
		ring:     make([]entry, cfg.Capacity),
		transits: make([]time.Duration, 0, transitWindow),
		sorted:   make([]time.Duration, 0, transitWindow),
		target:   cfg.MinDelay,
	}
}

// PushResult says what Push did with a packet.
type PushResult int

// The results of Push.
const (
	Accepted PushResult = iota
	Duplicate
	Late
	Dropped
)

// Push stores a packet that arrived at the given time. The payload is
// copied. Packets of a new SSRC restart the buffer.
func (b *JitterBuffer) Push(p Packet, arrival time.Time) PushResult {
	if len(p.Payload) == 0 || len(p.Payload) > MaxPayload {
		b.stats.Dropped++
		return Dropped
	}
	if !b.started || p.SSRC != b.ssrc {
		b.resync(p, arrival)
	}
	seq := unwrap(b.maxSeq, int64(p.Seq), 16)
	ts := unwrap(b.maxTS, int64(p.Timestamp), 32)
	frame := floorDiv(ts-b.baseTS+FrameSamples/2, FrameSamples)
	if frame < b.next && !b.playing && b.maxFrame()-frame < int64(b.cfg.Capacity) {
		// Before playout starts, a packet from before the first one
		// received moves the start back.
		b.next = frame
	}
	// A packet newer in sequence but not in time means the sender's
	// numbers restarted: it is off the stream's timeline, like one too far
	// from the playout point.
	backwards := seq > b.maxSeq && ts <= b.maxTS
	if backwards || frame < b.next-int64(b.cfg.Capacity) || frame >= b.next+int64(b.cfg.Capacity) {
		if (b.held == 0 && frame >= b.next) || b.stray() {
			// With nothing held, a packet far ahead (after a long silence
			// nobody played out) is followed at once.
			b.resync(p, arrival)
			return b.Push(p, arrival)
		}
		b.stats.Dropped++
		return Dropped
	}
	b.strays = 0
	if frame < b.next {
		// A late packet is the jitter the target did not cover: measured.
		b.addTransit(b.transit(frame, arrival))
		b.stats.Late++
		return Late
	}
	e := &b.ring[b.index(frame)]
	if e.used {
		b.stats.Duplicate++
		return Duplicate
	}
	*e = entry{used: true, frame: frame, seq: seq, payload: slices.Clone(p.Payload)}
	b.held++
	b.maxSeq = max(b.maxSeq, seq)
	b.maxTS = max(b.maxTS, ts)
	b.stats.Accepted++
	b.addTransit(b.transit(frame, arrival))
	return Accepted
}

// stray counts a packet off the stream and reports whether it is the
// resyncAfter-th in a row, after which the buffer follows the new numbers.
func (b *JitterBuffer) stray() bool {
	b.strays++
	return b.strays >= resyncAfter
}

// resync restarts the buffer on packet p as frame 0.
func (b *JitterBuffer) resync(p Packet, arrival time.Time) {
	if b.started {
		b.stats.Resyncs++
	}
	clear(b.ring)
	*b = JitterBuffer{
		cfg: b.cfg, ring: b.ring, transits: b.transits[:0], sorted: b.sorted,
		target: b.cfg.MinDelay, stats: b.stats,
		started: true, ssrc: p.SSRC, origin: arrival,
		baseTS: int64(p.Timestamp), maxTS: int64(p.Timestamp), maxSeq: int64(p.Seq),
	}
}

// Pop returns the next frame if it is due at now. Once playout has
// started, frames come out one per call for consecutive timestamps, with
// or without their packet: call it until it returns false.
func (b *JitterBuffer) Pop(now time.Time) (Frame, bool) {
	due, ok := b.NextDue()
	if !ok || now.Before(due) {
		return Frame{}, false
	}
	b.playing = true
	f := Frame{Timestamp: uint32(b.baseTS + b.next*FrameSamples)}
	if e := &b.ring[b.index(b.next)]; e.used && e.frame == b.next {
		f.Payload = e.payload
		b.lastSeq, b.hasLastSeq = e.seq, true
		*e = entry{}
		b.held--
		b.stats.Played++
	} else {
		if e := b.ring[b.index(b.next+1)]; e.used && e.frame == b.next+1 {
			f.FEC = e.payload
		}
		f.Lost = b.sentMissing()
		b.stats.Concealed++
		if f.Lost {
			b.stats.Lost++
			b.lossAt, b.lossSeen = b.next, true
			b.retarget()
		}
	}
	b.next++
	return f, true
}

// Tick is Pop for a playout device that takes one frame every 20 ms on
// its own clock: it returns the frame to play at now, always one. When the
// next frame is not due yet (the target grew, or nothing arrived yet) it is
// a Filler and the stream waits; when the one after it is due too (the
// target shrank, or the device fell behind) the overdue frame is skipped,
// so the device's latency follows the target either way.
func (b *JitterBuffer) Tick(now time.Time) Frame {
	f, ok := b.Pop(now)
	if !ok {
		b.stats.Fillers++
		return Frame{Filler: true}
	}
	for {
		due, _ := b.NextDue()
		if now.Before(due) {
			return f
		}
		b.stats.Skipped++
		f, _ = b.Pop(now)
	}
}

// sentMissing reports whether the sequence numbers of the packets around
// the current frame show that a packet between them is missing.
func (b *JitterBuffer) sentMissing() bool {
	if !b.hasLastSeq {
		return false
	}
	for i := int64(1); i < int64(b.cfg.Capacity); i++ {
		if e := b.ring[b.index(b.next+i)]; e.used && e.frame == b.next+i {
			return e.seq-b.lastSeq > 1
		}
	}
	return false
}

// NextDue is when the next frame is due, once a packet has been received.
func (b *JitterBuffer) NextDue() (time.Time, bool) {
	if !b.started {
		return time.Time{}, false
	}
	return b.origin.Add(time.Duration(b.next)*FrameDuration + b.minTransit + b.target), true
}

// Delay is the current target delay.
func (b *JitterBuffer) Delay() time.Duration { return b.target }

// Stats returns the counts so far.
func (b *JitterBuffer) Stats() JitterStats { return b.stats }

// transit is a packet's arrival time less its media time, relative to the
// first packet.
func (b *JitterBuffer) transit(frame int64, arrival time.Time) time.Duration {
	return arrival.Sub(b.origin) - time.Duration(frame)*FrameDuration
}

func (b *JitterBuffer) addTransit(t time.Duration) {
	if len(b.transits) < transitWindow {
		b.transits = append(b.transits, t)
	} else {
		b.transits[b.transitPos] = t
		b.transitPos = (b.transitPos + 1) % transitWindow
	}
	b.minTransit = slices.Min(b.transits)
	b.retarget()
}

// retarget moves the target delay toward the 95th percentile of the recent
// transits above the fastest: up at once, down by shrinkStep.
func (b *JitterBuffer) retarget() {
	b.sorted = append(b.sorted[:0], b.transits...)
	slices.Sort(b.sorted)
	var jitter time.Duration
	if n := len(b.sorted); n > 0 {
		jitter = b.sorted[(n*95+99)/100-1] - b.minTransit
	}
	floor := b.cfg.MinDelay
	if b.lossSeen && b.next-b.lossAt < lossMemory {
		floor = max(floor, 2*FrameDuration)
	}
	want := min(max(jitter+headroom, floor), b.cfg.MaxDelay)
	switch {
	case want > b.target:
		b.target = want
	case want < b.target:
		b.target = max(want, b.target-shrinkStep)
	}
}

func (b *JitterBuffer) index(frame int64) int {
	return int(uint64(frame) % uint64(b.cfg.Capacity))
}

// maxFrame is the frame of the highest timestamp seen.
func (b *JitterBuffer) maxFrame() int64 {
	return floorDiv(b.maxTS-b.baseTS+FrameSamples/2, FrameSamples)
}

// unwrap extends a counter of the given bits that wraps around to the
// value nearest ref.
func unwrap(ref, v int64, bits uint) int64 {
	mod := int64(1) << bits
	d := (v - ref) & (mod - 1)
	if d >= mod/2 {
		d -= mod
	}
	return ref + d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
