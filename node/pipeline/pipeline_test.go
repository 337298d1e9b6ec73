package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/node/store"
)

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "ancore.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestIngestStoresGoodOpsAndRefusesBadOnes(t *testing.T) {
	st := newStore(t)
	a := crdttest.NewAuthor(t, "c", "general")
	p := New(st, a.Keyring)

	good := a.Posts(t, 3, 40)
	forged := append([]byte(nil), good[2].Encoded()...)
	forged[len(forged)-1] ^= 1 // last byte of the signature
	raws := [][]byte{good[0].Encoded(), []byte("not an op"), forged, good[1].Encoded()}

	rejected, err := p.Ingest(context.Background(), raws)
	if err != nil {
		t.Fatal(err)
	}
	if rejected[0] != nil || rejected[3] != nil {
		t.Fatalf("good ops refused: %v, %v", rejected[0], rejected[3])
	}
	if !errors.Is(rejected[1], crdt.ErrMalformed) {
		t.Errorf("garbage: %v, want ErrMalformed", rejected[1])
	}
	if !errors.Is(rejected[2], crdt.ErrBadSignature) {
		t.Errorf("forged signature: %v, want ErrBadSignature", rejected[2])
	}
	if ok, _ := st.Has(good[2].ID); ok {
		t.Error("an op with a forged signature was stored")
	}
	msgs, err := st.Messages(a.Channel, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].ID != good[0].ID || msgs[1].ID != good[1].ID || msgs[0].Text != good[0].Body.Text {
		t.Fatalf("messages after ingest: %+v", msgs)
	}
}

func TestIngestWithoutKeyKeepsOpSealedUntilKeyArrives(t *testing.T) {
	st := newStore(t)
	a := crdttest.NewAuthor(t, "c", "general")
	ring := crdt.Keyring{}
	p := New(st, func() crdt.Keyring { return ring })
	post := a.Post(t, "hello")

	if rejected, err := p.Ingest(context.Background(), [][]byte{post.Encoded()}); err != nil || rejected[0] != nil {
		t.Fatal(err, rejected[0])
	}
	if ok, _ := st.Has(post.ID); !ok {
		t.Fatal("op without key not stored")
	}
	if msgs, _ := st.Messages(a.Channel, store.Page{}); len(msgs) != 0 {
		t.Fatalf("unreadable op made a row: %+v", msgs)
	}
	sealed, err := st.Sealed(post.Epoch)
	if err != nil || len(sealed) != 1 || sealed[0].ID != post.ID {
		t.Fatalf("sealed = %v, %v", sealed, err)
	}

	ring = a.Keyring()
	if _, err := p.Ingest(context.Background(), [][]byte{post.Encoded()}); err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Messages(a.Channel, store.Page{})
	if err != nil || len(msgs) != 1 || msgs[0].Text != "hello" {
		t.Fatalf("after the key arrived: %+v, %v", msgs, err)
	}
	if sealed, _ := st.Sealed(post.Epoch); len(sealed) != 0 {
		t.Fatalf("still sealed: %v", sealed)
	}
}

func TestIngestUnderWrongKeyChangesNothing(t *testing.T) {
	st := newStore(t)
	a := crdttest.NewAuthor(t, "c", "general")
	post := a.Post(t, "secret")
	// A key filed under the op's epoch that is not its key: the body fails
	// to authenticate, as it would for a tampered author.
	wrong, err := crdt.NewEpochKey()
	if err != nil {
		t.Fatal(err)
	}
	p := New(st, func() crdt.Keyring { return crdt.Keyring{post.Epoch: wrong} })
	if rejected, err := p.Ingest(context.Background(), [][]byte{post.Encoded()}); err != nil || rejected[0] != nil {
		t.Fatal(err, rejected[0])
	}
	if msgs, _ := st.Messages(a.Channel, store.Page{}); len(msgs) != 0 {
		t.Fatalf("an undecryptable op made a row: %+v", msgs)
	}
}

func TestConcurrentIngest(t *testing.T) {
	st := newStore(t)
	a := crdttest.NewAuthor(t, "c", "general")
	p := New(st, a.Keyring)
	posts := a.Posts(t, 400, 20)
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			var raws [][]byte
			for i := w; i < len(posts); i += 8 {
				raws = append(raws, posts[i].Encoded())
			}
			_, err := p.Ingest(context.Background(), raws)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range posts {
		if _, err := st.Message(a.Channel, o.ID); err != nil {
			t.Fatalf("message %s: %v", o.ID, err)
		}
	}
	heads, err := st.Heads(a.Channel)
	if err != nil || len(heads) != 1 || heads[0] != posts[len(posts)-1].ID {
		t.Fatalf("heads = %v, %v; want the last post", heads, err)
	}
}

func TestIngestLogRefusesOtherLogs(t *testing.T) {
	st := newStore(t)
	a := crdttest.NewAuthor(t, "c", "general")
	other := crdttest.NewAuthor(t, "c", "random")
	p := New(st, a.Keyring)
	mine, theirs := a.Post(t, "here"), other.Post(t, "elsewhere")
	rejected, err := p.IngestLog(context.Background(), a.Channel, [][]byte{mine.Encoded(), theirs.Encoded()})
	if err != nil {
		t.Fatal(err)
	}
	if rejected[0] != nil || !errors.Is(rejected[1], ErrWrongLog) {
		t.Fatalf("rejected = %v", rejected)
	}
	if ok, _ := st.Has(theirs.ID); ok {
		t.Fatal("an op of another log was stored")
	}
}
