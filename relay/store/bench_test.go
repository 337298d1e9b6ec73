package store

import (
	"context"
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
//   - ops/s: ops through that whole path per second;
//   - x-copy: PutOps' throughput on ops already decoded, into a fresh
//     community, over a plain COPY of the same rows in the same batches
//     into an empty table like ops (same indexes, no staging, no
//     conflict handling, no purge rule) — what the store's bookkeeping
//     costs over PostgreSQL's fastest way in.
func BenchmarkRelayIngest(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	if _, err := s.pool.Exec(ctx, `CREATE TABLE ops_copy (LIKE ops INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	var ingest, store, copied time.Duration
	for range b.N {
		b.StopTimer()
		full, stored := newBenchCommunity(b, s), newBenchCommunity(b, s)
		decoded := decodeAll(b, stored)
		b.StartTimer()

		start := time.Now()
		verifier := crdt.NewVerifier()
		for lo := 0; lo < benchOps; lo += benchBatch {
			batch := full.raws[lo : lo+benchBatch]
			ops := make([]*crdt.Op, len(batch))
			now := time.Now()
			for i, raw := range batch {
				op, err := verifier.Decode(raw, now)
				if err != nil {
					b.Fatal(err)
				}
				if err := full.view.AuthorizeChannelOp(op, noChain); err != nil {
					b.Fatal(err)
				}
				ops[i] = op
			}
			if n, err := s.PutOps(ctx, ops, full.mayPurge); err != nil || n != len(ops) {
				b.Fatalf("stored %d of %d: %v", n, len(ops), err)
			}
		}
		ingest += time.Since(start)

		rows := make([][]any, len(decoded))
		for i, op := range decoded {
			rows[i] = opRow(op)
		}
		if _, err := s.pool.Exec(ctx, `TRUNCATE ops_copy`); err != nil {
			b.Fatal(err)
		}
		// Batch by batch in turn, so that both see the same state of the
		// server (checkpoints, the disk's caches).
		for lo := 0; lo < benchOps; lo += benchBatch {
			start = time.Now()
			if _, err := s.PutOps(ctx, decoded[lo:lo+benchBatch], stored.mayPurge); err != nil {
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
	b.ReportMetric(ops/ingest.Seconds(), "ops/s")
	b.ReportMetric(copied.Seconds()/store.Seconds(), "x-copy")
	b.ReportMetric(ops/store.Seconds(), "store-ops/s")
	b.ReportMetric(ops/copied.Seconds(), "copy-ops/s")
}

// noChain answers AuthorizeChannelOp for removed members' ops, which the
// benchmark has none of.
func noChain(last, target crdt.ID) (bool, error) { return false, nil }

func decodeAll(b *testing.B, bc *benchCommunity) []*crdt.Op {
	b.Helper()
	ops := make([]*crdt.Op, len(bc.raws))
	for i, raw := range bc.raws {
		var err error
		if ops[i], err = crdt.NewVerifier().Decode(raw, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	return ops
}
