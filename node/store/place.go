package store

import (
	"bytes"
	"fmt"

	"github.com/ancore/ancore/crdt"
	bolt "go.etcd.io/bbolt"
)

// locate reads the index: the log an op is in and its (HLC, ID) key there.
func locate(index *bolt.Bucket, id crdt.ID) (log crdt.ID, key []byte, ok bool) {
	v := index.Get(id[:])
	if len(v) != crdt.IDSize+8 {
		return log, nil, false
	}
	copy(log[:], v)
	key = make([]byte, 0, 8+crdt.IDSize)
	key = append(append(key, v[crdt.IDSize:]...), id[:]...)
	return log, key, true
}

// opBytes returns the stored bytes of an op, or nil. The slice is valid
// only during tx.
func opBytes(tx *bolt.Tx, id crdt.ID) []byte {
	log, key, ok := locate(tx.Bucket(bucketIndex), id)
	if !ok {
		return nil
	}
	b := logBucket(tx, log, subLog)
	if b == nil {
		return nil
	}
	return b.Get(key)
}

// loadOp decodes a stored op.
func loadOp(tx *bolt.Tx, id crdt.ID) (*crdt.Op, error) {
	raw := opBytes(tx, id)
	if raw == nil {
		return nil, fmt.Errorf("%w: op %s is indexed but not stored", ErrCorrupt, id)
	}
	op, err := crdt.DecodeStored(clone(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: op %s: %v", ErrCorrupt, id, err)
	}
	return op, nil
}

// messageByID returns the row of message id in log logID, or nil if that
// log has no such message (not stored, not a post, or another log's).
func messageByID(index, msgs *bolt.Bucket, logID, id crdt.ID) (*crdt.Message, error) {
	log, key, ok := locate(index, id)
	if !ok || !bytes.Equal(log[:], logID[:]) {
		return nil, nil
	}
	v := msgs.Get(key)
	if v == nil {
		return nil, nil
	}
	return decodeRow(v)
}

// logBucket returns a sub-bucket of a log, or nil if the log has none.
func logBucket(tx *bolt.Tx, log crdt.ID, sub []byte) *bolt.Bucket {
	b := tx.Bucket(bucketLogs).Bucket(log[:])
	if b == nil {
		return nil
	}
	return b.Bucket(sub)
}
