package account

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func newTestLimiter(t *testing.T, rate Rate, maxKeys int) (*Limiter, *clock) {
	t.Helper()
	c := &clock{now: time.Unix(1_000_000, 0)}
	l, err := NewLimiter("test", rate, maxKeys, c.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

func TestLimiterRefills(t *testing.T) {
	l, c := newTestLimiter(t, Rate{Burst: 3, Every: 10 * time.Second}, 0)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i)
		}
	}
	if ok, wait := l.Allow("a"); ok || wait != 10*time.Second {
		t.Fatalf("fourth: %v, %v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key refused")
	}
	c.Add(4 * time.Second)
	if ok, wait := l.Allow("a"); ok || wait != 6*time.Second {
		t.Fatalf("after 4 s: %v, %v", ok, wait)
	}
	c.Add(6 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused after a refill")
	}
	l.Reset("a")
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d after a reset refused", i)
		}
	}
	// A clock that steps back gives nothing.
	c.Add(-time.Hour)
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a clock stepping back refilled the bucket")
	}
}

func TestLimiterForgetsIdleKeys(t *testing.T) {
	l, c := newTestLimiter(t, Rate{Burst: 2, Every: time.Second}, 0)
	l.Allow("a")
	l.Allow("b")
	l.Allow("b")
	c.Add(time.Second)
	l.Allow("c")
	// a refilled and went; b, emptied, has not yet.
	if _, ok := l.buckets["a"]; ok || len(l.buckets) != 2 {
		t.Fatalf("tracked %v", keys(l))
	}
	// b refills in two seconds, c (one token taken) in one.
	c.Add(time.Second)
	l.Allow("d")
	if len(l.buckets) != 1 {
		t.Fatalf("tracked %v, want d", keys(l))
	}
	c.Add(time.Hour)
	l.Allow("e")
	if len(l.buckets) != 1 {
		t.Fatalf("tracked %v, want e", keys(l))
	}
}

func TestLimiterCapsKeys(t *testing.T) {
	l, _ := newTestLimiter(t, Rate{Burst: 1, Every: time.Hour}, 3)
	for _, k := range []string{"a", "b", "c"} {
		l.Allow(k)
	}
	l.Allow("a") // used last now, so b is the idlest
	l.Allow("d")
	if len(l.buckets) != 3 {
		t.Fatalf("tracked %v", keys(l))
	}
	if _, ok := l.buckets["b"]; ok {
		t.Fatalf("tracked %v: b should have made room", keys(l))
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a's empty bucket was forgotten")
	}
}

// counterValue reads a counter.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func keys(l *Limiter) []string {
	var ks []string
	for k := range l.buckets {
		ks = append(ks, k)
	}
	return ks
}

func TestLimiterAdmit(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := &clock{now: time.Unix(1_000_000, 0)}
	l, err := NewLimiter("one", Rate{Burst: 1, Every: 1500 * time.Millisecond}, 0, c.Now, reg)
	if err != nil {
		t.Fatal(err)
	}
	// Limiters share their counter.
	other, err := NewLimiter("two", Rate{Burst: 1, Every: time.Second}, 0, c.Now, reg)
	if err != nil {
		t.Fatal(err)
	}
	if w := httptest.NewRecorder(); !l.Admit(w, "k") {
		t.Fatal("first request refused")
	}
	w := httptest.NewRecorder()
	if l.Admit(w, "k") || w.Code != 429 || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("second: %d %v", w.Code, w.Header())
	}
	other.Admit(httptest.NewRecorder(), "k")
	other.Admit(httptest.NewRecorder(), "k")
	if got := counterValue(l.limited) + counterValue(other.limited); got != 2 {
		t.Fatalf("rate-limited counters sum to %v", got)
	}
	families, err := reg.Gather()
	if err != nil || len(families) != 1 || families[0].GetName() != "ancore_relay_rate_limited_total" || len(families[0].GetMetric()) != 2 {
		t.Fatalf("gathered %v, %v", families, err)
	}
	if _, err := NewLimiter("bad", Rate{}, 0, nil, nil); err == nil {
		t.Fatal("a zero rate was accepted")
	}
}

func TestClientIP(t *testing.T) {
	direct := &Service{}
	proxied := &Service{cfg: Config{TrustProxy: true}}
	for _, c := range []struct {
		svc       *Service
		remote    string
		forwarded string
		want      string
	}{
		{direct, "192.0.2.1:1234", "", "192.0.2.1"},
		{direct, "192.0.2.1:1234", "198.51.100.7", "192.0.2.1"},
		{proxied, "192.0.2.1:1234", "198.51.100.7, 192.0.2.1", "198.51.100.7"},
		{proxied, "192.0.2.1:1234", " 198.51.100.7 ", "198.51.100.7"},
		{proxied, "192.0.2.1:1234", "unknown", "192.0.2.1"},
		{proxied, "192.0.2.1:1234", "", "192.0.2.1"},
		{direct, "[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64"},
		{direct, "[2001:db8:1:2:ffff::1]:443", "", "2001:db8:1:2::/64"},
		{direct, "[::ffff:192.0.2.9]:443", "", "192.0.2.9"},
		{proxied, "192.0.2.1:1234", "2001:db8::1", "2001:db8::/64"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.forwarded != "" {
			r.Header.Set("X-Forwarded-For", c.forwarded)
		}
		if got := c.svc.ClientIP(r); got != c.want {
			t.Errorf("trust %v, remote %s, forwarded %q: %q, want %q", c.svc.cfg.TrustProxy, c.remote, c.forwarded, got, c.want)
		}
	}
}
