package pipeline

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// syncPeer is a host serving one log from a store through a pipeline.
type syncPeer struct {
	host  host.Host
	store *store.Store
	pipe  *Pipeline
	sync  *p2p.Sync
}

const testHandle = "test-log-handle"

func newSyncPeer(t testing.TB, a *crdttest.Author, serve func(p *syncPeer) p2p.SyncLog) *syncPeer {
	t.Helper()
	h := newHost(t)
	sp := &syncPeer{host: h, store: newStore(t)}
	sp.pipe = New(sp.store, a.Keyring)
	if serve == nil {
		serve = func(p *syncPeer) p2p.SyncLog { return p.pipe.SyncLog(a.Channel) }
	}
	sp.sync = p2p.NewSync(h, func(_ peer.ID, handle string) (p2p.SyncLog, bool) {
		return serve(sp), handle == testHandle
	})
	return sp
}

func (sp *syncPeer) connect(t testing.TB, o *syncPeer) {
	t.Helper()
	if err := sp.host.Connect(context.Background(), peer.AddrInfo{ID: o.host.ID(), Addrs: o.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func ingestLocal(t testing.TB, st *store.Store, ops []crdt.Opened) {
	t.Helper()
	var es []store.Entry
	for _, o := range ops {
		es = append(es, store.Entry{Op: o.Op, Body: o.Body, Readable: true})
	}
	for lo := 0; lo < len(es); lo += 1000 {
		if err := st.Ingest(context.Background(), es[lo:min(lo+1000, len(es))]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOfflineNodeCatchesUpBySync: 10k messages written while B was away
// reach B through one sync session alone, with progress reported.
func TestOfflineNodeCatchesUpBySync(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	posts := a.Posts(t, 10_000, 40)
	A, B := newSyncPeer(t, a, nil), newSyncPeer(t, a, nil)
	ingestLocal(t, A.store, posts)
	B.connect(t, A)

	var last [2]int
	res, err := B.sync.Run(t.Context(), A.host.ID(), testHandle, B.pipe.SyncLog(a.Channel), func(done, total int) {
		last = [2]int{done, total}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != len(posts) || res.Sent != 0 || last != [2]int{len(posts), len(posts)} {
		t.Fatalf("result %+v, last progress %v", res, last)
	}
	t.Logf("caught up on %d ops in %d round trips", res.Received, res.RoundTrips)
	if !bytes.Equal(channelBytes(t, B.store, a.Channel), channelBytes(t, A.store, a.Channel)) {
		t.Fatal("B's channel differs from A's")
	}
	heads, err := B.store.Heads(a.Channel)
	if err != nil || len(heads) != 1 || heads[0] != posts[len(posts)-1].ID {
		t.Fatalf("B's heads %v, %v", heads, err)
	}
}

// Both sides wrote while apart: one session, started by either side,
// leaves both with everything.
func TestSyncBothWays(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	b := a.Peer(t)
	shared := a.Posts(t, 300, 20)
	onlyA := a.Posts(t, 200, 20)
	onlyB := b.Posts(t, 250, 20)
	A, B := newSyncPeer(t, a, nil), newSyncPeer(t, a, nil)
	ingestLocal(t, A.store, append(append([]crdt.Opened{}, shared...), onlyA...))
	ingestLocal(t, B.store, append(append([]crdt.Opened{}, shared...), onlyB...))
	A.connect(t, B)
	res, err := A.sync.Run(t.Context(), B.host.ID(), testHandle, A.pipe.SyncLog(a.Channel), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != len(onlyB) || res.Sent != len(onlyA) {
		t.Fatalf("result %+v", res)
	}
	if !bytes.Equal(channelBytes(t, A.store, a.Channel), channelBytes(t, B.store, a.Channel)) {
		t.Fatal("the replicas differ after sync")
	}
}

func TestSyncUnknownLogIsRefused(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	A, B := newSyncPeer(t, a, nil), newSyncPeer(t, a, nil)
	B.connect(t, A)
	_, err := B.sync.Run(t.Context(), A.host.ID(), "no such log", B.pipe.SyncLog(a.Channel), nil)
	if !errors.Is(err, p2p.ErrSyncRefused) {
		t.Fatalf("sync of an unknown log: %v, want ErrSyncRefused", err)
	}
}

// evilLog serves a real set but sends forged bytes for every op.
type evilLog struct{ p2p.SyncLog }

func (e evilLog) Ops(ids []crdt.ID) ([][]byte, error) {
	raws, err := e.SyncLog.Ops(ids)
	for i := range raws {
		raws[i] = append([]byte(nil), raws[i]...)
		raws[i][len(raws[i])-1] ^= 1 // the signature's last byte
	}
	return raws, err
}

// A peer that sends ops that do not verify is disconnected and nothing it
// sent is stored.
func TestSyncGarbageDisconnects(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	posts := a.Posts(t, 50, 20)
	evil := newSyncPeer(t, a, func(p *syncPeer) p2p.SyncLog { return evilLog{p.pipe.SyncLog(a.Channel)} })
	ingestLocal(t, evil.store, posts)
	B := newSyncPeer(t, a, nil)
	B.connect(t, evil)
	_, err := B.sync.Run(t.Context(), evil.host.ID(), testHandle, B.pipe.SyncLog(a.Channel), nil)
	if !errors.Is(err, p2p.ErrSyncProtocol) {
		t.Fatalf("sync with a forger: %v, want ErrSyncProtocol", err)
	}
	if stamps, _ := B.store.Stamps(a.Channel); len(stamps) != 0 {
		t.Fatalf("%d forged ops stored", len(stamps))
	}
	if len(B.host.Network().ConnsToPeer(evil.host.ID())) != 0 {
		t.Fatal("the forger is still connected")
	}
}

// Raw garbage on the stream: the server drops the stream and the peer.
func TestSyncServerDropsGarbage(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	A := newSyncPeer(t, a, nil)
	B := newSyncPeer(t, a, nil)
	B.connect(t, A)
	s, err := B.host.NewStream(t.Context(), A.host.ID(), p2p.SyncProtocol)
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1}) // a 4 GiB frame
	buf := make([]byte, 1)
	if _, err := s.Read(buf); err == nil {
		t.Fatal("the server answered garbage")
	}
	wait.For(t, "A to drop B", func() bool { return len(A.host.Network().ConnsToPeer(B.host.ID())) == 0 })
}

// pushyLog sends every op twice.
type pushyLog struct{ p2p.SyncLog }

func (l pushyLog) Ops(ids []crdt.ID) ([][]byte, error) {
	raws, err := l.SyncLog.Ops(ids)
	return append(raws, raws...), err
}

// A peer that sends more ops than were asked for breaks the protocol.
func TestSyncRefusesUnaskedOps(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	pushy := newSyncPeer(t, a, func(p *syncPeer) p2p.SyncLog { return pushyLog{p.pipe.SyncLog(a.Channel)} })
	ingestLocal(t, pushy.store, a.Posts(t, 10, 20))
	B := newSyncPeer(t, a, nil)
	B.connect(t, pushy)
	if _, err := B.sync.Run(t.Context(), pushy.host.ID(), testHandle, B.pipe.SyncLog(a.Channel), nil); !errors.Is(err, p2p.ErrSyncProtocol) {
		t.Fatalf("sync with a peer sending unasked ops: %v, want ErrSyncProtocol", err)
	}
}

// strippingLog serves every op without its body.
type strippingLog struct{ p2p.SyncLog }

func (l strippingLog) Ops(ids []crdt.ID) ([][]byte, error) {
	raws, err := l.SyncLog.Ops(ids)
	for i, r := range raws {
		op, derr := crdt.DecodeStored(r)
		if derr != nil {
			return nil, derr
		}
		raws[i] = op.Purge().Encoded()
	}
	return raws, err
}

// A peer that serves bodiless copies cannot hide messages: they stay
// wanted, and the next honest peer's sync brings the full ops.
func TestStrippedCopiesAreFetchedAgain(t *testing.T) {
	a := crdttest.NewAuthor(t, "c", "general")
	posts := a.Posts(t, 20, 20)
	stripper := newSyncPeer(t, a, func(p *syncPeer) p2p.SyncLog { return strippingLog{p.pipe.SyncLog(a.Channel)} })
	honest := newSyncPeer(t, a, nil)
	ingestLocal(t, stripper.store, posts)
	ingestLocal(t, honest.store, posts)
	B := newSyncPeer(t, a, nil)
	B.connect(t, stripper)
	B.connect(t, honest)
	if _, err := B.sync.Run(t.Context(), stripper.host.ID(), testHandle, B.pipe.SyncLog(a.Channel), nil); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := B.store.Messages(a.Channel, store.Page{}); len(msgs) != 0 {
		t.Fatalf("bodiless copies made %d rows", len(msgs))
	}
	res, err := B.sync.Run(t.Context(), honest.host.ID(), testHandle, B.pipe.SyncLog(a.Channel), nil)
	if err != nil || res.Received != len(posts) {
		t.Fatalf("second sync: %+v, %v", res, err)
	}
	if !bytes.Equal(channelBytes(t, B.store, a.Channel), channelBytes(t, honest.store, a.Channel)) {
		t.Fatal("B lacks the messages after an honest sync")
	}
}
