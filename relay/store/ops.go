package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p/recon"
)

// Ops are stored as received, keyed by ID. Their HLC goes into a bigint as
// is: Decode refuses timestamps more than crdt.MaxClockSkew ahead, so the
// top bit of a verified op's HLC stays clear until the year 6429; PutOps
// refuses an op whose HLC does not fit rather than mapping it.

// Kinds as the SQL below needs them, taken from crdt rather than written
// out: encryptedKinds carry a body a delete purges; stateKinds are the
// community's log, which Expire keeps.
var encryptedKinds, stateKinds = func() (enc, state []int16) {
	for k := range math.MaxUint8 + 1 {
		if crdt.Kind(k).Encrypted() {
			enc = append(enc, int16(k))
		}
		if crdt.Kind(k).IsState() {
			state = append(state, int16(k))
		}
	}
	return enc, state
}()

// opLockClass is the first key of the advisory locks PutOps takes per log,
// so that they cannot clash with other users of advisory locks.
const opLockClass = 0x6f707300 // "ops\0"

var stagedColumns = []string{"id", "community", "log", "hlc", "kind", "target", "raw", "purged"}

// PutOps stores ops in one transaction and returns how many were new. The
// ops must be verified (crdt.Verifier.Decode) and belong to carried
// communities; if one does not, nothing is stored and the error wraps
// ErrNotFound. PutOps returns after the commit, so whatever it returns nil
// for is durable. Ops held already are skipped, in whatever form they are
// held.
//
// A delete purges the message it targets and every edit of it (in the
// delete's log) when mayPurge(del, target) allows, whichever of them
// arrives first: the purged ops keep only their skeleton
// (crdt.Op.Purge). mayPurge runs inside the transaction, without I/O on
// this store; nil purges nothing.
func (s *Store) PutOps(ctx context.Context, ops []*crdt.Op, mayPurge func(del, target *crdt.Op) bool) (int, error) {
	if len(ops) == 0 {
		return 0, nil
	}
	rows := make([][]any, len(ops))
	var communities, logs, candidates [][]byte
	for i, op := range ops {
		if op == nil {
			return 0, fmt.Errorf("put ops: op %d is nil", i)
		}
		if uint64(op.HLC) > math.MaxInt64 {
			return 0, fmt.Errorf("put ops: op %s: clock %d out of range", op.ID, uint64(op.HLC))
		}
		log := op.Log()
		var target []byte
		if !op.Target.IsZero() {
			target = op.Target[:]
		}
		rows[i] = []any{op.ID[:], op.Community[:], log[:], int64(op.HLC), int16(op.Kind), target, op.Encoded(), op.Purged()}
		communities = appendUnique(communities, op.Community[:])
		logs = appendUnique(logs, log[:])
		if op.Kind.Encrypted() {
			candidates = append(candidates, op.ID[:])
		}
		if op.Kind == crdt.KindDelete || op.Kind == crdt.KindEdit {
			candidates = append(candidates, op.Target[:])
		}
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("put ops: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := prepareIngest(ctx, tx, communities, logs); err != nil {
		return 0, fmt.Errorf("put ops: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ops_staged"}, stagedColumns, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("put ops: stage: %w", err)
	}
	// In log order, so that a batch lands in neighbouring pages of the
	// (log, hlc, id) index and of the table.
	tag, err := tx.Exec(ctx, `
		INSERT INTO ops (id, community, log, hlc, kind, target, raw, purged)
		SELECT id, community, log, hlc, kind, target, raw, purged FROM ops_staged ORDER BY log, hlc, id
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			// A community deleted since prepareIngest checked.
			return 0, fmt.Errorf("put ops: community: %w", ErrNotFound)
		}
		return 0, fmt.Errorf("put ops: insert: %w", err)
	}
	if mayPurge != nil && len(candidates) > 0 {
		if err := purgeDeleted(ctx, tx, candidates, mayPurge); err != nil {
			return 0, fmt.Errorf("put ops: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("put ops: commit: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// prepareIngest makes sure the session's staging table exists, checks
// that the communities are carried and locks the logs, in one round trip.
//
// The per-log locks make the purge rule hold under concurrent batches: a
// delete and its target arriving in two transactions at once would each
// miss the other, uncommitted; with the lock the second to commit looks
// after the first committed. Logs are locked in a fixed order, so batches
// spanning several logs cannot deadlock.
func prepareIngest(ctx context.Context, tx pgx.Tx, communities, logs [][]byte) error {
	var b pgx.Batch
	// The staging table lives as long as the connection and empties at
	// every commit: no catalog churn per batch, as ON COMMIT DROP would
	// cause.
	b.Queue(`CREATE TEMP TABLE IF NOT EXISTS ops_staged (
		id bytea, community bytea, log bytea, hlc bigint, kind smallint, target bytea, raw bytea, purged boolean
	) ON COMMIT DELETE ROWS`)
	var missing [][]byte
	b.Queue(`SELECT c FROM unnest($1::bytea[]) AS c WHERE NOT EXISTS (SELECT 1 FROM communities WHERE id = c)`, communities).
		Query(func(rows pgx.Rows) error {
			var err error
			missing, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
			return err
		})
	keys := make([]int32, len(logs))
	for i, l := range logs {
		// An ID's bytes after its fixed CID prefix are a SHA-256 digest.
		keys[i] = int32(binary.BigEndian.Uint32(l[4:]))
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, int32(opLockClass), k)
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	if len(missing) > 0 {
		id, err := crdt.IDFromBytes(missing[0])
		if err != nil {
			return err
		}
		return fmt.Errorf("community %s: %w", id, ErrNotFound)
	}
	return nil
}

// purgeDeleted applies the purge rule to the stored deletes and messages
// among candidates: the ids of the batch's encrypted ops, and the targets
// of its deletes and edits. It reads what is stored, so the order in which
// deletes, messages and edits arrived does not matter.
func purgeDeleted(ctx context.Context, tx pgx.Tx, candidates [][]byte, mayPurge func(del, target *crdt.Op) bool) error {
	rows, _ := tx.Query(ctx, `
		SELECT d.raw, t.raw FROM ops d JOIN ops t ON t.id = d.target AND t.log = d.log
		WHERE d.target = ANY($1) AND d.kind = $2 AND t.kind = ANY($3)`,
		candidates, int16(crdt.KindDelete), encryptedKinds)
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Del, Target []byte }])
	if err != nil {
		return fmt.Errorf("find deletes: %w", err)
	}
	var messages [][]byte
	for _, p := range pairs {
		del, err := crdt.DecodeStored(p.Del)
		if err != nil {
			return fmt.Errorf("stored delete: %w", err)
		}
		target, err := crdt.DecodeStored(p.Target)
		if err != nil {
			return fmt.Errorf("stored op: %w", err)
		}
		if mayPurge(del, target) {
			messages = appendUnique(messages, target.ID[:])
		}
	}
	if len(messages) == 0 {
		return nil
	}
	rows, _ = tx.Query(ctx, `
		SELECT raw FROM ops WHERE id = ANY($1) AND NOT purged
		UNION ALL
		SELECT e.raw FROM ops t JOIN ops e ON e.target = t.id AND e.log = t.log AND e.kind = $2
		WHERE t.id = ANY($1) AND NOT e.purged`,
		messages, int16(crdt.KindEdit))
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return fmt.Errorf("find deleted messages: %w", err)
	}
	ids := make([][]byte, 0, len(raws))
	skeletons := make([][]byte, 0, len(raws))
	for _, raw := range raws {
		op, err := crdt.DecodeStored(raw)
		if err != nil {
			return fmt.Errorf("stored op: %w", err)
		}
		if p := op.Purge(); p.Purged() {
			ids = append(ids, op.ID[:])
			skeletons = append(skeletons, p.Encoded())
		}
	}
	if _, err := tx.Exec(ctx, `
		UPDATE ops SET raw = p.raw, purged = true
		FROM unnest($1::bytea[], $2::bytea[]) AS p (id, raw) WHERE ops.id = p.id`,
		ids, skeletons); err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	return nil
}

// Items returns the (HLC, ID) of every op of a log, in (HLC, ID) order: the
// set sync reconciles.
func (s *Store) Items(ctx context.Context, log crdt.ID) ([]recon.Item, error) {
	rows, _ := s.pool.Query(ctx, `SELECT hlc, id FROM ops WHERE log = $1 ORDER BY hlc, id`, log[:])
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (recon.Item, error) {
		var hlc int64
		var id []byte
		if err := row.Scan(&hlc, &id); err != nil {
			return recon.Item{}, err
		}
		it := recon.Item{HLC: crdt.HLC(hlc)}
		var err error
		it.ID, err = crdt.IDFromBytes(id)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("items of log %s: %w", log, err)
	}
	return items, nil
}

// Ops returns the stored bytes of the ops ids names that the store holds,
// in the order of ids; it skips the others.
func (s *Store) Ops(ctx context.Context, ids []crdt.ID) ([][]byte, error) {
	keys := make([][]byte, len(ids))
	for i := range ids {
		keys[i] = ids[i][:]
	}
	rows, _ := s.pool.Query(ctx, `
		SELECT o.raw FROM unnest($1::bytea[]) WITH ORDINALITY AS r (id, n) JOIN ops o ON o.id = r.id
		ORDER BY r.n`, keys)
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("ops: %w", err)
	}
	return raws, nil
}

// Op returns the stored bytes of one op, or ErrNotFound.
func (s *Store) Op(ctx context.Context, id crdt.ID) ([]byte, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT raw FROM ops WHERE id = $1`, id[:]).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("op %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", id, err)
	}
	return raw, nil
}

// LogOps returns the stored bytes of every op of a log, in (HLC, ID) order.
func (s *Store) LogOps(ctx context.Context, log crdt.ID) ([][]byte, error) {
	rows, _ := s.pool.Query(ctx, `SELECT raw FROM ops WHERE log = $1 ORDER BY hlc, id`, log[:])
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("ops of log %s: %w", log, err)
	}
	return raws, nil
}

// Expire deletes the message ops (every kind but community state) older
// than before and returns how many it deleted. Community-state ops are
// kept forever: the relay rebuilds each community's state from them.
func (s *Store) Expire(ctx context.Context, before crdt.HLC) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM ops WHERE hlc < $1 AND kind <> ALL($2)`,
		int64(min(uint64(before), math.MaxInt64)), stateKinds)
	if err != nil {
		return 0, fmt.Errorf("expire ops: %w", err)
	}
	return tag.RowsAffected(), nil
}

func appendUnique(set [][]byte, b []byte) [][]byte {
	if slices.ContainsFunc(set, func(x []byte) bool { return string(x) == string(b) }) {
		return set
	}
	return append(set, b)
}
