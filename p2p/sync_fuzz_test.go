package p2p

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p/recon"
	"github.com/libp2p/go-libp2p/core/peer"
)

// memLog is an in-memory SyncLog.
type memLog struct {
	items []recon.Item
	ops   map[crdt.ID][]byte
}

func (m *memLog) Items() ([]recon.Item, error) { return append([]recon.Item(nil), m.items...), nil }

func (m *memLog) Ops(ids []crdt.ID) ([][]byte, error) {
	var out [][]byte
	for _, id := range ids {
		if b, ok := m.ops[id]; ok {
			out = append(out, b)
		}
	}
	return out, nil
}

func (m *memLog) Ingest(_ context.Context, raws [][]byte) error {
	v := crdt.NewVerifier()
	for _, r := range raws {
		if _, err := v.Decode(r, time.Now()); err != nil {
			return ErrSyncProtocol
		}
	}
	return nil
}

// FuzzSyncServe feeds arbitrary bytes to the serving side of the sync
// protocol: it must end with an error or a finished session, never panic
// or hang.
func FuzzSyncServe(f *testing.F) {
	a := crdttest.NewAuthor(f, "c", "general")
	log := &memLog{ops: map[crdt.ID][]byte{}}
	for _, o := range a.Posts(f, 8, 10) {
		log.items = append(log.items, recon.Item{HLC: o.HLC, ID: o.ID})
		log.ops[o.ID] = o.Encoded()
	}
	// A well-formed start: open, the initiator's first recon message.
	var seed bytes.Buffer
	fr := newFramer(struct {
		io.Reader
		io.Writer
	}{nil, &seed})
	fr.write(frameOpen, []byte("h"))
	first, _ := recon.NewReconciler(recon.NewSet(nil)).Initiate()
	fr.write(frameRecon, first)
	f.Add(seed.Bytes())
	fr.write(frameEnd, nil)
	fr.write(frameEnd, nil)
	f.Add(seed.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{2, frameOpen, 'h', 1, 9})

	s := &Sync{logs: func(peer.ID, string) (SyncLog, bool) { return log, true }}
	f.Fuzz(func(t *testing.T, in []byte) {
		fr := newFramer(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(in), io.Discard})
		s.respond(context.Background(), "", fr)
	})
}
