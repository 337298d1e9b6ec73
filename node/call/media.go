package call

import "context"

// Media makes the media sessions of calls: the media engine implements
// it. The session descriptions and candidates it produces are opaque to
// this package, which only carries them (within MaxSDP and
// MaxCandidate).
type Media interface {
	// NewSession makes the session of a call; events report what it
	// finds (its candidates, its connection) from any goroutine; what
	// comes after the call ended is ignored.
	NewSession(call Info, events SessionEvents) (Session, error)
}

// SessionEvents is how a session reports to the call.
type SessionEvents struct {
	// Candidate is a local ICE candidate to trickle to the other side.
	Candidate func(candidate string)
	// State is the media connection's state changing.
	State func(MediaState)
}

// MediaState is the state of a session's media connection.
type MediaState uint8

const (
	// MediaConnected: media flows (at first, or again).
	MediaConnected MediaState = iota + 1
	// MediaDisconnected: the connection was lost and may come back.
	MediaDisconnected
	// MediaFailed: the connection is lost for good.
	MediaFailed
)

// Session is one call's media connection, as the call drives it. The
// caller's session makes the offer and takes the answer; the callee's
// answers the offer. Candidates come after the remote description.
type Session interface {
	Offer(ctx context.Context) (sdp string, err error)
	Answer(ctx context.Context, offer string) (sdp string, err error)
	SetAnswer(ctx context.Context, answer string) error
	AddCandidate(candidate string) error
	Close() error
}
