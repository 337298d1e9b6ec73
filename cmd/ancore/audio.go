package main

import (
	"log/slog"

	"github.com/ancore/ancore/node/app"
	"github.com/ancore/ancore/node/call"
	"github.com/ancore/ancore/node/media"
	"github.com/ancore/ancore/node/media/device"
)

// callAudio gives each call the machine's default microphone and speaker
// (node/media/device). In a build without the media tag node/app has no
// media engine to give them to, and calls stay unavailable.
func callAudio(log *slog.Logger) app.CallAudio {
	return func(in call.Info) (media.Source, media.Sink, error) {
		d, err := device.Open(device.Config{})
		if err != nil {
			return nil, nil, err
		}
		if d.Silent() {
			log.Warn("call without sound: no audio device opened, the null device stands in",
				"call", in.ID, "capture_silent", d.Capture.Silent(), "playback_silent", d.Playback.Silent())
		}
		return d.Capture, d.Playback, nil
	}
}
