package account

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ancore/ancore/httpjson"
	"github.com/prometheus/client_golang/prometheus"
)

// Rate is a token bucket's shape: Burst requests at once, then one more
// every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

func (r Rate) orDefault(d Rate) Rate {
	if r.Burst <= 0 || r.Every <= 0 {
		return d
	}
	return r
}

// DefaultMaxTrackedKeys bounds the keys a Limiter tracks unless told
// otherwise: about 10 MB of buckets.
const DefaultMaxTrackedKeys = 100_000

// Limiter keeps a token bucket per key (a client IP, an email) in memory.
// It tracks at most maxKeys keys: a bucket that has refilled is the same
// as none and is dropped, and when the limiter is full the key idle the
// longest makes room.
type Limiter struct {
	name    string
	rate    Rate
	maxKeys int
	now     func() time.Time
	limited prometheus.Counter

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	lru     *list.List               // front: used last
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time // when tokens was right
}

// tokensAt is what the bucket holds at now.
func (b *bucket) tokensAt(now time.Time, r Rate) float64 {
	elapsed := max(now.Sub(b.at), 0)
	return min(b.tokens+float64(elapsed)/float64(r.Every), float64(r.Burst))
}

// NewLimiter makes a limiter. name labels its refusals in the counter
// ancore_relay_rate_limited_total, which every limiter registered with reg
// shares; reg may be nil. maxKeys 0 means DefaultMaxTrackedKeys; now nil
// means time.Now.
func NewLimiter(name string, rate Rate, maxKeys int, now func() time.Time, reg prometheus.Registerer) (*Limiter, error) {
	if rate.Burst <= 0 || rate.Every <= 0 {
		return nil, fmt.Errorf("rate limit %s: burst %d per %v", name, rate.Burst, rate.Every)
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxTrackedKeys
	}
	if now == nil {
		now = time.Now
	}
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ancore_relay_rate_limited_total",
		Help: "Requests refused by a rate limit, by limit.",
	}, []string{"limit"})
	if reg != nil {
		if err := reg.Register(limited); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, fmt.Errorf("rate limit %s: metrics: %w", name, err)
			}
			shared, ok := already.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, fmt.Errorf("rate limit %s: metrics: %w", name, err)
			}
			limited = shared
		}
	}
	return &Limiter{name: name, rate: rate, maxKeys: maxKeys, now: now, limited: limited.WithLabelValues(name),
		buckets: map[string]*list.Element{}, lru: list.New()}, nil
}

// Allow takes a token from key's bucket. When there is none it returns
// false and how long until there is one.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	e := l.buckets[key]
	if e == nil {
		if len(l.buckets) >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		e = l.lru.PushFront(&bucket{key: key, tokens: float64(l.rate.Burst), at: now})
		l.buckets[key] = e
	} else {
		l.lru.MoveToFront(e)
	}
	b := e.Value.(*bucket)
	b.tokens, b.at = b.tokensAt(now, l.rate), now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.rate.Every))
}

// Reset forgets key: its bucket is full again.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.buckets[key]; e != nil {
		l.remove(e)
	}
}

// dropIdle removes refilled buckets from the idle end. The bucket used
// longest ago refills first but for a few tokens, so every bucket goes
// within Burst*Every of its last use.
func (l *Limiter) dropIdle(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		if e.Value.(*bucket).tokensAt(now, l.rate) < float64(l.rate.Burst) {
			return
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	l.lru.Remove(e)
	delete(l.buckets, e.Value.(*bucket).key)
}

// Admit takes a token for key, or answers 429 rate_limited with
// Retry-After (whole seconds, at least 1) and returns false.
func (l *Limiter) Admit(w http.ResponseWriter, key string) bool {
	ok, wait := l.Allow(key)
	if ok {
		return true
	}
	l.limited.Inc()
	secs := max(int64(math.Ceil(wait.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	httpjson.Error(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many requests; try again in %d s", secs))
	return false
}
