package crdt

import (
	"sync"
	"testing"
	"time"
)

// manualClock is a wall clock the test moves by hand.
type manualClock struct{ now time.Time }

func (c *manualClock) read() time.Time { return c.now }

func TestClockNowStrictlyIncreases(t *testing.T) {
	wall := &manualClock{now: testNow}
	c := NewClock(wall.read)
	var last HLC
	next := func(what string) HLC {
		t.Helper()
		h := c.Now()
		if h <= last {
			t.Fatalf("%s: Now() = %s, not after %s", what, h, last)
		}
		last = h
		return h
	}

	if h := next("first"); h != MakeHLC(testNow, 0) {
		t.Errorf("first Now() = %s, want %s", h, MakeHLC(testNow, 0))
	}
	for range 5 {
		next("wall clock standing still")
	}
	if last != MakeHLC(testNow, 5) {
		t.Errorf("after 6 reads in one millisecond: %s, want counter 5", last)
	}
	wall.now = testNow.Add(-time.Hour)
	for range 5 {
		next("wall clock gone backwards")
	}
	wall.now = testNow.Add(time.Second)
	if h := next("wall clock forward"); h != MakeHLC(wall.now, 0) {
		t.Errorf("after the wall clock passed the HLC: %s, want %s", h, MakeHLC(wall.now, 0))
	}
	// A full counter carries into the milliseconds and stays monotonic.
	c.Observe(MakeHLC(wall.now, 0xffff))
	last = MakeHLC(wall.now, 0xffff)
	if h := next("counter overflow"); h.Millis() != wall.now.Add(time.Millisecond).UnixMilli() || h.Counter() != 0 {
		t.Errorf("after counter 0xffff: %s", h)
	}
}

func TestClockObserve(t *testing.T) {
	wall := &manualClock{now: testNow}
	c := NewClock(wall.read)
	ahead := MakeHLC(testNow.Add(time.Minute), 3)
	c.Observe(ahead)
	if h := c.Now(); h != ahead+1 {
		t.Errorf("Now() after observing %s = %s, want %s", ahead, h, ahead+1)
	}
	c.Observe(MakeHLC(testNow, 0))
	if h := c.Now(); h != ahead+2 {
		t.Errorf("observing an older stamp moved the clock: Now() = %s, want %s", h, ahead+2)
	}
	wall.now = testNow.Add(2 * time.Minute)
	if h := c.Now(); h != MakeHLC(wall.now, 0) {
		t.Errorf("Now() once the wall clock passed = %s, want %s", h, MakeHLC(wall.now, 0))
	}
}

func TestClockDefaultsToWallTime(t *testing.T) {
	c := NewClock(nil)
	before := time.Now().UnixMilli()
	h := c.Now()
	after := time.Now().UnixMilli()
	if h.Millis() < before || h.Millis() > after {
		t.Errorf("Now() = %s, outside [%d, %d] ms", h, before, after)
	}
}

func TestClockConcurrentUse(t *testing.T) {
	wall := &manualClock{now: testNow}
	c := NewClock(wall.read)
	const goroutines, each = 8, 200
	got := make([][]HLC, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				got[g] = append(got[g], c.Now())
			}
			c.Observe(MakeHLC(testNow, uint16(g)))
		})
	}
	wg.Wait()
	seen := make(map[HLC]bool)
	for _, hs := range got {
		for i, h := range hs {
			if seen[h] {
				t.Fatalf("timestamp %s issued twice", h)
			}
			seen[h] = true
			if i > 0 && h <= hs[i-1] {
				t.Fatalf("one goroutine saw %s after %s", h, hs[i-1])
			}
		}
	}
}

func TestHLCParts(t *testing.T) {
	cases := []struct {
		t       time.Time
		counter uint16
	}{
		{time.UnixMilli(0), 0},
		{testNow, 0},
		{testNow, 1},
		{testNow.Add(999 * time.Microsecond), 0xffff},
		{time.UnixMilli(1<<48 - 1), 0xffff},
	}
	for _, c := range cases {
		h := MakeHLC(c.t, c.counter)
		if h.Millis() != c.t.UnixMilli() || h.Counter() != c.counter || !h.Time().Equal(c.t.Truncate(time.Millisecond)) {
			t.Errorf("MakeHLC(%v, %d) = %s: millis %d, counter %d, time %v", c.t, c.counter, h, h.Millis(), h.Counter(), h.Time())
		}
		if back := MakeHLC(h.Time(), h.Counter()); back != h {
			t.Errorf("MakeHLC(Time(), Counter()) = %s, want %s", back, h)
		}
	}
	if a, b := MakeHLC(testNow, 0xffff), MakeHLC(testNow.Add(time.Millisecond), 0); a >= b {
		t.Errorf("%s sorts after %s", a, b)
	}
	if got, want := MakeHLC(testNow, 7).String(), "2025-06-01T12:00:00Z#7"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
