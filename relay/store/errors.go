package store

import "errors"

// The store's sentinel errors besides ErrNotFound (store.go); callers
// check them with errors.Is.
var (
	// ErrExists: a row with that unique key (an account's email, an
	// invite code) is already there.
	ErrExists = errors.New("already exists")
	// ErrExpired: the invite code's time is up.
	ErrExpired = errors.New("expired")
	// ErrRevoked: the invite code was revoked by its creator.
	ErrRevoked = errors.New("revoked")
	// ErrExhausted: the invite code has been used as often as it may be.
	ErrExhausted = errors.New("exhausted")
	// ErrFull: the account holds as many records as it may.
	ErrFull = errors.New("full")
)
