package store

import (
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
)

// testStored decodes the stored form of an op.
func testStored(t *testing.T, s *Store, id crdt.ID) *crdt.Op {
	t.Helper()
	raw, err := s.Op(id)
	if err != nil {
		t.Fatal(err)
	}
	op, err := crdt.DecodeStored(raw)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestDeletePurgesPostAndEdits(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	post := a.post(t, "secret plans")
	edit1 := a.edit(t, post.Op.ID, "secret plans v2")
	react := a.react(t, post.Op.ID, "👀")
	del := a.del(t, post.Op.ID)
	late := a.edit(t, post.Op.ID, "after the delete")
	testIngest(t, s, post, edit1, react)
	testIngest(t, s, del)
	testIngest(t, s, late)

	for _, e := range []Entry{post, edit1, late} {
		op := testStored(t, s, e.Op.ID)
		if !op.Purged() || op.ID != e.Op.ID {
			t.Errorf("%s %s: stored purged=%v", e.Op.Kind, e.Op.ID, op.Purged())
		}
		// What is left still verifies, so it can be served to peers.
		if _, err := crdt.NewVerifier().Decode(op.Encoded(), time.Now()); err != nil {
			t.Errorf("purged %s does not verify: %v", e.Op.Kind, err)
		}
	}
	if testStored(t, s, react.Op.ID).Purged() {
		t.Error("a reaction was purged")
	}
	m, err := s.Message(a.channel, post.Op.ID)
	if err != nil || !m.Deleted || m.Text != "" {
		t.Fatalf("row after delete: %+v, %v", m, err)
	}
	testReopen(t, s)
}

func TestDeleteBeforePostPurgesPostOnArrival(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	post := a.post(t, "gone")
	edit := a.edit(t, post.Op.ID, "gone too")
	del := a.del(t, post.Op.ID)
	testIngest(t, s, del, edit)
	testIngest(t, s, post)
	for _, e := range []Entry{post, edit} {
		if !testStored(t, s, e.Op.ID).Purged() {
			t.Errorf("%s not purged", e.Op.Kind)
		}
	}
}

// A purged copy is what a peer that saw the delete serves. Without the
// delete it shows nothing; a full copy arriving later restores the
// message. A purged copy never replaces a full one: anyone can strip a
// body, so only a delete may purge.
func TestPurgedCopies(t *testing.T) {
	a := testNewAuthor(t)
	post := a.post(t, "hello")
	purged := Entry{Op: post.Op.Purge()}

	t.Run("purged first", func(t *testing.T) {
		s := testStore(t)
		testIngest(t, s, purged)
		if ok, _ := s.Has(post.Op.ID); !ok {
			t.Fatal("purged op not stored")
		}
		if sealed, _ := s.Sealed(post.Op.Epoch); len(sealed) != 0 {
			t.Fatal("a purged op waits for a key")
		}
		if _, err := s.Message(a.channel, post.Op.ID); err == nil {
			t.Fatal("a purged post made a row")
		}
		testIngest(t, s, post)
		m, err := s.Message(a.channel, post.Op.ID)
		if err != nil || m.Text != "hello" || testStored(t, s, post.Op.ID).Purged() {
			t.Fatalf("after the full copy: %+v, %v", m, err)
		}
	})
	t.Run("full first", func(t *testing.T) {
		s := testStore(t)
		testIngest(t, s, post)
		testIngest(t, s, purged)
		m, err := s.Message(a.channel, post.Op.ID)
		if err != nil || m.Deleted || m.Text != "hello" || testStored(t, s, post.Op.ID).Purged() {
			t.Fatalf("a purged copy changed a live message: %+v, %v", m, err)
		}
	})
	t.Run("purged then delete then full", func(t *testing.T) {
		s := testStore(t)
		testIngest(t, s, purged)
		testIngest(t, s, a.del(t, post.Op.ID))
		testIngest(t, s, post)
		m, err := s.Message(a.channel, post.Op.ID)
		if err != nil || !m.Deleted || !testStored(t, s, post.Op.ID).Purged() {
			t.Fatalf("deleted message came back: %+v, %v", m, err)
		}
	})
}

// A post or edit that arrived only purged, for a message not deleted here,
// stays out of the set sync reconciles until a full copy replaces it.
func TestStrippedOpsStayWanted(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	post := a.post(t, "hello")
	edit := a.edit(t, post.Op.ID, "hello again")
	testIngest(t, s, purgedEntry(post.Op.Purge()), purgedEntry(edit.Op.Purge()))
	stamps, err := s.Stamps(a.channel)
	if err != nil || len(stamps) != 0 {
		t.Fatalf("stripped ops in the sync set: %v, %v", stamps, err)
	}
	testIngest(t, s, post, edit)
	if stamps, _ := s.Stamps(a.channel); len(stamps) != 2 {
		t.Fatalf("full copies not in the sync set: %v", stamps)
	}
	m, err := s.Message(a.channel, post.Op.ID)
	if err != nil || m.Text != "hello again" {
		t.Fatalf("row after the full copies: %+v, %v", m, err)
	}
}

// A purged edit of a message that is then deleted is as it should be.
func TestStrippedEditOfDeletedMessage(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	post := a.post(t, "soon gone")
	edit := a.edit(t, post.Op.ID, "edited")
	testIngest(t, s, post, purgedEntry(edit.Op.Purge()))
	if stamps, _ := s.Stamps(a.channel); len(stamps) != 1 {
		t.Fatalf("the stripped edit is in the sync set: %v", stamps)
	}
	testIngest(t, s, a.del(t, post.Op.ID))
	if stamps, _ := s.Stamps(a.channel); len(stamps) != 3 {
		t.Fatalf("after the delete the set has %d ops, want 3", len(stamps))
	}
}

// purgedEntry is how an op arrives that a peer stripped of its body.
func purgedEntry(op *crdt.Op) Entry { return Entry{Op: op} }
