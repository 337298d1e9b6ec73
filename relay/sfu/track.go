package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// pliInterval is the shortest time between two keyframe requests sent to a
// publisher: every subscriber that joins or loses a frame asks, and a
// keyframe is several times the size of other frames.
const pliInterval = 500 * time.Millisecond

// DefaultQueueLen is a subscriber track's queue, in packets: 160 ms of
// 500 packet/s video, 2.5 s of Opus.
const DefaultQueueLen = 128

// upTrack is a publisher's track: every packet read from it is cached and
// handed to each subscriber's downTrack. Packets are forwarded as they
// came, payload untouched (it may be end-to-end encrypted), sequence
// numbers unchanged, so a subscriber's NACK names the cached packet.
type upTrack struct {
	id, streamID string
	video        bool
	ssrc         uint32
	audioLevelID uint8 // 0: no audio level header extension

	cache packetCache
	down  atomic.Pointer[[]*downTrack] // copy on write: the read loop never locks

	// upstream sends RTCP to the publisher; nil in the benchmark.
	upstream func([]rtcp.Packet) error
	// onSpeaking is called from the read loop when speech starts or stops.
	onSpeaking func(speaking bool)

	speaker speakerState // owned by the read loop

	mu      sync.Mutex
	lastPLI time.Time
}

// forward takes one packet read from the publisher. pkt must not be
// modified afterwards: the cache and every subscriber queue share it.
func (t *upTrack) forward(pkt []byte) error {
	var h rtp.Header
	if _, err := h.Unmarshal(pkt); err != nil {
		return err
	}
	t.cache.store(h.SequenceNumber, pkt)
	if t.audioLevelID != 0 && t.onSpeaking != nil {
		if ext := h.GetExtension(t.audioLevelID); ext != nil {
			var lvl rtp.AudioLevelExtension
			if lvl.Unmarshal(ext) == nil && t.speaker.observe(lvl.Level) {
				t.onSpeaking(t.speaker.speaking)
			}
		}
	}
	if down := t.down.Load(); down != nil {
		for _, d := range *down {
			d.enqueue(pkt)
		}
	}
	return nil
}

func (t *upTrack) attach(d *downTrack) {
	for {
		old := t.down.Load()
		var next []*downTrack
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, d)
		if t.down.CompareAndSwap(old, &next) {
			return
		}
	}
}

func (t *upTrack) detach(d *downTrack) {
	for {
		old := t.down.Load()
		if old == nil {
			return
		}
		next := make([]*downTrack, 0, len(*old))
		for _, x := range *old {
			if x != d {
				next = append(next, x)
			}
		}
		if t.down.CompareAndSwap(old, &next) {
			return
		}
	}
}

// requestKeyframe forwards a subscriber's PLI or FIR to the publisher as a
// PLI, at most once per pliInterval.
func (t *upTrack) requestKeyframe(now time.Time) {
	if t.upstream == nil || !t.video {
		return
	}
	t.mu.Lock()
	if now.Sub(t.lastPLI) < pliInterval {
		t.mu.Unlock()
		return
	}
	t.lastPLI = now
	t.mu.Unlock()
	t.upstream([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: t.ssrc}})
}

// videoRate is the lowest of the subscribers' estimates, floored at
// minVideoRate (see rate.go).
func (t *upTrack) videoRate() uint64 {
	rate := uint64(maxVideoRate)
	if down := t.down.Load(); down != nil {
		for _, d := range *down {
			rate = min(rate, d.rate.Load())
		}
	}
	return max(rate, minVideoRate)
}

// rtpWriter is where a subscriber's packets go: a TrackLocalStaticRTP in
// the subscriber's peer connection (which sets its SSRC and payload type
// and encrypts with SRTP), or an SRTP-over-UDP writer in the benchmark.
type rtpWriter interface {
	WriteRTP(*rtp.Packet) error
}

// downTrack is one subscriber's copy of an upTrack. A bounded queue and
// its own writer goroutine keep a subscriber that cannot keep up from
// stalling the publisher's read loop and so everyone else: when its queue
// is full its packets are dropped, and it recovers with NACKs (for what
// is still cached) and a keyframe request.
type downTrack struct {
	up   *upTrack
	w    rtpWriter
	q    chan []byte
	done chan struct{}
	once sync.Once

	// audioLevelID is the audio level extension's ID on the
	// subscriber's connection; 0 drops the extension.
	audioLevelID uint8

	dropped atomic.Uint64
	rate    atomic.Uint64 // video estimate, bit/s
}

func newDownTrack(up *upTrack, w rtpWriter, queueLen int) *downTrack {
	d := &downTrack{up: up, w: w, q: make(chan []byte, queueLen), done: make(chan struct{})}
	d.rate.Store(startVideoRate)
	return d
}

// enqueue never blocks: a full queue drops the packet.
func (d *downTrack) enqueue(pkt []byte) bool {
	select {
	case d.q <- pkt:
		return true
	default:
		d.dropped.Add(1)
		return false
	}
}

// run writes queued packets until close.
func (d *downTrack) run() {
	var p rtp.Packet
	for {
		select {
		case <-d.done:
			return
		case pkt := <-d.q:
			// Unmarshal only slices pkt; the writer copies the header
			// before setting its SSRC and never writes to the payload.
			if p.Unmarshal(pkt) == nil {
				d.mapExtensions(&p.Header)
				d.w.WriteRTP(&p)
			}
		}
	}
}

// mapExtensions renumbers the audio level extension from the publisher's
// ID to the subscriber's and drops the other extensions: IDs are
// negotiated per connection, and the others (mid, stream IDs, transport
// sequence numbers) describe the publisher's hop, not this one. The
// header is the writer's own copy; the extension's bytes stay shared.
func (d *downTrack) mapExtensions(h *rtp.Header) {
	if !h.Extension {
		return
	}
	from := d.up.audioLevelID
	if from != 0 && from == d.audioLevelID && len(h.Extensions) == 1 && h.GetExtension(from) != nil {
		return // the usual case: nothing to change
	}
	var level []byte
	if from != 0 {
		level = h.GetExtension(from)
	}
	h.Extensions = h.Extensions[:0]
	h.Extension = false
	if level != nil && d.audioLevelID != 0 {
		h.SetExtension(d.audioLevelID, level)
	}
}

// close stops the writer after the write in progress. It does not wait
// for that write: a writer stuck on a stalled path must not hold up
// whoever removes the track (a publisher leaving, for everyone).
func (d *downTrack) close() {
	d.once.Do(func() { close(d.done) })
}

// handleRTCP acts on the subscriber's feedback about this track: NACKs
// are answered from the cache (what is no longer cached is asked of the
// publisher), PLI and FIR become a rate-limited PLI upstream, receiver
// reports and REMB update the video rate estimate.
func (d *downTrack) handleRTCP(pkts []rtcp.Packet, now time.Time) {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.TransportLayerNack:
			var missing []uint16
			for _, pair := range p.Nacks {
				for _, seq := range pair.PacketList() {
					if pkt := d.up.cache.get(seq); pkt != nil {
						d.enqueue(pkt)
					} else {
						missing = append(missing, seq)
					}
				}
			}
			if len(missing) > 0 && d.up.upstream != nil {
				d.up.upstream([]rtcp.Packet{&rtcp.TransportLayerNack{
					MediaSSRC: d.up.ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(missing),
				}})
			}
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			d.up.requestKeyframe(now)
		case *rtcp.ReceiverReport:
			for _, r := range p.Reports {
				d.rate.Store(nextRate(d.rate.Load(), r.FractionLost))
			}
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			if b := uint64(p.Bitrate); b < d.rate.Load() {
				d.rate.Store(max(b, minVideoRate))
			}
		}
	}
}
