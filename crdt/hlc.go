package crdt

import (
	"fmt"
	"sync"
	"time"
)

// HLC is a hybrid logical clock timestamp: the high 48 bits are Unix
// milliseconds, the low 16 bits a counter that orders events within one
// millisecond and keeps the clock monotonic when a peer's clock is ahead.
// Ops sort by (HLC, ID).
type HLC uint64

const hlcCounterBits = 16

// MakeHLC builds a timestamp from wall time and a counter.
func MakeHLC(t time.Time, counter uint16) HLC {
	return HLC(uint64(t.UnixMilli())<<hlcCounterBits | uint64(counter))
}

// Millis returns the wall-clock part in Unix milliseconds.
func (h HLC) Millis() int64 { return int64(h >> hlcCounterBits) }

// Time returns the wall-clock part.
func (h HLC) Time() time.Time { return time.UnixMilli(h.Millis()) }

// Counter returns the logical part.
func (h HLC) Counter() uint16 { return uint16(h) }

func (h HLC) String() string {
	return fmt.Sprintf("%s#%d", h.Time().UTC().Format(time.RFC3339Nano), h.Counter())
}

// Clock issues HLC timestamps that are strictly increasing and never behind
// any timestamp it has observed. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	last HLC
	now  func() time.Time
}

// NewClock returns a clock reading now; nil means time.Now.
func NewClock(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now}
}

// Now returns a timestamp later than every one issued or observed before.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := MakeHLC(c.now(), 0)
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe moves the clock past a timestamp seen on a received op. Decode
// has already refused timestamps further ahead than MaxClockSkew, so a peer
// cannot drag the clock arbitrarily far forward.
func (c *Clock) Observe(h HLC) {
	c.mu.Lock()
	if h > c.last {
		c.last = h
	}
	c.mu.Unlock()
}
