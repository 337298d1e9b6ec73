package device

import (
	"context"
	"encoding/binary"
	"sync"

	"github.com/ancore/ancore/node/media"
)

// ringFrames is how many 20 ms frames each direction holds at most
// between the device and the call: enough to ride out a late wakeup of
// either side, little enough not to add audible delay.
const ringFrames = 5

// samples is a bounded FIFO of samples that drops its oldest when full.
// Its callers lock.
type samples struct {
	buf        []int16
	start, len int
}

func newSamples(capacity int) samples { return samples{buf: make([]int16, capacity)} }

// push appends s, dropping the oldest samples to make room; it returns
// how many it dropped.
func (q *samples) push(s int16) int {
	dropped := 0
	if q.len == len(q.buf) {
		q.start = (q.start + 1) % len(q.buf)
		q.len--
		dropped = 1
	}
	q.buf[(q.start+q.len)%len(q.buf)] = s
	q.len++
	return dropped
}

// pop takes the oldest sample.
func (q *samples) pop() int16 {
	s := q.buf[q.start]
	q.start = (q.start + 1) % len(q.buf)
	q.len--
	return s
}

// captureRing is between a capture device's callback (write) and the
// call's ReadFrame: the callback never waits, and when the call falls
// behind the oldest samples go.
type captureRing struct {
	mu       sync.Mutex
	q        samples
	captured uint64 // samples
	dropped  uint64 // samples
	ready    chan struct{}
	done     chan struct{}
	once     sync.Once
}

func newCaptureRing() *captureRing {
	return &captureRing{q: newSamples(ringFrames * media.FrameSamples), ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// write takes what the device captured, little-endian signed 16-bit.
func (r *captureRing) write(s16le []byte) {
	r.mu.Lock()
	for i := 0; i+1 < len(s16le); i += 2 {
		r.dropped += uint64(r.q.push(int16(binary.LittleEndian.Uint16(s16le[i:]))))
	}
	r.captured += uint64(len(s16le) / 2)
	full := r.q.len >= media.FrameSamples
	r.mu.Unlock()
	if full {
		select {
		case r.ready <- struct{}{}:
		default:
		}
	}
}

// readFrame fills pcm with the next 20 ms, waiting until they are
// captured.
func (r *captureRing) readFrame(ctx context.Context, pcm []int16) error {
	for {
		r.mu.Lock()
		if r.q.len >= media.FrameSamples {
			for i := range media.FrameSamples {
				pcm[i] = r.q.pop()
			}
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.done:
			return ErrClosed
		case <-r.ready:
		}
	}
}

func (r *captureRing) close() { r.once.Do(func() { close(r.done) }) }

// stats are the frames captured and dropped.
func (r *captureRing) stats() (captured, dropped uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.captured / media.FrameSamples, r.dropped / media.FrameSamples
}

// playbackQueue is between the call's WriteFrame (push) and a playback
// device's callback (fill): when the call is ahead the oldest frames go,
// when it is behind the device plays silence.
type playbackQueue struct {
	mu        sync.Mutex
	q         samples
	played    uint64 // samples
	overflows uint64 // samples
	underruns uint64 // device periods
}

func newPlaybackQueue() *playbackQueue {
	return &playbackQueue{q: newSamples(ringFrames * media.FrameSamples)}
}

// push queues a frame to play; it does not keep pcm.
func (p *playbackQueue) push(pcm []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range pcm {
		p.overflows += uint64(p.q.push(s))
	}
}

// fill writes the device's next period, little-endian signed 16-bit,
// silence where the queue runs out.
func (p *playbackQueue) fill(s16le []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(s16le) / 2
	i := 0
	for ; i < n && p.q.len > 0; i++ {
		binary.LittleEndian.PutUint16(s16le[2*i:], uint16(p.q.pop()))
	}
	p.played += uint64(i)
	if i < n {
		p.underruns++
		clear(s16le[2*i:])
	}
}

// queued is how many samples wait to be played.
func (p *playbackQueue) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.q.len
}

// stats are the frames played and dropped, and the underruns.
func (p *playbackQueue) stats() (played, overflows, underruns uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.played / media.FrameSamples, p.overflows / media.FrameSamples, p.underruns
}
