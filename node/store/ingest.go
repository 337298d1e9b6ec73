package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/ancore/ancore/crdt"
	bolt "go.etcd.io/bbolt"
)

// Entry is one op to store, with what this node could read of it.
type Entry struct {
	Op *crdt.Op
	// Body is the opened body; meaningful only when Readable.
	Body crdt.Body
	// Readable is false when the body could not be opened here: the epoch
	// key is missing (the op is stored and kept in the sealed list until it
	// is ingested again, readable, and then applied), or the op arrived
	// purged (stored as it is; a full copy may replace it later).
	Readable bool
	// Local marks ops authored on this node: they also enter the outbox.
	Local bool
	// Changed is set by Ingest when the entry changed the store: its op
	// was new, or was stored sealed or purged and is now read in full. An
	// op that comes twice (by gossip and by sync) changes it once.
	Changed bool
}

type ingestReq struct {
	entries []Entry
	done    chan error
}

// Ingest stores entries and applies them to their views. It returns once
// the transaction holding them has committed; only then are they
// acknowledged. Ops already stored are skipped (an already stored op that
// was sealed is applied if the entry is now readable); Ingest sets each
// entry's Changed. Entries must have
// passed crdt.Verifier.Decode (or come from crdt.Device.Sign). One call
// commits in one transaction, so callers pass batches of at most a few
// thousand entries.
func (s *Store) Ingest(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	req := &ingestReq{entries: entries, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The entries may still commit; they are just not acknowledged.
		return ctx.Err()
	}
}

// commitLoop is the single writer: it takes every request waiting, up to
// maxBatchEntries, and commits them in one transaction.
func (s *Store) commitLoop() {
	defer close(s.done)
	var batch []*ingestReq
	for req := range s.reqs {
		batch = append(batch[:0], req)
		n := len(req.entries)
	drain:
		for n < maxBatchEntries {
			select {
			case more, ok := <-s.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, more)
				n += len(more.entries)
			default:
				break drain
			}
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			w := newWriter(tx, s.mayDelete)
			for _, r := range batch {
				for i := range r.entries {
					if err := w.ingest(&r.entries[i]); err != nil {
						return err
					}
				}
			}
			return w.flush()
		})
		if err != nil {
			err = fmt.Errorf("commit %d ops to %s: %w", n, s.path, err)
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

// writer applies entries inside one write transaction.
type writer struct {
	tx        *bolt.Tx
	index     *bolt.Bucket
	logs      *bolt.Bucket
	sealed    *bolt.Bucket
	outbox    *bolt.Bucket
	mayDelete crdt.DeletePolicy
	open      map[crdt.ID]*logBuckets
}

func newWriter(tx *bolt.Tx, mayDelete crdt.DeletePolicy) *writer {
	return &writer{
		tx: tx, index: tx.Bucket(bucketIndex), logs: tx.Bucket(bucketLogs),
		sealed: tx.Bucket(bucketSealed), outbox: tx.Bucket(bucketOutbox),
		mayDelete: mayDelete, open: make(map[crdt.ID]*logBuckets),
	}
}

func (w *writer) ingest(e *Entry) error {
	changed, err := w.put(e)
	e.Changed = changed
	return err
}

// put stores e and reports whether that changed the store.
func (w *writer) put(e *Entry) (bool, error) {
	op := e.Op
	if op.Purged() && e.Readable {
		// A purged op has no body to read, whatever the caller says.
		e = &Entry{Op: op, Local: e.Local}
	}
	lb, err := w.log(op.Log())
	if err != nil {
		return false, err
	}
	key := orderKey(op.HLC, op.ID)
	if w.index.Get(op.ID[:]) != nil {
		return w.again(lb, e, key)
	}
	if err := lb.log.Put(key, op.Encoded()); err != nil {
		return false, err
	}
	if err := w.index.Put(op.ID[:], append(lb.id[:len(lb.id):len(lb.id)], key[:8]...)); err != nil {
		return false, err
	}
	if e.Local {
		if err := w.outbox.Put(key, present); err != nil {
			return false, err
		}
	}
	if err := lb.addToDAG(w.index, op); err != nil {
		return false, err
	}
	return true, w.apply(lb, e)
}

// again handles an op stored before. A sealed op that can now be read is
// applied. A full copy of an op stored purged replaces it and is applied:
// the view then decides again whether its message is deleted. A purged copy
// never replaces a full one — anyone can strip a body, but only a delete the
// view accepts may purge it.
func (w *writer) again(lb *logBuckets, e *Entry, key []byte) (bool, error) {
	op := e.Op
	if !e.Readable {
		return false, nil
	}
	if sk := sealedKey(op); w.sealed.Get(sk) != nil {
		if err := w.sealed.Delete(sk); err != nil {
			return false, err
		}
		return true, w.apply(lb, e)
	}
	if op.Purged() || len(lb.log.Get(key)) == len(op.Encoded()) {
		return false, nil
	}
	if gone, err := w.ofDeleted(lb, op); err != nil || gone {
		return false, err
	}
	if err := lb.log.Put(key, op.Encoded()); err != nil {
		return false, err
	}
	if err := lb.stripped.Delete(op.ID[:]); err != nil {
		return false, err
	}
	return true, w.apply(lb, e)
}

// strip records a post or edit that arrived purged while its message is
// not known to be deleted: anyone can strip a body, so the full copy is
// still wanted.
func (w *writer) strip(lb *logBuckets, op *crdt.Op) error {
	msg := op.ID
	if op.Kind == crdt.KindEdit {
		msg = op.Target
	} else if op.Kind != crdt.KindPost {
		return nil
	}
	// A held delete cannot vouch for the message: whether it may delete is
	// only known once the post's row exists.
	gone, err := w.ofDeleted(lb, op)
	if err != nil || gone {
		return err
	}
	return lb.stripped.Put(op.ID[:], msg[:])
}

// unstripMessage forgets the stripped edits of a message now deleted: in
// purged form they are as they should be.
func (lb *logBuckets) unstripMessage(msg crdt.ID) error {
	var keys [][]byte
	c := lb.stripped.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if bytes.Equal(v, msg[:]) {
			keys = append(keys, clone(k))
		}
	}
	for _, k := range keys {
		if err := lb.stripped.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// apply runs a newly stored, or newly readable, op through its view.
func (w *writer) apply(lb *logBuckets, e *Entry) error {
	op := e.Op
	if !e.Readable {
		if op.Purged() {
			return w.strip(lb, op)
		}
		return w.sealed.Put(sealedKey(op), present)
	}
	if op.Kind == crdt.KindEdit {
		if err := lb.edits.Put(append(op.Target[:len(op.Target):len(op.Target)], op.ID[:]...), present); err != nil {
			return err
		}
	}
	if err := lb.view(w).Apply(crdt.Opened{Op: op, Body: e.Body}); err != nil {
		return err
	}
	if op.Kind != crdt.KindEdit {
		// A post the view deletes as it lands was purged by PutMessage.
		return nil
	}
	// An edit of a message already deleted carries text nobody may read.
	if gone, err := w.ofDeleted(lb, op); err != nil || !gone {
		return err
	}
	return lb.purge(w.index, op.ID)
}

// ofDeleted reports whether op is the post or an edit of a message that
// is deleted.
func (w *writer) ofDeleted(lb *logBuckets, op *crdt.Op) (bool, error) {
	msg := op.ID
	switch op.Kind {
	case crdt.KindPost:
	case crdt.KindEdit:
		msg = op.Target
	default:
		return false, nil
	}
	m, err := messageByID(w.index, lb.msgs, lb.id, msg)
	return m != nil && m.Deleted, err
}

func sealedKey(op *crdt.Op) []byte {
	return append(op.Epoch[:len(op.Epoch):len(op.Epoch)], op.ID[:]...)
}

// purgeMessage replaces the stored post of a deleted message, and every
// edit of it, by their purged forms: a delete leaves no content behind.
func (lb *logBuckets) purgeMessage(index *bolt.Bucket, id crdt.ID) error {
	if err := lb.purge(index, id); err != nil {
		return err
	}
	if err := lb.unstripMessage(id); err != nil {
		return err
	}
	var keys [][]byte
	c := lb.edits.Cursor()
	for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
		keys = append(keys, clone(k))
	}
	for _, k := range keys {
		edit, _ := crdt.IDFromBytes(k[crdt.IDSize:])
		if err := lb.purge(index, edit); err != nil {
			return err
		}
		if err := lb.edits.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// purge replaces one stored op of this log by its purged form.
func (lb *logBuckets) purge(index *bolt.Bucket, id crdt.ID) error {
	log, key, ok := locate(index, id)
	if !ok || log != lb.id {
		return nil
	}
	raw := lb.log.Get(key)
	if raw == nil {
		return fmt.Errorf("%w: op %s is indexed but not stored", ErrCorrupt, id)
	}
	op, err := crdt.DecodeStored(clone(raw))
	if err != nil {
		return fmt.Errorf("%w: op %s: %v", ErrCorrupt, id, err)
	}
	if op.Purged() || !op.Kind.Encrypted() {
		return nil
	}
	return lb.log.Put(key, op.Purge().Encoded())
}

// present is the value of set members. It must not be nil: bbolt's Get
// returns nil for a key put with a nil value until the transaction commits,
// which would hide the member from later ops in the same group commit.
var present = []byte{}

// logBuckets are one log's sub-buckets, and its heads while a
// transaction changes them.
type logBuckets struct {
	id                              crdt.ID
	bucket                          *bolt.Bucket
	log, msgs, missing, held, edits *bolt.Bucket
	stripped                        *bolt.Bucket
	heads                           map[crdt.ID]struct{}
	headsChanged                    bool
}

func (w *writer) log(id crdt.ID) (*logBuckets, error) {
	if lb := w.open[id]; lb != nil {
		return lb, nil
	}
	b, err := w.logs.CreateBucketIfNotExists(id[:])
	if err != nil {
		return nil, err
	}
	subs := make([]*bolt.Bucket, len(subBuckets))
	for i, name := range subBuckets {
		if subs[i], err = b.CreateBucketIfNotExists(name); err != nil {
			return nil, err
		}
	}
	// Logs and their rows grow at the end: pack pages full instead of
	// splitting them at bbolt's default half. Full, not 90 %: an op with a
	// 512-character text is about 1 KB, and a 90 % threshold left three
	// such ops in a 4-KB page that holds four (and four rows where five
	// fit), so a quarter more pages to write, sync and read.
	subs[0].FillPercent, subs[1].FillPercent = 1, 1
	heads, err := decodeIDs(b.Get(keyHeads))
	if err != nil {
		return nil, err
	}
	lb := &logBuckets{id: id, bucket: b, log: subs[0], msgs: subs[1], missing: subs[2], held: subs[3], edits: subs[4], stripped: subs[5],
		heads: make(map[crdt.ID]struct{}, len(heads))}
	for _, h := range heads {
		lb.heads[h] = struct{}{}
	}
	w.open[id] = lb
	return lb, nil
}

// flush writes what the transaction kept in memory.
func (w *writer) flush() error {
	for _, lb := range w.open {
		if !lb.headsChanged {
			continue
		}
		ids := make([]crdt.ID, 0, len(lb.heads))
		for h := range lb.heads {
			ids = append(ids, h)
		}
		slices.SortFunc(ids, crdt.ID.Compare)
		v := make([]byte, 0, len(ids)*crdt.IDSize)
		for _, h := range ids {
			v = append(v, h[:]...)
		}
		if err := lb.bucket.Put(keyHeads, v); err != nil {
			return err
		}
	}
	return nil
}

func (lb *logBuckets) view(w *writer) crdt.ChannelView {
	return crdt.ChannelView{Rows: boltRows{tx: w.tx, lb: lb, index: w.index}, MayDelete: w.mayDelete}
}

// addToDAG keeps heads = stored ops that no stored op names as a parent,
// and missing = parents named but not stored (what sync must fetch).
func (lb *logBuckets) addToDAG(index *bolt.Bucket, op *crdt.Op) error {
	lb.headsChanged = true
	for _, p := range op.Parents {
		if _, ok := lb.heads[p]; ok {
			delete(lb.heads, p)
		} else if index.Get(p[:]) == nil {
			if err := lb.missing.Put(p[:], present); err != nil {
				return err
			}
		}
	}
	// One seek for the lookup and the delete: a peer catching up removes
	// a missing entry for most ops it stores.
	c := lb.missing.Cursor()
	if k, _ := c.Seek(op.ID[:]); bytes.Equal(k, op.ID[:]) {
		return c.Delete()
	}
	lb.heads[op.ID] = struct{}{}
	// Heads are rewritten at every commit, so their number is capped:
	// ops citing nothing (a faulty or hostile peer's) would otherwise make
	// every commit cost O(log size). An op dropped from the heads is only
	// not cited by the next local op; sync does not use heads.
	for len(lb.heads) > MaxHeads {
		for h := range lb.heads {
			if h != op.ID {
				delete(lb.heads, h)
				break
			}
		}
	}
	return nil
}

// MaxHeads caps the heads a log keeps; authors cite at most
// crdt.MaxParents of them.
const MaxHeads = 1024

// decodeIDs splits concatenated IDs.
func decodeIDs(v []byte) ([]crdt.ID, error) {
	if len(v)%crdt.IDSize != 0 {
		return nil, fmt.Errorf("%w: id list of %d bytes", ErrCorrupt, len(v))
	}
	ids := make([]crdt.ID, 0, len(v)/crdt.IDSize)
	for i := 0; i < len(v); i += crdt.IDSize {
		id, err := crdt.IDFromBytes(v[i : i+crdt.IDSize])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// orderKey is the (HLC, ID) key that orders a log and its messages.
func orderKey(h crdt.HLC, id crdt.ID) []byte {
	k := make([]byte, 8+crdt.IDSize)
	binary.BigEndian.PutUint64(k, uint64(h))
	copy(k[8:], id[:])
	return k
}

// boltRows is crdt.Rows over one log's buckets in a write transaction.
type boltRows struct {
	tx    *bolt.Tx
	lb    *logBuckets
	index *bolt.Bucket
}

func (r boltRows) Message(id crdt.ID) (*crdt.Message, error) {
	return messageByID(r.index, r.lb.msgs, r.lb.id, id)
}

func (r boltRows) PutMessage(m *crdt.Message) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := r.lb.msgs.Put(orderKey(m.HLC, m.ID), b); err != nil {
		return err
	}
	if m.Deleted {
		return r.lb.purgeMessage(r.index, m.ID)
	}
	return nil
}

func (r boltRows) Hold(target crdt.ID, o crdt.Opened) error {
	b, err := o.Body.MarshalBinary()
	if err != nil {
		return err
	}
	return r.lb.held.Put(append(target[:len(target):len(target)], o.ID[:]...), b)
}

func (r boltRows) Release(target crdt.ID) ([]crdt.Opened, error) {
	var out []crdt.Opened
	var keys [][]byte
	c := r.lb.held.Cursor()
	for k, v := c.Seek(target[:]); k != nil && bytes.HasPrefix(k, target[:]); k, v = c.Next() {
		id, _ := crdt.IDFromBytes(k[crdt.IDSize:])
		op, err := loadOp(r.tx, id)
		if err != nil {
			return nil, fmt.Errorf("held op: %w", err)
		}
		var body crdt.Body
		if err := body.UnmarshalBinary(v); err != nil {
			return nil, fmt.Errorf("%w: held body: %v", ErrCorrupt, err)
		}
		out = append(out, crdt.Opened{Op: op, Body: body})
		keys = append(keys, clone(k))
	}
	for _, k := range keys {
		if err := r.lb.held.Delete(k); err != nil {
			return nil, err
		}
	}
	return out, nil
}
