//go:build !media

package device

import (
	"context"

	"github.com/ancore/ancore/node/media"
)

// Without the media tag there are no devices: Open and List say so, and
// the types exist only so that callers build the same either way.

// Devices are unavailable in this build.
type Devices struct {
	Capture  *Capture
	Playback *Playback
}

// Open returns media.ErrUnavailable in this build.
func Open(Config) (*Devices, error) { return nil, media.ErrUnavailable }

// Silent is true in this build.
func (*Devices) Silent() bool { return true }

// Stats are zero in this build.
func (*Devices) Stats() Stats { return Stats{} }

// Close does nothing in this build.
func (*Devices) Close() error { return nil }

// Capture is unavailable in this build.
type Capture struct{}

// ReadFrame returns media.ErrUnavailable in this build.
func (*Capture) ReadFrame(context.Context, []int16) error { return media.ErrUnavailable }

// Silent is true in this build.
func (*Capture) Silent() bool { return true }

// Close does nothing in this build.
func (*Capture) Close() error { return nil }

// Playback is unavailable in this build.
type Playback struct{}

// WriteFrame drops pcm in this build.
func (*Playback) WriteFrame([]int16) {}

// Silent is true in this build.
func (*Playback) Silent() bool { return true }

// Close does nothing in this build.
func (*Playback) Close() error { return nil }

// List returns media.ErrUnavailable in this build.
func List() (Lists, error) { return Lists{}, media.ErrUnavailable }
