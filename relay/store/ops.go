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

// The purge rule's lookups name the kinds as constants, which the partial
// index ops_target requires (see the migration).
var (
	sqlDeletesOf = fmt.Sprintf(`SELECT raw FROM ops WHERE target = ANY($1) AND kind = %d`, crdt.KindDelete)
	// Messages of $1 and their edits that still have their bodies.
	sqlMessagesAndEdits = fmt.Sprintf(`SELECT raw FROM ops WHERE (id = ANY($1) OR kind = %d AND target = ANY($1)) AND NOT purged`, crdt.KindEdit)
)

// opLockClass is the first key of the advisory locks PutOps takes per log,
// so that they cannot clash with other users of advisory locks.
const opLockClass = 0x6f707300 // "ops\0"

// opColumns are the columns PutOps fills, in the order of opRow's values.
var opColumns = []string{"id", "community", "log", "hlc", "kind", "target", "raw", "purged"}

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
// (crdt.Op.Purge). mayPurge runs inside the transaction and must not use
// this store; nil purges nothing.
//
// The new ops go into the table by COPY, PostgreSQL's fastest way in,
// rather than through a staging table and INSERT … ON CONFLICT DO NOTHING,
// which took more than twice as long (docs/benchmarks.md, "Relay
// ingest"). COPY cannot skip what is held, so PutOps first locks the
// batch's logs: an op's ID covers its log, so two batches holding the
// same op lock the same log, and the second finds what the first
// committed.
func (s *Store) PutOps(ctx context.Context, ops []*crdt.Op, mayPurge func(del, target *crdt.Op) bool) (int, error) {
	in, err := newIngest(ops, mayPurge != nil)
	if err != nil || len(in.ops) == 0 {
		return 0, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("put ops: %w", err)
	}
	defer tx.Rollback(ctx)
	st, err := in.read(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("put ops: %w", err)
	}
	deleted := st.judge(in, mayPurge)
	rows := make([][]any, len(in.ops))
	for i, op := range in.ops {
		if deleted.covers(op) {
			op = op.Purge()
		}
		rows[i] = opRow(op)
	}
	n, err := in.copy(ctx, tx, rows)
	if err != nil {
		return 0, fmt.Errorf("put ops: %w", err)
	}
	if len(deleted) > 0 {
		if err := purgeStored(ctx, tx, deleted); err != nil {
			return 0, fmt.Errorf("put ops: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("put ops: commit: %w", err)
	}
	return n, nil
}

// copy writes rows, one per op of in, skipping the ops held already, and
// returns how many it wrote. Most batches hold only new ops, so it copies
// them all at once and looks up what is held only when the copy meets a
// held op (read set a savepoint for that).
func (in *ingest) copy(ctx context.Context, tx pgx.Tx, rows [][]any) (int, error) {
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"ops"}, opColumns, pgx.CopyFromRows(rows))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" { // unique_violation
		if err != nil {
			return 0, fmt.Errorf("copy: %w", err)
		}
		return len(rows), nil
	}
	if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT copy`); err != nil {
		return 0, err
	}
	held := map[string]bool{}
	idRows, _ := tx.Query(ctx, `SELECT id FROM ops WHERE id = ANY($1)`, in.ids)
	var id []byte
	if _, err := pgx.ForEachRow(idRows, []any{&id}, func() error {
		held[string(id)] = true
		return nil
	}); err != nil {
		return 0, fmt.Errorf("find held ops: %w", err)
	}
	rows = slices.DeleteFunc(rows, func(r []any) bool { return held[string(r[0].([]byte))] })
	if len(rows) == 0 {
		return 0, nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ops"}, opColumns, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	return len(rows), nil
}

// ingest is a batch of ops on its way in.
type ingest struct {
	ops         []*crdt.Op // distinct: the first of an op's copies
	ids         [][]byte   // of ops
	communities [][]byte
	logs        [][]byte
	// What the purge rule needs from the store: the messages the batch's
	// deletes and edits target, and the deletes of the batch's encrypted
	// ops or of those targets.
	targets, deletable [][]byte
}

func newIngest(ops []*crdt.Op, purging bool) (*ingest, error) {
	in := &ingest{ops: make([]*crdt.Op, 0, len(ops)), ids: make([][]byte, 0, len(ops))}
	seen := make(map[crdt.ID]bool, len(ops))
	for i, op := range ops {
		switch {
		case op == nil:
			return nil, fmt.Errorf("put ops: op %d is nil", i)
		case uint64(op.HLC) > math.MaxInt64:
			return nil, fmt.Errorf("put ops: op %s: clock %d out of range", op.ID, uint64(op.HLC))
		case seen[op.ID]:
			continue
		}
		seen[op.ID] = true
		in.ops = append(in.ops, op)
		in.ids = append(in.ids, op.ID[:])
		log := op.Log()
		in.communities = appendUnique(in.communities, op.Community[:])
		in.logs = appendUnique(in.logs, log[:])
		if !purging {
			continue
		}
		if op.Kind.Encrypted() {
			in.deletable = append(in.deletable, op.ID[:])
		}
		if op.Kind == crdt.KindDelete || op.Kind == crdt.KindEdit {
			in.targets = append(in.targets, op.Target[:])
			in.deletable = append(in.deletable, op.Target[:])
		}
	}
	return in, nil
}

// opRow returns the values of op's row, in the order of opColumns.
func opRow(op *crdt.Op) []any {
	log := op.Log()
	var target []byte
	if !op.Target.IsZero() {
		target = op.Target[:]
	}
	return []any{op.ID[:], op.Community[:], log[:], int64(op.HLC), int16(op.Kind), target, op.Encoded(), op.Purged()}
}

// storedState is what the store holds that a batch's ingest depends on.
type storedState struct {
	messages []*crdt.Op // stored messages of in.targets
	deletes  []*crdt.Op // stored deletes of in.deletable
}

// read checks that the batch's communities are carried, locks them and
// the batch's logs, and reads the stored messages and deletes the purge
// rule needs, in one round trip.
//
// The per-log locks serialize the batches of a log. Besides letting copy
// find every held op, they make the purge rule hold under concurrent
// batches: a delete and its target arriving in two transactions at once
// would each miss the other, uncommitted; with the lock the second reads
// after the first committed. Logs are locked in a fixed order, so batches
// spanning several logs cannot deadlock.
func (in *ingest) read(ctx context.Context, tx pgx.Tx) (*storedState, error) {
	st := &storedState{}
	var b pgx.Batch
	// Held until the commit: a community's delete waits, and then takes
	// these ops with it (communities_drop_ops).
	var carried [][]byte
	b.Queue(`SELECT id FROM communities WHERE id = ANY($1) FOR KEY SHARE`, in.communities).
		Query(func(rows pgx.Rows) error {
			var err error
			carried, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
			return err
		})
	keys := make([]int32, len(in.logs))
	for i, l := range in.logs {
		// An ID's bytes after its fixed CID prefix are a SHA-256 digest.
		keys[i] = int32(binary.BigEndian.Uint32(l[4:]))
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, int32(opLockClass), k)
	}
	// The reads are queued after the locks: they see what the batches
	// before committed.
	if len(in.targets) > 0 {
		b.Queue(`SELECT raw FROM ops WHERE id = ANY($1) AND kind = ANY($2)`, in.targets, encryptedKinds).
			Query(func(rows pgx.Rows) error {
				var err error
				st.messages, err = collectOps(rows)
				return err
			})
	}
	if len(in.deletable) > 0 {
		b.Queue(sqlDeletesOf, in.deletable).
			Query(func(rows pgx.Rows) error {
				var err error
				st.deletes, err = collectOps(rows)
				return err
			})
	}
	b.Queue(`SAVEPOINT copy`)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	for _, c := range in.communities {
		if !slices.ContainsFunc(carried, func(id []byte) bool { return string(id) == string(c) }) {
			id, err := crdt.IDFromBytes(c)
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("community %s: %w", id, ErrNotFound)
		}
	}
	return st, nil
}

// deletedMessages are the messages a delete purges, by ID.
type deletedMessages map[crdt.ID]*crdt.Op

// covers reports whether op is a deleted message or an edit of one.
func (d deletedMessages) covers(op *crdt.Op) bool {
	if d[op.ID] != nil {
		return true
	}
	m := d[op.Target]
	return op.Kind == crdt.KindEdit && m != nil && m.Log() == op.Log()
}

// judge applies mayPurge to every delete of the batch or the store whose
// message is in the batch or the store and that the batch concerns: the
// delete, the message or an edit of it is in the batch. A message held
// purged needs no judging: a delete purged it before, and its edits
// follow.
func (st *storedState) judge(in *ingest, mayPurge func(del, target *crdt.Op) bool) deletedMessages {
	if mayPurge == nil {
		return nil
	}
	messages := map[crdt.ID]*crdt.Op{}
	deletes := map[crdt.ID][]*crdt.Op{}
	seen := map[crdt.ID]bool{}
	for _, op := range slices.Concat(st.messages, st.deletes, in.ops) {
		switch {
		case seen[op.ID]:
		case op.Kind == crdt.KindDelete:
			deletes[op.Target] = append(deletes[op.Target], op)
		case op.Kind.Encrypted():
			messages[op.ID] = op
		}
		seen[op.ID] = true
	}
	deleted := deletedMessages{}
	for target, dels := range deletes {
		m := messages[target]
		if m == nil {
			continue
		}
		for _, del := range dels {
			if del.Log() == m.Log() && (m.Purged() || mayPurge(del, m)) {
				deleted[target] = m
				break
			}
		}
	}
	return deleted
}

// purgeStored purges what the store holds of deleted messages: the
// messages and their edits that arrived before.
func purgeStored(ctx context.Context, tx pgx.Tx, deleted deletedMessages) error {
	ids := make([][]byte, 0, len(deleted))
	for id := range deleted {
		ids = append(ids, id[:])
	}
	rows, _ := tx.Query(ctx, sqlMessagesAndEdits, ids)
	ops, err := collectOps(rows)
	if err != nil {
		return fmt.Errorf("find deleted messages: %w", err)
	}
	var purged, skeletons [][]byte
	for _, op := range ops {
		if deleted.covers(op) {
			purged = append(purged, op.ID[:])
			skeletons = append(skeletons, op.Purge().Encoded())
		}
	}
	if len(purged) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `
		UPDATE ops SET raw = p.raw, purged = true
		FROM unnest($1::bytea[], $2::bytea[]) AS p (id, raw) WHERE ops.id = p.id`,
		purged, skeletons); err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	return nil
}

// collectOps decodes stored ops.
func collectOps(rows pgx.Rows) ([]*crdt.Op, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*crdt.Op, error) {
		var raw []byte
		if err := row.Scan(&raw); err != nil {
			return nil, err
		}
		op, err := crdt.DecodeStored(raw)
		if err != nil {
			return nil, fmt.Errorf("stored op: %w", err)
		}
		return op, nil
	})
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
