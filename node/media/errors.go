package media

import "errors"

// The errors of this package, checked with errors.Is.
var (
	// ErrUnavailable: the program was built without the media tag, so it has
	// no codec and cannot take part in calls.
	ErrUnavailable = errors.New("calls unavailable in this build: built without the media tag")
	// ErrBadPacket: bytes from the network are not an RTP packet of one
	// 20 ms Opus frame of the expected payload type.
	ErrBadPacket = errors.New("not an RTP packet of a 20 ms Opus frame")
	// ErrCodec: libopus refused a call (the wrapped text is libopus's).
	ErrCodec = errors.New("opus")
)
