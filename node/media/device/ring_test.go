package device

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/ancore/ancore/node/media"
)

// s16le is pcm as a device callback hands it over.
func s16le(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// ramp is n samples counting up from first.
func ramp(first, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(first + i)
	}
	return pcm
}

func TestCaptureRingCutsFrames(t *testing.T) {
	t.Parallel()
	r := newCaptureRing()
	// Device periods of 10 ms and 7.5 ms: frames come out whole, in order.
	for first, n := 0, 0; first < 3*media.FrameSamples; first += n {
		n = []int{480, 360}[first%2]
		r.write(s16le(ramp(first, n)))
	}
	pcm := make([]int16, media.FrameSamples)
	for f := range 3 {
		if err := r.readFrame(t.Context(), pcm); err != nil {
			t.Fatal(err)
		}
		for i, s := range pcm {
			if want := int16(f*media.FrameSamples + i); s != want {
				t.Fatalf("frame %d sample %d = %d, want %d", f, i, s, want)
			}
		}
	}
	if captured, dropped := r.stats(); captured != 3 || dropped != 0 {
		t.Errorf("stats: captured %d dropped %d, want 3 and 0", captured, dropped)
	}
}

func TestCaptureRingDropsOldestOnOverflow(t *testing.T) {
	t.Parallel()
	r := newCaptureRing()
	const frames = ringFrames + 3
	for f := range frames { // nobody reads: the callback must not wait
		r.write(s16le(ramp(f*media.FrameSamples, media.FrameSamples)))
	}
	if _, dropped := r.stats(); dropped != frames-ringFrames {
		t.Errorf("dropped %d frames, want %d", dropped, frames-ringFrames)
	}
	pcm := make([]int16, media.FrameSamples)
	for f := frames - ringFrames; f < frames; f++ {
		if err := r.readFrame(t.Context(), pcm); err != nil {
			t.Fatal(err)
		}
		if want := int16(f * media.FrameSamples); pcm[0] != want {
			t.Fatalf("frame starts with sample %d, want %d (the newest frames kept)", pcm[0], want)
		}
	}
}

func TestCaptureRingReadWaits(t *testing.T) {
	t.Parallel()
	r := newCaptureRing()
	got := make(chan error, 1)
	pcm := make([]int16, media.FrameSamples)
	go func() { got <- r.readFrame(context.Background(), pcm) }()
	r.write(s16le(ramp(1, media.FrameSamples/2)))
	r.write(s16le(ramp(1+media.FrameSamples/2, media.FrameSamples/2)))
	select {
	case err := <-got:
		if err != nil || pcm[0] != 1 || pcm[media.FrameSamples-1] != media.FrameSamples {
			t.Fatalf("readFrame: %v, frame %d..%d", err, pcm[0], pcm[media.FrameSamples-1])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("readFrame did not return once a frame was captured")
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { got <- r.readFrame(ctx, pcm) }()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("readFrame after cancel: %v", err)
	}
	go func() { got <- r.readFrame(context.Background(), pcm) }()
	r.close()
	if err := <-got; !errors.Is(err, ErrClosed) {
		t.Errorf("readFrame after close: %v, want ErrClosed", err)
	}
}

func TestPlaybackQueue(t *testing.T) {
	t.Parallel()
	p := newPlaybackQueue()
	p.push(ramp(0, media.FrameSamples))
	period := make([]byte, 2*480)
	for half := range 2 {
		p.fill(period)
		if first := int16(binary.LittleEndian.Uint16(period)); first != int16(half*480) {
			t.Fatalf("period %d starts with %d, want %d", half, first, half*480)
		}
	}
	for i := range period {
		period[i] = 0xff
	}
	p.fill(period) // empty: silence, one underrun
	for i, b := range period {
		if b != 0 {
			t.Fatalf("byte %d of an underrun is %#x, want silence", i, b)
		}
	}
	for f := range ringFrames + 2 { // the call ahead of the device: the oldest go
		p.push(ramp(f*media.FrameSamples, media.FrameSamples))
	}
	p.fill(period)
	if first := int16(binary.LittleEndian.Uint16(period)); first != 2*media.FrameSamples {
		t.Errorf("after overflow playback starts at %d, want %d", first, 2*media.FrameSamples)
	}
	if played, overflows, underruns := p.stats(); played != 1 || overflows != 2 || underruns != 1 {
		t.Errorf("stats: played %d overflows %d underruns %d, want 1, 2, 1", played, overflows, underruns)
	}
}
