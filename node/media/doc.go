// Package media is the audio half of the call engine: the Opus codec, RTP
// packets of Opus frames, the adaptive jitter buffer that turns packets
// arriving from the network into frames on a playout clock, and a call's
// audio session (Session) that puts them on a pion/webrtc connection with
// every payload sealed end to end (node/media/sframe). It owns no
// signaling and no device: the app carries a session's descriptions and
// candidates through the calls feature, and hands it the sound as a Source
// and a Sink and the community's epoch keys as Keys.
//
// Audio is Opus at 48 kHz, mono, in 20 ms frames (960 samples), with in-band
// FEC (each packet carries a low-bitrate copy of the frame before it) and
// DTX (nothing is sent during silence).
//
// The codec is libopus through cgo, with a binding of our own (opus_media.go)
// to Debian's libopus-dev rather than hraban/opus: the dozen calls we need
// are small, libopus's controls are variadic C macros that need C shims
// either way, and hraban/opus would need its own build tag (nolibopusfile,
// or libopusfile-dev installed) beside ours. Native code is behind the build
// tag `media`; without it the package still builds, pure Go, and
// NewEncoder and NewDecoder return ErrUnavailable, so `go build ./...`
// needs no C library and a build without calls says why.
//
// The jitter buffer (JitterBuffer) works in milliseconds, not packets
// (pion/interceptor's counts packets): its target delay follows the
// measured jitter between 20 and 80 ms, growing at once and shrinking
// slowly, and it tells the caller which frames are missing so the decoder
// conceals them or recovers them from the FEC of the next packet. It is
// pure Go, driven by the caller's clock (every call takes the time), so its
// tests run on an injected clock.
package media
