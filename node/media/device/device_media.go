//go:build media

package device

// #include <stdlib.h>
import "C"

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ancore/ancore/node/media"
	"github.com/gen2brain/malgo"
)

// nullBackend is miniaudio's null device: malgo v0.11.24's BackendNull
// is off by one (it names ma_backend_custom), so the value is spelled out.
const nullBackend = malgo.Backend(14)

// soundSystems are the backends a device is looked for on, in
// miniaudio's order of preference; each is tried only where it exists.
// The null backend is not among them: miniaudio would fall back to it
// without saying so.
var soundSystems = []malgo.Backend{
	malgo.BackendWasapi, malgo.BackendDsound, malgo.BackendWinmm, malgo.BackendCoreaudio,
	malgo.BackendSndio, malgo.BackendAudio4, malgo.BackendOss,
	malgo.BackendPulseaudio, malgo.BackendAlsa, malgo.BackendJack,
}

// periodMillis is how often the device calls back: half a frame, so a
// frame is ready soon after it is complete.
const periodMillis = 10

// Devices are a call's capture and playback devices.
type Devices struct {
	Capture  *Capture
	Playback *Playback
}

// Open opens the capture and playback devices cfg names (the defaults
// when it names none, or when a named one is gone) and starts them. A
// direction with no real device opens on the null backend instead, silent (Silent says so); Open fails
// only when not even that opens.
func Open(cfg Config) (*Devices, error) { return open(cfg, soundSystems) }

func open(cfg Config, backends []malgo.Backend) (*Devices, error) {
	c, err := openCapture(cfg.Capture, backends)
	if err != nil {
		return nil, err
	}
	p, err := openPlayback(cfg.Playback, backends)
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return &Devices{Capture: c, Playback: p}, nil
}

// Silent reports whether either direction runs on the null backend: the
// call connects, but nothing is heard or nothing is played.
func (d *Devices) Silent() bool { return d.Capture.Silent() || d.Playback.Silent() }

// Stats count what the devices did so far.
func (d *Devices) Stats() Stats {
	var s Stats
	s.Captured, s.Dropped = d.Capture.ring.stats()
	s.Played, s.Overflows, s.Underruns = d.Playback.queue.stats()
	return s
}

// Close stops and closes both devices.
func (d *Devices) Close() error { return errors.Join(d.Capture.Close(), d.Playback.Close()) }

// Capture is a microphone as a media.Source.
type Capture struct {
	ring *captureRing
	dev  *opened
}

var _ media.Source = (*Capture)(nil)

func openCapture(id string, backends []malgo.Backend) (*Capture, error) {
	c := &Capture{ring: newCaptureRing()}
	dev, err := openFallback(malgo.Capture, id, backends, func(_, in []byte, _ uint32) { c.ring.write(in) })
	if err != nil {
		return nil, fmt.Errorf("open capture device: %w", err)
	}
	c.dev = dev
	return c, nil
}

// ReadFrame fills pcm with the next 20 ms captured, waiting for them; it
// returns ErrClosed once the device is closed.
func (c *Capture) ReadFrame(ctx context.Context, pcm []int16) error {
	return c.ring.readFrame(ctx, pcm)
}

// Silent reports whether the capture runs on the null backend.
func (c *Capture) Silent() bool { return c.dev.silent }

// Close stops the device; a waiting ReadFrame returns ErrClosed. It may
// be called more than once.
func (c *Capture) Close() error {
	c.ring.close()
	return c.dev.close()
}

// Playback is a speaker as a media.Sink.
type Playback struct {
	queue *playbackQueue
	dev   *opened
}

var _ media.Sink = (*Playback)(nil)

func openPlayback(id string, backends []malgo.Backend) (*Playback, error) {
	p := &Playback{queue: newPlaybackQueue()}
	dev, err := openFallback(malgo.Playback, id, backends, func(out, _ []byte, _ uint32) { p.queue.fill(out) })
	if err != nil {
		return nil, fmt.Errorf("open playback device: %w", err)
	}
	p.dev = dev
	return p, nil
}

// WriteFrame queues a 20 ms frame to play.
func (p *Playback) WriteFrame(pcm []int16) { p.queue.push(pcm) }

// Silent reports whether the playback runs on the null backend.
func (p *Playback) Silent() bool { return p.dev.silent }

// Close stops the device. It may be called more than once.
func (p *Playback) Close() error { return p.dev.close() }

// opened is a started malgo device and its context.
type opened struct {
	ctx    *malgo.AllocatedContext
	dev    *malgo.Device
	silent bool

	once     sync.Once
	closeErr error
}

// openFallback opens the device of kind id names on the first of
// backends that has it, else (a device unplugged since it was chosen) the
// default device, else the null device.
func openFallback(kind malgo.DeviceType, id string, backends []malgo.Backend, data malgo.DataProc) (*opened, error) {
	dev, err := openOn(kind, id, backends, data)
	if err == nil {
		return dev, nil
	}
	if id != "" {
		dev, derr := openOn(kind, "", backends, data)
		if derr == nil {
			return dev, nil
		}
		err = errors.Join(err, derr)
	}
	dev, nerr := openOn(kind, "", []malgo.Backend{nullBackend}, data)
	if nerr != nil {
		return nil, errors.Join(err, fmt.Errorf("null backend: %w", nerr))
	}
	return dev, nil
}

func openOn(kind malgo.DeviceType, id string, backends []malgo.Backend, data malgo.DataProc) (*opened, error) {
	ctx, err := malgo.InitContext(backends, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSoundSystem, err)
	}
	fail := func(err error) (*opened, error) {
		_ = ctx.Uninit()
		ctx.Free()
		return nil, err
	}
	cfg := malgo.DefaultDeviceConfig(kind)
	cfg.SampleRate = media.SampleRate
	cfg.PeriodSizeInMilliseconds = periodMillis
	sub := malgo.SubConfig{Format: malgo.FormatS16, Channels: 1}
	if id != "" {
		raw, err := hex.DecodeString(id)
		var devID malgo.DeviceID
		if err != nil || len(raw) > len(devID) {
			return fail(fmt.Errorf("device ID %q: not one of List's", id))
		}
		copy(devID[:], raw)
		// C memory: the device config goes to C, which may not keep Go
		// pointers.
		sub.DeviceID = devID.Pointer()
		defer C.free(sub.DeviceID)
	}
	if kind == malgo.Capture {
		cfg.Capture = sub
	} else {
		cfg.Playback = sub
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: data})
	if err != nil {
		return fail(err)
	}
	if err := dev.Start(); err != nil {
		dev.Uninit()
		return fail(err)
	}
	return &opened{ctx: ctx, dev: dev, silent: slices.Equal(backends, []malgo.Backend{nullBackend})}, nil
}

func (o *opened) close() error {
	o.once.Do(func() {
		o.dev.Uninit() // stops it first, after its callback returned
		o.closeErr = o.ctx.Uninit()
		o.ctx.Free()
	})
	return o.closeErr
}

// List lists the capture and playback devices of the first sound system
// that starts.
func List() (Lists, error) { return list(soundSystems) }

func list(backends []malgo.Backend) (Lists, error) {
	ctx, err := malgo.InitContext(backends, malgo.ContextConfig{}, nil)
	if err != nil {
		return Lists{}, fmt.Errorf("list audio devices: %w: %w", ErrNoSoundSystem, err)
	}
	defer func() {
		_ = ctx.Uninit()
		ctx.Free()
	}()
	var l Lists
	for _, k := range []struct {
		kind malgo.DeviceType
		into *[]Info
	}{{malgo.Capture, &l.Capture}, {malgo.Playback, &l.Playback}} {
		infos, err := ctx.Devices(k.kind)
		if err != nil {
			return Lists{}, fmt.Errorf("list audio devices: %w", err)
		}
		for _, in := range infos {
			*k.into = append(*k.into, Info{ID: in.ID.String(), Name: in.Name(), Default: in.IsDefault != 0})
		}
	}
	return l, nil
}
