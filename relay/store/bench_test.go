package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
)

// Shape of BenchmarkRelayIngest's work: ops per run, the batch the relay
// stores in one transaction, the message size, and the community's size.
const (
	benchOps     = 20000
	benchBatch   = 500
	benchText    = 512
	benchMembers = 4
)

// benchCommunity is a carried community with benchOps channel posts of its
// members, signed and encoded, not yet stored.
type benchCommunity struct {
	view *crdt.Community
	raws [][]byte
}

func newBenchCommunity(b *testing.B, s *Store) *benchCommunity {
	b.Helper()
	c := crdttest.NewCommunity(b, benchMembers)
	carry(b, s, c.ID)
	if _, err := s.PutOps(context.Background(), c.State, nil); err != nil {
		b.Fatal(err)
	}
	bc := &benchCommunity{view: c.View(), raws: make([][]byte, benchOps)}
	for i := range bc.raws {
		bc.raws[i] = c.Members[i%benchMembers].Post(b, crdttest.Text(i, benchText)).Encoded()
	}
	return bc
}

// mayPurge is the relay's rule: a delete purges its author's messages and,
// from a moderator, anyone's.
func (bc *benchCommunity) mayPurge(del, target *crdt.Op) bool {
	return del.User() == target.User() || bc.view.MayDelete(del, nil)
}

// BenchmarkRelayIngest measures the relay storing a community's channel
// posts as they arrive: each op's signature checked (Decode), the
// community's rule applied (AuthorizeChannelOp), and the ops stored by
// PutOps in batches of benchBatch. It reports
//   - ops/s: ops through that whole path per second, decoding a batch on
//     every core while the one before is stored (ingestPipelined);
//   - serial-ops/s: the same path in one goroutine, batch after batch;
//   - x-copy: PutOps' throughput on ops already decoded, into a fresh
//     community, over a plain COPY of the same rows in the same batches
//     into an empty copy of ops (same columns and indexes; no locks, no
//     duplicate or purge handling) — what the store's bookkeeping costs
//     over PostgreSQL's fastest way in.
func BenchmarkRelayIngest(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	if _, err := s.pool.Exec(ctx, `CREATE TABLE ops_copy (LIKE ops INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	var pipelined, serial, store, copied time.Duration
	for range b.N {
		b.StopTimer()
		full, one, stored := newBenchCommunity(b, s), newBenchCommunity(b, s), newBenchCommunity(b, s)
		decoded := decodeAll(b, stored)
		rows := make([][]any, len(decoded))
		for i, op := range decoded {
			rows[i] = opRow(op)
		}
		if _, err := s.pool.Exec(ctx, `TRUNCATE ops_copy`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		if err := ingestPipelined(ctx, s, full); err != nil {
			b.Fatal(err)
		}
		pipelined += time.Since(start)

		start = time.Now()
		verifier := crdt.NewVerifier()
		for batch := range slices.Chunk(one.raws, benchBatch) {
			ops, err := one.decode(verifier, batch, 1)
			if err != nil {
				b.Fatal(err)
			}
			if err := one.store(ctx, s, ops); err != nil {
				b.Fatal(err)
			}
		}
		serial += time.Since(start)

		// Batch by batch in turn, so that both see the same state of the
		// server (checkpoints, the disk's caches).
		for lo := 0; lo < benchOps; lo += benchBatch {
			start = time.Now()
			if err := stored.store(ctx, s, decoded[lo:lo+benchBatch]); err != nil {
				b.Fatal(err)
			}
			store += time.Since(start)
			start = time.Now()
			if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"ops_copy"}, opColumns, pgx.CopyFromRows(rows[lo:lo+benchBatch])); err != nil {
				b.Fatal(err)
			}
			copied += time.Since(start)
		}
	}
	ops := float64(benchOps * b.N)
	b.ReportMetric(ops/pipelined.Seconds(), "ops/s")
	b.ReportMetric(ops/serial.Seconds(), "serial-ops/s")
	b.ReportMetric(copied.Seconds()/store.Seconds(), "x-copy")
	b.ReportMetric(ops/store.Seconds(), "store-ops/s")
	b.ReportMetric(ops/copied.Seconds(), "copy-ops/s")
}

// ingestPipelined takes bc's ops through the relay's path: while PutOps
// stores a batch, the next is decoded on every core.
func ingestPipelined(ctx context.Context, s *Store, bc *benchCommunity) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []*crdt.Op, 1)
	decodeErr := make(chan error, 1)
	go func() {
		defer close(batches)
		verifier := crdt.NewVerifier()
		for batch := range slices.Chunk(bc.raws, benchBatch) {
			ops, err := bc.decode(verifier, batch, runtime.GOMAXPROCS(0))
			if err != nil {
				decodeErr <- err
				return
			}
			select {
			case batches <- ops:
			case <-ctx.Done():
				return
			}
		}
	}()
	for ops := range batches {
		if err := bc.store(ctx, s, ops); err != nil {
			return err
		}
	}
	select {
	case err := <-decodeErr:
		return err
	default:
		return nil
	}
}

// decode verifies raws with workers goroutines and authorizes them.
func (bc *benchCommunity) decode(v *crdt.Verifier, raws [][]byte, workers int) ([]*crdt.Op, error) {
	ops := make([]*crdt.Op, len(raws))
	errs := make([]error, len(raws))
	now := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raws); i += workers {
				ops[i], errs[i] = v.Decode(raws[i], now)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, op := range ops {
		if err := bc.view.AuthorizeChannelOp(op, noChain); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// store puts a batch of bc's new ops.
func (bc *benchCommunity) store(ctx context.Context, s *Store, ops []*crdt.Op) error {
	n, err := s.PutOps(ctx, ops, bc.mayPurge)
	if err == nil && n != len(ops) {
		err = fmt.Errorf("stored %d of %d new ops", n, len(ops))
	}
	return err
}

// noChain answers AuthorizeChannelOp for removed members' ops, which the
// benchmark has none of.
func noChain(last, target crdt.ID) (bool, error) { return false, nil }

func decodeAll(b *testing.B, bc *benchCommunity) []*crdt.Op {
	b.Helper()
	ops, err := bc.decode(crdt.NewVerifier(), bc.raws, runtime.GOMAXPROCS(0))
	if err != nil {
		b.Fatal(err)
	}
	return ops
}
