// Package testwait is the one way tests wait for a condition: poll it
// until it holds or a deadline passes. Any folder's tests (and test
// helper packages such as relay/relaytest) may import it; programs do
// not.
package testwait

import (
	"testing"
	"time"
)

// Poll checks a condition every Every until it holds, for at most
// Timeout.
type Poll struct {
	Timeout time.Duration
	Every   time.Duration
}

// Until reports whether cond holds within the timeout. cond runs at least
// once, and once more after the deadline.
func (p Poll) Until(cond func() bool) bool {
	deadline := time.Now().Add(p.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(p.Every)
	}
	return true
}

// For waits until cond holds, failing t with "timed out waiting for
// <what>" when the timeout passes first.
func (p Poll) For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !p.Until(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}
