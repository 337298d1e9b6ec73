package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/node/store"
)

// Benchmark fixtures are big (a 1M-message store takes about a minute to
// build), so they are built once and kept under the system temp folder.
// fixtureVersion changes whenever the store format or fixture shape does.
const (
	fixtureVersion = 4   // 4: op headers carry Prev
	fixtureText    = 100 // bytes per message: a typical chat line
	fixtureKey     = "bench-fixture-messages"
)

// fixture returns the path of a store holding n messages in one channel,
// building it on first use, and the channel's ID.
func fixture(b *testing.B, n int) (string, crdt.ID) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "ancore-bench")
	path := filepath.Join(dir, fmt.Sprintf("store-v%d-%d.db", fixtureVersion, n))
	channel := crdt.IDOf([]byte("channel:fixture"))
	if st, err := store.Open(path, nil); err == nil {
		v, _ := st.Setting(fixtureKey)
		st.Close()
		if string(v) == strconv.Itoa(n) {
			return path, channel
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tmp := path + ".building"
	os.Remove(tmp)
	st, err := store.Open(tmp, nil)
	if err != nil {
		b.Fatal(err)
	}
	a := crdttest.NewAuthor(b, "bench", "fixture")
	// Commits of 1000 ops, as BenchmarkStoreIngest and sync deliver them.
	// The size matters to opening: bbolt loads the free pages the last
	// commits left, and a commit frees about two pages per op it wrote.
	const batch = 1000
	batches := make(chan []store.Entry, 4)
	go func() {
		defer close(batches)
		for lo := 0; lo < n; lo += batch {
			var es []store.Entry
			for i := lo; i < min(lo+batch, n); i++ {
				o := a.Post(b, crdttest.Text(i, fixtureText))
				es = append(es, store.Entry{Op: o.Op, Body: o.Body, Readable: true})
			}
			batches <- es
		}
	}()
	for es := range batches {
		if err := st.Ingest(context.Background(), es); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.PutSetting(fixtureKey, []byte(strconv.Itoa(n))); err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d-message fixture %s in %s", n, path, time.Since(start).Round(time.Second))
	return path, channel
}

// BenchmarkStorePageLatest reads the latest page of 50 from a channel of
// 1M messages, warm, many times, and reports the 99th percentile.
func BenchmarkStorePageLatest(b *testing.B) {
	path, channel := fixture(b, 1_000_000)
	st, err := store.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const samples = 2000
	lat := make([]time.Duration, 0, samples*b.N)
	page := func() {
		msgs, err := st.Messages(channel, store.Page{})
		if err != nil || len(msgs) != store.DefaultPageLimit {
			b.Fatalf("page: %d messages, %v", len(msgs), err)
		}
	}
	page() // warm
	b.ResetTimer()
	for range b.N * samples {
		t := time.Now()
		page()
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
}

// BenchmarkStoreOpen opens a 1M-message store and reads its first page,
// and compares that with a 10k-message store: opening must not depend on
// history size.
func BenchmarkStoreOpen(b *testing.B) {
	big, bigCh := fixture(b, 1_000_000)
	small, smallCh := fixture(b, 10_000)
	b.ResetTimer()
	bigT := openMedian(b, big, bigCh)
	smallT := openMedian(b, small, smallCh)
	b.ReportMetric(ms(bigT), "ms")
	b.ReportMetric(float64(bigT)/float64(smallT), "x-10k")
}

// openMedian returns the median time of opening the store at path and
// reading the latest page of channel.
func openMedian(b *testing.B, path string, channel crdt.ID) time.Duration {
	const runs = 15
	var ts []time.Duration
	for range runs * b.N {
		t := time.Now()
		st, err := store.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if msgs, err := st.Messages(channel, store.Page{}); err != nil || len(msgs) != store.DefaultPageLimit {
			b.Fatalf("first page: %d messages, %v", len(msgs), err)
		}
		ts = append(ts, time.Since(t))
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
