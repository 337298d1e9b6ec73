package crdt

import "errors"

// Errors returned by Decode, DecodeSignal, Open and the views. Callers check them with
// errors.Is; the returned errors wrap these with detail.
var (
	// ErrTooLarge: the encoded op exceeds MaxOpSize.
	ErrTooLarge = errors.New("op too large")
	// ErrMalformed: the bytes are not a well-formed op.
	ErrMalformed = errors.New("malformed op")
	// ErrNonCanonical: the op decodes but is not in its one canonical encoding,
	// so accepting it would let the same op exist under two ids.
	ErrNonCanonical = errors.New("non-canonical op encoding")
	// ErrUnknownVersion: the op's format version is not one this code reads.
	ErrUnknownVersion = errors.New("unknown op version")
	// ErrUnknownKind: the op's kind is not one this code knows.
	ErrUnknownKind = errors.New("unknown op kind")
	// ErrBadSignature: the op's signature or its author's device certificate
	// does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrFromFuture: the op's clock is further ahead of the receiver's clock
	// than MaxClockSkew allows.
	ErrFromFuture = errors.New("op timestamp too far in the future")
	// ErrNoKey: the op is encrypted under an epoch key the reader lacks.
	ErrNoKey = errors.New("epoch key not available")
	// ErrDecrypt: the body does not authenticate under its epoch key.
	ErrDecrypt = errors.New("cannot decrypt op body")
	// ErrPurged: the op's body was dropped because its message was deleted.
	ErrPurged = errors.New("op body purged")
	// ErrBadBody: the decrypted body is not a well-formed body.
	ErrBadBody = errors.New("malformed op body")
	// ErrStale: a signal (presence, typing) sent more than MaxSignalAge
	// before the receiver's clock: it describes a moment that has passed.
	// (One from further ahead than MaxClockSkew is ErrFromFuture, as for
	// ops.)
	ErrStale = errors.New("signal too old")
	// ErrBadID: bytes or text that are not an Ancore id.
	ErrBadID = errors.New("invalid id")
)
