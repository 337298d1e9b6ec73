package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ancore/ancore/crdt"
	"pgregory.net/rapid"
)

// TestStoreMatchesMemoryView is the store's property test: a random history
// ingested in any order, with duplicates, in any batch split, some ops first
// arriving sealed (no key) or purged and later readable, leaves exactly the
// rows that
// crdt.ChannelView makes over crdt.MemRows from the same ops — the bbolt rows
// and the in-memory rows run the same merge code and must agree.
func TestStoreMatchesMemoryView(t *testing.T) {
	owner := testNewAuthor(t)
	authors := []*testAuthor{owner, owner.otherUser(t), owner.otherUser(t)}
	// A moderator may delete anyone's message, so deletes by others matter.
	moderator := authors[2].user.ID()
	mayDelete := func(del *crdt.Op, _ *crdt.Message) bool { return del.User() == moderator }
	dir := t.TempDir()
	run := 0

	rapid.Check(t, func(rt *rapid.T) {
		var history []Entry
		var posts []crdt.ID
		for range rapid.IntRange(1, 40).Draw(rt, "ops") {
			a := authors[rapid.IntRange(0, len(authors)-1).Draw(rt, "author")]
			kind := rapid.IntRange(0, 5).Draw(rt, "kind")
			if len(posts) == 0 || kind == 0 {
				e := a.post(t, fmt.Sprint("text ", len(history)))
				posts = append(posts, e.Op.ID)
				history = append(history, e)
				continue
			}
			target := posts[rapid.IntRange(0, len(posts)-1).Draw(rt, "target")]
			emoji := rapid.SampledFrom([]string{"👍", "🎉"}).Draw(rt, "emoji")
			switch kind {
			case 1:
				history = append(history, a.edit(t, target, fmt.Sprint("edit ", len(history))))
			case 2:
				history = append(history, a.del(t, target))
			case 3:
				history = append(history, a.react(t, target, emoji))
			case 4:
				history = append(history, a.unreact(t, target, emoji))
			case 5:
				history = append(history, a.post(t, "late"))
			}
		}

		want := crdt.NewMemRows()
		view := crdt.ChannelView{Rows: want, MayDelete: mayDelete}
		for _, e := range history {
			if err := view.Apply(crdt.Opened{Op: e.Op, Body: e.Body}); err != nil {
				rt.Fatal(err)
			}
		}

		// Delivery: a permutation with duplicates; some ops arrive sealed
		// first, posts and edits of deleted messages may also arrive purged
		// (as peers that applied the delete serve them), and every op
		// arrives readable at least once.
		deleted := func(e Entry) bool {
			msg := e.Op.ID
			if e.Op.Kind == crdt.KindEdit {
				msg = e.Op.Target
			} else if e.Op.Kind != crdt.KindPost {
				return false
			}
			m, _ := want.Message(msg)
			return m != nil && m.Deleted
		}
		var delivery []Entry
		for _, i := range rapid.Permutation(indexes(len(history))).Draw(rt, "order") {
			e := history[i]
			if rapid.Bool().Draw(rt, "sealed first") {
				delivery = append(delivery, testSealed(e))
			}
			if deleted(e) && rapid.Bool().Draw(rt, "purged copy") {
				delivery = append(delivery, Entry{Op: e.Op.Purge()})
			}
			for range rapid.IntRange(1, 2).Draw(rt, "copies") {
				delivery = append(delivery, e)
			}
		}
		run++
		s, err := Open(filepath.Join(dir, fmt.Sprint(run, ".db")), &Options{MayDelete: mayDelete})
		if err != nil {
			rt.Fatal(err)
		}
		defer s.Close()
		for len(delivery) > 0 {
			n := rapid.IntRange(1, len(delivery)).Draw(rt, "batch")
			if err := s.Ingest(context.Background(), delivery[:n]); err != nil {
				rt.Fatal(err)
			}
			delivery = delivery[n:]
		}

		for _, m := range want.Messages() {
			got, err := s.Message(owner.channel, m.ID)
			if err != nil {
				rt.Fatalf("message %s: %v", m.ID, err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(m)) {
				rt.Fatalf("message %s:\nstore  %+v\nmemory %+v", m.ID, got, m)
			}
		}
		for _, e := range history {
			raw, err := s.Op(e.Op.ID)
			if err != nil {
				rt.Fatal(err)
			}
			op, err := crdt.DecodeStored(raw)
			if err != nil {
				rt.Fatal(err)
			}
			if op.Purged() != deleted(e) {
				rt.Fatalf("%s %s: stored purged=%v, its message deleted=%v", e.Op.Kind, e.Op.ID, op.Purged(), deleted(e))
			}
		}
		if held := want.Held(); held != 0 {
			rt.Fatalf("%d ops held in memory with every post delivered", held)
		}
		live := 0
		for _, m := range want.Messages() {
			if !m.Deleted {
				live++
			}
		}
		page, err := s.Messages(owner.channel, Page{Limit: MaxPageLimit})
		if err != nil || len(page) != min(live, MaxPageLimit) {
			rt.Fatalf("latest page has %d messages (%v), want %d", len(page), err, min(live, MaxPageLimit))
		}
	})
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// normalize makes empty and nil slices compare equal.
func normalize(m *crdt.Message) crdt.Message {
	c := *m
	if len(c.Mentions) == 0 {
		c.Mentions = nil
	}
	if len(c.Reactions) == 0 {
		c.Reactions = nil
	}
	return c
}
