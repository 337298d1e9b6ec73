package p2p

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p/recon"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestReplicaQueueKeepsEveryPeer: asking for syncs with more peers than
// any fixed queue would hold loses none, and a peer asked twice before its
// turn is synced once.
func TestReplicaQueueKeepsEveryPeer(t *testing.T) {
	r := NewReplica(nil, nil, nil, nil, "")
	const peers = 500
	for round := range 2 {
		for i := range peers {
			r.ask(peer.ID(fmt.Sprint(i)))
		}
		if round == 0 && len(r.due) != 1 {
			t.Fatal("no token while syncs are pending")
		}
	}
	for i := range peers {
		p, ok, more := r.next()
		if !ok || p != peer.ID(fmt.Sprint(i)) {
			t.Fatalf("turn %d: %q, %v; want peer %d", i, p, ok, i)
		}
		if more != (i < peers-1) {
			t.Fatalf("turn %d: more = %v", i, more)
		}
	}
	if _, ok, _ := r.next(); ok {
		t.Fatal("a peer asked twice was synced twice")
	}
}

// judgedLog is a ReplicaLog whose Store keeps ops only once the log
// accepts their author: as a node's store, which drops an op it cannot
// judge yet.
type judgedLog struct {
	mu      sync.Mutex
	accepts bool
	ops     map[crdt.ID][]byte
	stored  map[crdt.ID]int // how often each op was stored
}

func newJudgedLog() *judgedLog {
	return &judgedLog{ops: map[crdt.ID][]byte{}, stored: map[crdt.ID]int{}}
}

func (l *judgedLog) Items() ([]recon.Item, error) { return nil, nil }

func (l *judgedLog) Ingest(context.Context, [][]byte) error { return nil }

func (l *judgedLog) accept() {
	l.mu.Lock()
	l.accepts = true
	l.mu.Unlock()
}

func (l *judgedLog) Ops(ids []crdt.ID) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	for _, id := range ids {
		if b, ok := l.ops[id]; ok {
			out = append(out, b)
		}
	}
	return out, nil
}

func (l *judgedLog) Store(_ context.Context, ops []*crdt.Op) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.accepts {
		for _, op := range ops {
			l.ops[op.ID] = op.Encoded()
			l.stored[op.ID]++
		}
	}
	return nil
}

func (l *judgedLog) storedCount(id crdt.ID) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stored[id]
}

func (l *judgedLog) Missing() (int, error) { return 0, nil }

// TestReplicaOffersIgnoredOps: an op the validator ignored reaches the
// replica, which tells Ignored who sent it and stores the op once SyncAll
// says the log may accept it — from what it kept, with no sync: the
// sender has no sync protocol at all.
func TestReplicaOffersIgnoredOps(t *testing.T) {
	author := crdttest.NewAuthor(t, "c", "general")
	a, b := testHost(t), testHost(t)
	var known atomic.Bool
	gb, err := NewGossip(t.Context(), b, func(*crdt.Op) Verdict {
		if known.Load() {
			return Accept
		}
		return Ignore
	})
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := join(t, testGossip(t, a), author.Channel), join(t, gb, author.Channel)
	connect(t, a, b)
	wait.For(t, "topic peers", func() bool { return hasPeer(ta.Peers(), b.ID()) && hasPeer(tb.Peers(), a.ID()) })

	log := newJudgedLog()
	r := NewReplica(b, NewSync(b, func(peer.ID, string) (SyncLog, bool) { return nil, false }), tb, log, "handle")
	senders := make(chan peer.ID, 1)
	r.Ignored = func(p peer.ID) {
		select {
		case senders <- p:
		default:
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	post := author.Post(t, "before my admission")
	if err := ta.Publish(t.Context(), post.Op); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-senders:
		if p != a.ID() {
			t.Fatalf("Ignored heard of %s, want the sender %s", p, a.ID())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Ignored heard of no sender")
	}
	if log.storedCount(post.ID) != 0 {
		t.Fatal("stored an op the log refuses")
	}
	known.Store(true)
	log.accept()
	r.SyncAll()
	wait.For(t, "the ignored op stored", func() bool { return log.storedCount(post.ID) == 1 })
}

// TestReplicaWaitingBounds: ignored ops wait a SyncInterval at most, and
// no more than maxWaitingBytes of them, the oldest dropped first; once the
// log has taken them they stop waiting, each stored once.
func TestReplicaWaitingBounds(t *testing.T) {
	author := crdttest.NewAuthor(t, "c", "general")
	log := newJudgedLog()
	r := NewReplica(nil, nil, nil, log, "")
	ctx := t.Context()
	old := author.Post(t, "old")
	r.wait(ctx, ignoredOp{op: old.Op})
	r.waiting[0].until = time.Now().Add(-time.Second)
	post := author.Post(t, "recent")
	r.wait(ctx, ignoredOp{op: post.Op})
	r.offerWaiting(ctx)
	if len(r.waiting) != 1 || r.waiting[0].op.ID != post.ID {
		t.Fatalf("%d ops wait; want the recent one only", len(r.waiting))
	}

	big := author.Posts(t, 2*maxWaitingBytes/4000, 4000)
	for _, p := range big {
		r.wait(ctx, ignoredOp{op: p.Op})
	}
	if r.waitingBytes > maxWaitingBytes {
		t.Fatalf("%d bytes wait, more than %d", r.waitingBytes, maxWaitingBytes)
	}
	if last := r.waiting[len(r.waiting)-1].op.ID; last != big[len(big)-1].ID {
		t.Fatal("the newest op does not wait")
	}
	if r.waiting[0].op.ID == post.ID {
		t.Fatal("the oldest op still waits")
	}
	waited := r.waiting[0].op.ID
	log.accept()
	r.offerWaiting(ctx)
	r.offerWaiting(ctx)
	if len(r.waiting) != 0 || r.waitingBytes != 0 {
		t.Fatalf("%d ops (%d bytes) still wait after the log took them", len(r.waiting), r.waitingBytes)
	}
	if n := log.storedCount(waited); n != 1 {
		t.Fatalf("a waiting op was stored %d times", n)
	}
	if n := log.storedCount(post.ID); n != 0 {
		t.Fatal("an op dropped from the wait was stored")
	}
}
