package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/ancore/ancore/crdt"
	bolt "go.etcd.io/bbolt"
)

// Page limits, as in Discord's API.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 100
)

// Page asks for messages of a channel: the latest Limit messages, or those
// Before, After or Around a message. At most one anchor may be set.
type Page struct {
	Before, After, Around crdt.ID
	// Limit is 1–100; zero means DefaultPageLimit.
	Limit int
}

// Messages returns a page of a channel's messages in chronological order
// (oldest first). Deleted messages are left out. Around returns up to
// Limit/2 messages before the anchor, the anchor, and newer ones up to
// Limit in all.
func (s *Store) Messages(channel crdt.ID, p Page) ([]*crdt.Message, error) {
	limit := p.Limit
	if limit == 0 {
		limit = DefaultPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return nil, fmt.Errorf("%w: limit %d not in 1–%d", ErrBadQuery, p.Limit, MaxPageLimit)
	}
	var anchor crdt.ID
	anchors := 0
	for _, a := range []crdt.ID{p.Before, p.After, p.Around} {
		if !a.IsZero() {
			anchor = a
			anchors++
		}
	}
	if anchors > 1 {
		return nil, fmt.Errorf("%w: at most one of before, after, around", ErrBadQuery)
	}
	var out []*crdt.Message
	err := s.view(func(tx *bolt.Tx) error {
		msgs := logBucket(tx, channel, subMsgs)
		if anchors == 0 {
			if msgs == nil {
				return nil
			}
			var err error
			out, err = scanBack(msgs, nil, limit)
			return err
		}
		var m *crdt.Message
		if msgs != nil {
			var err error
			if m, err = messageByID(tx.Bucket(bucketIndex), msgs, channel, anchor); err != nil {
				return err
			}
		}
		if m == nil {
			return fmt.Errorf("message %s in channel %s: %w", anchor, channel, ErrNotFound)
		}
		key := orderKey(m.HLC, m.ID)
		var err error
		switch anchor {
		case p.Before:
			out, err = scanBack(msgs, key, limit)
		case p.After:
			out, err = scanForward(msgs, key, false, limit)
		default:
			var newer []*crdt.Message
			if out, err = scanBack(msgs, key, limit/2); err == nil {
				newer, err = scanForward(msgs, key, true, limit-len(out))
				out = append(out, newer...)
			}
		}
		return err
	})
	return out, err
}

// scanBack returns up to n live messages before key (before the end when
// key is nil), oldest first.
func scanBack(msgs *bolt.Bucket, key []byte, n int) ([]*crdt.Message, error) {
	if n == 0 {
		return nil, nil
	}
	var out []*crdt.Message
	c := msgs.Cursor()
	var k, v []byte
	if key == nil {
		k, v = c.Last()
	} else {
		c.Seek(key)
		k, v = c.Prev()
	}
	for ; k != nil && len(out) < n; k, v = c.Prev() {
		m, err := decodeRow(v)
		if err != nil {
			return nil, err
		}
		if !m.Deleted {
			out = append(out, m)
		}
	}
	slices.Reverse(out)
	return out, nil
}

// scanForward returns up to n live messages after key (from key when
// inclusive), oldest first.
func scanForward(msgs *bolt.Bucket, key []byte, inclusive bool, n int) ([]*crdt.Message, error) {
	var out []*crdt.Message
	c := msgs.Cursor()
	k, v := c.Seek(key)
	if k != nil && !inclusive && string(k) == string(key) {
		k, v = c.Next()
	}
	for ; k != nil && len(out) < n; k, v = c.Next() {
		m, err := decodeRow(v)
		if err != nil {
			return nil, err
		}
		if !m.Deleted {
			out = append(out, m)
		}
	}
	return out, nil
}

func decodeRow(v []byte) (*crdt.Message, error) {
	m := new(crdt.Message)
	if err := m.UnmarshalBinary(v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, nil
}

// Message returns one message row (tombstones included).
func (s *Store) Message(channel, id crdt.ID) (*crdt.Message, error) {
	var m *crdt.Message
	err := s.view(func(tx *bolt.Tx) error {
		msgs := logBucket(tx, channel, subMsgs)
		if msgs == nil {
			return nil
		}
		var err error
		m, err = messageByID(tx.Bucket(bucketIndex), msgs, channel, id)
		return err
	})
	if err == nil && m == nil {
		err = fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	return m, err
}

// Op returns the encoded op with id.
func (s *Store) Op(id crdt.ID) ([]byte, error) {
	var b []byte
	err := s.view(func(tx *bolt.Tx) error {
		b = clone(opBytes(tx, id))
		return nil
	})
	if err == nil && b == nil {
		err = fmt.Errorf("op %s: %w", id, ErrNotFound)
	}
	return b, err
}

// Has reports whether the op with id is stored.
func (s *Store) Has(id crdt.ID) (bool, error) {
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketIndex).Get(id[:]) != nil
		return nil
	})
	return ok, err
}

// Heads returns the log's DAG heads: the parents of the next local op.
func (s *Store) Heads(log crdt.ID) ([]crdt.ID, error) {
	var ids []crdt.ID
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogs).Bucket(log[:])
		if b == nil {
			return nil
		}
		var err error
		ids, err = decodeIDs(b.Get(keyHeads))
		return err
	})
	return ids, err
}

// Missing returns parents that stored ops of the log name but that are not
// stored themselves: what sync has to fetch.
func (s *Store) Missing(log crdt.ID) ([]crdt.ID, error) {
	var ids []crdt.ID
	err := s.view(func(tx *bolt.Tx) error {
		b := logBucket(tx, log, subMissing)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			id, err := crdt.IDFromBytes(k)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			ids = append(ids, id)
			return nil
		})
	})
	return ids, err
}

// LogLen returns how many ops a log holds.
func (s *Store) LogLen(log crdt.ID) (int, error) {
	var n int
	err := s.view(func(tx *bolt.Tx) error {
		if b := logBucket(tx, log, subLog); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// Outbox returns up to limit local ops not yet marked sent, oldest first.
func (s *Store) Outbox(limit int) ([]*crdt.Op, error) {
	return s.opsListed(bucketOutbox, nil, 8, limit)
}

// Pending reports whether the local op (hlc, id) is still in the outbox.
func (s *Store) Pending(hlc crdt.HLC, id crdt.ID) (bool, error) {
	var pending bool
	err := s.view(func(tx *bolt.Tx) error {
		pending = tx.Bucket(bucketOutbox).Get(orderKey(hlc, id)) != nil
		return nil
	})
	return pending, err
}

// MarkSent removes ops from the outbox.
func (s *Store) MarkSent(ops ...*crdt.Op) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for _, op := range ops {
			if err := b.Delete(orderKey(op.HLC, op.ID)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Sealed returns the ops stored under epoch whose bodies could not be read
// yet; ingest them again, readable, once the key is known.
func (s *Store) Sealed(epoch crdt.EpochID) ([]*crdt.Op, error) {
	return s.opsListed(bucketSealed, epoch[:], len(epoch), -1)
}

// opsListed loads up to limit (all if negative) ops named by the keys of a
// list bucket that start with prefix; each key holds the op's ID from byte
// idAt on.
func (s *Store) opsListed(list, prefix []byte, idAt, limit int) ([]*crdt.Op, error) {
	var out []*crdt.Op
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(list).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) != limit; k, _ = c.Next() {
			id, err := crdt.IDFromBytes(k[idAt:])
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrCorrupt, list, err)
			}
			op, err := loadOp(tx, id)
			if err != nil {
				return err
			}
			out = append(out, op)
		}
		return nil
	})
	return out, err
}

// Stamps returns the (HLC, ID) of every op of a log, in log order: the set
// sync reconciles. Posts and edits held only in a purged form that no
// delete here accounts for are left out, so that sync fetches a full copy.
func (s *Store) Stamps(log crdt.ID) ([]crdt.Stamp, error) {
	var out []crdt.Stamp
	err := s.view(func(tx *bolt.Tx) error {
		b := logBucket(tx, log, subLog)
		if b == nil {
			return nil
		}
		stripped := map[string]bool{}
		if sb := logBucket(tx, log, subStripped); sb != nil {
			sb.ForEach(func(k, _ []byte) error { stripped[string(k)] = true; return nil })
		}
		return b.ForEach(func(k, _ []byte) error {
			if stripped[string(k[8:])] {
				return nil
			}
			id, err := crdt.IDFromBytes(k[8:])
			if err != nil {
				return fmt.Errorf("%w: log key: %v", ErrCorrupt, err)
			}
			out = append(out, crdt.Stamp{HLC: crdt.HLC(binary.BigEndian.Uint64(k)), ID: id})
			return nil
		})
	})
	return out, err
}

// Ops returns the stored bytes of the ops with ids that are stored, in the
// order of ids.
func (s *Store) Ops(ids []crdt.ID) ([][]byte, error) {
	var out [][]byte
	err := s.view(func(tx *bolt.Tx) error {
		for _, id := range ids {
			if b := opBytes(tx, id); b != nil {
				out = append(out, clone(b))
			}
		}
		return nil
	})
	return out, err
}
