package pipeline

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/node/store"
	bolt "go.etcd.io/bbolt"
)

const (
	ingestOps   = 100_000
	ingestText  = 512 // bytes of message text per op
	ingestBatch = 1000
	submitters  = 8 // concurrent Ingest callers, as when 8 peers deliver at once
)

// BenchmarkStoreIngest measures the whole receive path — verify, decrypt,
// store, view update — for 100k signed message ops with 512-byte texts,
// and relates it to its two ceilings measured in the same run:
//   - x-verify: pipeline rate ÷ bare Ed25519 verification of the same ops
//     on all cores;
//   - x-raw: the storage stage alone (ops, indexes, DAG, message rows)
//     ÷ raw bbolt batched Puts of the same bytes.
func BenchmarkStoreIngest(b *testing.B) {
	a := crdttest.NewAuthor(b, "bench", "ingest")
	opened := a.Posts(b, ingestOps, ingestText)
	raws := make([][]byte, len(opened))
	signed := make([][]byte, len(opened))
	entries := make([]store.Entry, len(opened))
	for i, o := range opened {
		raws[i] = o.Encoded()
		signed[i] = o.SigningInput()
		entries[i] = store.Entry{Op: o.Op, Body: o.Body, Readable: true}
	}
	b.ResetTimer()
	var pipe, verify, stage, raw float64
	for range b.N {
		pipe += measure(b, func() { ingestAll(b, a, raws) })
		verify += measure(b, func() { verifyAll(opened, signed) })
		stage += measure(b, func() { storeAll(b, entries) })
		raw += measure(b, func() { rawPuts(b, raws, opened) })
	}
	n := float64(b.N)
	b.ReportMetric(ingestOps*n/pipe, "ops/s")
	b.ReportMetric(verify/pipe, "x-verify")
	b.ReportMetric(raw/stage, "x-raw")
	b.ReportMetric(ingestOps*n/stage, "store-ops/s")
	b.ReportMetric(ingestOps*n/raw, "raw-ops/s")
}

// measure returns the seconds fn takes, with the timer stopped outside it.
func measure(b *testing.B, fn func()) float64 {
	b.StopTimer()
	runtime.GC()
	b.StartTimer()
	start := time.Now()
	fn()
	return time.Since(start).Seconds()
}

func openStore(b *testing.B) *store.Store {
	st, err := store.Open(filepath.Join(b.TempDir(), "ancore.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// inBatches runs fn on batches of n items from submitters goroutines.
func inBatches(total, n int, fn func(lo, hi int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range submitters {
		wg.Go(func() {
			for lo := range next {
				fn(lo, min(lo+n, total))
			}
		})
	}
	for lo := 0; lo < total; lo += n {
		next <- lo
	}
	close(next)
	wg.Wait()
}

func ingestAll(b *testing.B, a *crdttest.Author, raws [][]byte) {
	p := New(openStore(b), a.Keyring)
	inBatches(len(raws), ingestBatch, func(lo, hi int) {
		rejected, err := p.Ingest(context.Background(), raws[lo:hi])
		if err != nil {
			b.Error(err)
		}
		for _, r := range rejected {
			if r != nil {
				b.Error(r)
				return
			}
		}
	})
}

// verifyAll checks each op's signature over the bytes its author signed,
// prepared beforehand: the cryptographic ceiling of ingest.
func verifyAll(ops []crdt.Opened, msgs [][]byte) {
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ops); i += workers {
				if !ed25519.Verify(ops[i].Author[:], msgs[i], ops[i].Sig[:]) {
					panic("bad signature in fixture")
				}
			}
		})
	}
	wg.Wait()
}

func storeAll(b *testing.B, entries []store.Entry) {
	st := openStore(b)
	inBatches(len(entries), ingestBatch, func(lo, hi int) {
		if err := st.Ingest(context.Background(), entries[lo:hi]); err != nil {
			b.Error(err)
		}
	})
}

// rawPuts writes each op's bytes under its ID, one transaction per batch:
// the least any bbolt store of these ops can do.
func rawPuts(b *testing.B, raws [][]byte, ops []crdt.Opened) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{InitialMmapSize: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for lo := 0; lo < len(raws); lo += ingestBatch {
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("ops"))
			if err != nil {
				return err
			}
			for i := lo; i < min(lo+ingestBatch, len(raws)); i++ {
				if err := bk.Put(ops[i].ID[:], raws[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
