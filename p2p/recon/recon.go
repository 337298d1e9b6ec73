// Package recon finds which ops two peers' copies of a log differ by, with
// range-based set reconciliation after Negentropy
// (https://logperiodic.com/rbsr.html). It is pure logic: it turns messages
// into messages, and the caller carries them over a stream.
//
// Both peers hold a log as a set of items (HLC, ID) in log order. The
// initiator sends fingerprints of ranges of its set; the responder compares
// them with its own. Equal ranges are done; different ones are split into
// smaller ranges, or, once small, listed ID by ID. A few round trips and
// bytes roughly proportional to the difference later, the initiator knows
// both directions of the difference: have, the IDs it holds that the peer
// lacks, and need, the IDs the peer holds that it lacks. The responder
// learns nothing; the caller on the initiating side sends the have ops and
// asks for the need ops. Each ID is reported once, in the round that first
// teaches it.
//
// A Reconciler does not bound the number of rounds: a faulty peer can keep
// a session going, so the transport bounds its time and bytes.
//
// A session keeps no state between rounds beyond the two sets and the
// message in flight, so an interrupted reconciliation simply starts again
// with a new Reconciler and Initiate: it costs the fingerprint rounds again,
// and ops transferred in the meantime are in the sets by then.
//
// The wire format is described in message.go.
package recon

import "errors"

const (
	// ProtocolVersion is the first byte of every message.
	ProtocolVersion byte = 1
	// MaxMessageSize bounds every message, sent or accepted. A reply that
	// would grow past it stops answering ranges and hands the rest back, to
	// be continued next round. Listing n differing IDs takes at least
	// 32n/MaxMessageSize round trips, so 1 MiB rather than less: a peer
	// missing 100k ops reconciles in about 6 round trips.
	MaxMessageSize = 1 << 20
	// Buckets is how many ranges a range that differs is split into, at
	// most; fewer if they would hold very few items.
	Buckets = 16
	// IDListThreshold is the most items a side lists ID by ID, rather than
	// splitting, a range in which many items differ. Buckets and
	// IDListThreshold are each side's own choice, not part of the wire
	// format: a peer answers whatever ranges it is sent.
	IDListThreshold = 64
)

var (
	// ErrMalformed reports a message that does not decode, or that breaks
	// the protocol: ranges out of order, a count larger than the message, a
	// mode the receiver's role cannot be sent, an answer that does not fit
	// the range it answers. The peer is faulty; drop the session.
	ErrMalformed = errors.New("recon: malformed message")
	// ErrVersion reports a message of a protocol version this package does
	// not speak.
	ErrVersion = errors.New("recon: unsupported protocol version")
	// ErrState reports a Reconciler used out of turn: Initiate after the
	// session started, or Reconcile after Done.
	ErrState = errors.New("recon: reconciler used out of turn")
)
