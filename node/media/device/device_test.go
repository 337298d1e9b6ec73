//go:build media

package device

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ancore/ancore/node/media"
	"github.com/ancore/ancore/testwait"
	"github.com/gen2brain/malgo"
)

var (
	onlyNull = []malgo.Backend{nullBackend}
	// noSoundSystem stands for a machine without one: Android's backend,
	// which miniaudio has not compiled here.
	noSoundSystem = []malgo.Backend{malgo.BackendAaudio}
	poll          = testwait.Poll{Timeout: 20 * time.Second, Every: 10 * time.Millisecond}
)

// readFrames reads n frames from c, failing t if they do not come within
// the deadline.
func readFrames(t *testing.T, c *Capture, n int) [][]int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var frames [][]int16
	for range n {
		pcm := make([]int16, media.FrameSamples)
		for i := range pcm {
			pcm[i] = 1 // so that silence is what the device wrote
		}
		if err := c.ReadFrame(ctx, pcm); err != nil {
			t.Fatalf("frame %d: %v", len(frames), err)
		}
		frames = append(frames, pcm)
	}
	return frames
}

func TestNullCaptureYieldsSilentFrames(t *testing.T) {
	t.Parallel()
	c, err := openCapture("", onlyNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if !c.Silent() {
		t.Error("a capture on the null backend is not Silent")
	}
	for f, pcm := range readFrames(t, c, 10) {
		for i, s := range pcm {
			if s != 0 {
				t.Fatalf("frame %d sample %d = %d, want silence", f, i, s)
			}
		}
	}
	if captured, _ := c.ring.stats(); captured < 10 {
		t.Errorf("captured %d frames, read 10", captured)
	}

	got := make(chan error, 1)
	go func() { got <- c.ReadFrame(context.Background(), make([]int16, media.FrameSamples)) }()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Either the read took a frame captured before the close, or it ends
	// with the device.
	if err := <-got; err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrame at close: %v, want ErrClosed", err)
	}
	if err := c.ReadFrame(context.Background(), make([]int16, media.FrameSamples)); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrame after close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNullPlaybackConsumesFrames(t *testing.T) {
	t.Parallel()
	p, err := openPlayback("", onlyNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if !p.Silent() {
		t.Error("a playback on the null backend is not Silent")
	}
	for i := range 3 {
		p.WriteFrame(media.ToneFrame(440, 0.3, i))
	}
	poll.For(t, "the device to play the 3 frames and run dry", func() bool {
		played, _, underruns := p.queue.stats()
		return p.queue.queued() == 0 && played >= 3 && underruns > 0
	})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFallsBackToNullWithoutSoundSystem(t *testing.T) {
	t.Parallel()
	d, err := open(Config{}, noSoundSystem)
	if err != nil {
		t.Fatalf("open without a sound system: %v, want the null devices", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if !d.Silent() || !d.Capture.Silent() || !d.Playback.Silent() {
		t.Errorf("Silent: devices %v, capture %v, playback %v; want all true", d.Silent(), d.Capture.Silent(), d.Playback.Silent())
	}
	readFrames(t, d.Capture, 2)
	d.Playback.WriteFrame(make([]int16, media.FrameSamples))
	poll.For(t, "the fallback playback to play a frame", func() bool { return d.Stats().Played >= 1 })
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := list(noSoundSystem); !errors.Is(err, ErrNoSoundSystem) {
		t.Errorf("list without a sound system: %v, want ErrNoSoundSystem", err)
	}
}

// The machine's defaults open whatever it has: its sound system's
// devices, or else the null ones.
func TestOpenDefaults(t *testing.T) {
	t.Parallel()
	d, err := Open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	t.Logf("silent: capture %v, playback %v", d.Capture.Silent(), d.Playback.Silent())
	readFrames(t, d.Capture, 2)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	l, err := List()
	if errors.Is(err, ErrNoSoundSystem) {
		t.Logf("no sound system to list: %v", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range append(l.Capture, l.Playback...) {
		if in.ID == "" {
			t.Errorf("device %q has no ID", in.Name)
		}
	}
	t.Logf("devices: %+v", l)
}

// Devices that are gone give way to the defaults, here the null ones.
func TestUnknownDeviceFallsBack(t *testing.T) {
	t.Parallel()
	d, err := open(Config{Capture: "not hex", Playback: "00ff"}, noSoundSystem)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if !d.Silent() {
		t.Error("devices that cannot be found on a machine without sound are not Silent")
	}
	readFrames(t, d.Capture, 1)

	d, err = Open(Config{Capture: "not hex", Playback: "00ff"})
	if err != nil {
		t.Fatalf("unknown devices on this machine's sound system: %v, want its defaults", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	readFrames(t, d.Capture, 1)
}
