package testwait

import (
	"fmt"
	"testing"
	"time"
)

var quick = Poll{Timeout: 50 * time.Millisecond, Every: time.Millisecond}

func TestUntil(t *testing.T) {
	t.Parallel()
	calls := 0
	if !quick.Until(func() bool { calls++; return calls == 3 }) || calls != 3 {
		t.Errorf("Until stopped after %d calls, want true on the third", calls)
	}
	start := time.Now()
	if quick.Until(func() bool { return false }) {
		t.Error("Until reported a condition that never holds")
	}
	if waited := time.Since(start); waited < quick.Timeout {
		t.Errorf("Until gave up after %v, before the %v timeout", waited, quick.Timeout)
	}
}

// recorder is a testing.TB that records Fatalf instead of stopping.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestForNamesTheCondition(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	quick.For(r, "the kettle to boil", func() bool { return false })
	if want := "timed out waiting for the kettle to boil"; r.fatal != want {
		t.Errorf("For failed with %q, want %q", r.fatal, want)
	}
	r.fatal = ""
	quick.For(r, "nothing", func() bool { return true })
	if r.fatal != "" {
		t.Errorf("For failed on a condition that holds: %q", r.fatal)
	}
}
