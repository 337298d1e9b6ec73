package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/ancore/ancore/crdt"
)

func TestMessagesPages(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	posts := a.posts(t, 250)
	// Two calls, the newer half first: the order of arrival must not matter.
	testIngest(t, s, posts[125:]...)
	testIngest(t, s, posts[:125]...)
	ids := testOpIDs(posts)

	for _, tc := range []struct {
		name string
		page Page
		want []crdt.ID
	}{
		{"latest default limit", Page{}, ids[200:]},
		{"latest limit 1", Page{Limit: 1}, ids[249:]},
		{"latest limit 100", Page{Limit: 100}, ids[150:]},
		{"before", Page{Before: ids[100], Limit: 30}, ids[70:100]},
		{"before near the start", Page{Before: ids[10]}, ids[:10]},
		{"before the first", Page{Before: ids[0]}, nil},
		{"after", Page{After: ids[100], Limit: 30}, ids[101:131]},
		{"after near the end", Page{After: ids[240]}, ids[241:]},
		{"after the last", Page{After: ids[249]}, nil},
		{"around", Page{Around: ids[100], Limit: 30}, ids[85:115]},
		{"around default limit", Page{Around: ids[100]}, ids[75:125]},
		{"around odd limit", Page{Around: ids[100], Limit: 5}, ids[98:103]},
		{"around limit 1", Page{Around: ids[100], Limit: 1}, ids[100:101]},
		{"around limit 100", Page{Around: ids[100], Limit: 100}, ids[50:150]},
		{"around near the start", Page{Around: ids[5], Limit: 30}, ids[:30]},
		{"around near the end", Page{Around: ids[245], Limit: 30}, ids[230:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := s.Messages(a.channel, tc.page)
			if err != nil {
				t.Fatal(err)
			}
			testWantPage(t, msgs, tc.want)
		})
	}

	t.Run("walk back and forth", func(t *testing.T) {
		var back []crdt.ID
		page := Page{Limit: 33}
		for {
			msgs, err := s.Messages(a.channel, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) == 0 {
				break
			}
			back = append(testMessageIDs(msgs), back...)
			page.Before = msgs[0].ID
		}
		if !slices.Equal(back, ids) {
			t.Errorf("walking back with before gave %d messages, want the 250 in order", len(back))
		}
		forth := []crdt.ID{ids[0]}
		for page := (Page{After: ids[0], Limit: 41}); ; {
			msgs, err := s.Messages(a.channel, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) == 0 {
				break
			}
			forth = append(forth, testMessageIDs(msgs)...)
			page.After = msgs[len(msgs)-1].ID
		}
		if !slices.Equal(forth, ids) {
			t.Errorf("walking forth with after gave %d messages, want the 250 in order", len(forth))
		}
	})

	t.Run("rows", func(t *testing.T) {
		msgs, err := s.Messages(a.channel, Page{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			p := posts[247+i]
			if m.Text != p.Body.Text || m.Channel != a.channel || m.Author != a.user.ID() ||
				m.Device != a.dev.ID() || m.HLC != p.Op.HLC || m.Deleted || !m.Edited.IsZero() {
				t.Errorf("row %d = %+v, want post %q by the author at %s", i, m, p.Body.Text, p.Op.HLC)
			}
		}
	})
}

// testWantPage fails unless msgs are exactly the messages want, oldest
// first.
func testWantPage(tb testing.TB, msgs []*crdt.Message, want []crdt.ID) {
	tb.Helper()
	got := testMessageIDs(msgs)
	if !slices.Equal(got, want) {
		tb.Fatalf("page has %d messages %v,\nwant %d %v", len(got), got, len(want), want)
	}
	for i := 1; i < len(msgs); i++ {
		if (crdt.Stamp{HLC: msgs[i-1].HLC, ID: msgs[i-1].ID}).Compare(crdt.Stamp{HLC: msgs[i].HLC, ID: msgs[i].ID}) >= 0 {
			tb.Fatalf("page not in chronological order at %d", i)
		}
	}
}

func TestMessagesBadQuery(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	posts := a.posts(t, 3)
	edit := a.edit(t, posts[0].Op.ID, "edited")
	testIngest(t, s, append(posts, edit)...)
	other := a.inChannel("random")
	otherPost := other.post(t, "elsewhere")
	testIngest(t, s, otherPost)
	id := posts[1].Op.ID
	unknown := crdt.IDOf([]byte("no such message"))

	for _, tc := range []struct {
		name string
		page Page
		want error
	}{
		{"limit 101", Page{Limit: 101}, ErrBadQuery},
		{"limit -1", Page{Limit: -1}, ErrBadQuery},
		{"before and after", Page{Before: id, After: id}, ErrBadQuery},
		{"before and around", Page{Before: id, Around: id}, ErrBadQuery},
		{"after and around", Page{After: id, Around: id}, ErrBadQuery},
		{"all three anchors", Page{Before: id, After: id, Around: id}, ErrBadQuery},
		{"bad limit with an unknown anchor", Page{Before: unknown, Limit: 101}, ErrBadQuery},
		{"unknown before", Page{Before: unknown}, ErrNotFound},
		{"unknown after", Page{After: unknown}, ErrNotFound},
		{"unknown around", Page{Around: unknown}, ErrNotFound},
		{"anchor is an edit", Page{Before: edit.Op.ID}, ErrNotFound},
		{"anchor in another channel", Page{Around: otherPost.Op.ID}, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := s.Messages(a.channel, tc.page)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Messages(%+v) = %d messages, %v; want %v", tc.page, len(msgs), err, tc.want)
			}
		})
	}

	t.Run("unknown channel", func(t *testing.T) {
		msgs, err := s.Messages(crdt.IDOf([]byte("no such channel")), Page{})
		if err != nil || len(msgs) != 0 {
			t.Errorf("latest page of an unknown channel = %d messages, %v; want none", len(msgs), err)
		}
		_, err = s.Messages(crdt.IDOf([]byte("no such channel")), Page{After: id})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("after an anchor in an unknown channel: %v, want ErrNotFound", err)
		}
	})
}

func TestMessagesLeaveOutDeleted(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	b := a.otherUser(t)
	posts := a.posts(t, 20)
	ids := testOpIDs(posts)
	testIngest(t, s, posts...)
	testIngest(t, s, a.del(t, ids[3]), a.del(t, ids[10]), a.del(t, ids[19]))
	// Only authors may delete by default.
	testIngest(t, s, b.del(t, ids[5]))

	live := slices.Clone(ids)
	live = slices.Delete(live, 19, 20)
	live = slices.Delete(live, 10, 11)
	live = slices.Delete(live, 3, 4)
	for _, tc := range []struct {
		name string
		page Page
		want []crdt.ID
	}{
		{"latest", Page{}, live},
		{"latest limit counts live messages", Page{Limit: 5}, ids[14:19]},
		{"before", Page{Before: ids[11], Limit: 3}, ids[7:10]},
		{"after", Page{After: ids[2], Limit: 2}, ids[4:6]},
		{"around a deleted anchor", Page{Around: ids[10], Limit: 4}, []crdt.ID{ids[8], ids[9], ids[11], ids[12]}},
		{"before a deleted anchor", Page{Before: ids[10], Limit: 2}, ids[8:10]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := s.Messages(a.channel, tc.page)
			if err != nil {
				t.Fatal(err)
			}
			testWantPage(t, msgs, tc.want)
		})
	}

	m, err := s.Message(a.channel, ids[10])
	if err != nil {
		t.Fatal(err)
	}
	if !m.Deleted || m.Text != "" || m.ID != ids[10] {
		t.Errorf("deleted message row = %+v, want a tombstone", m)
	}
	// A tombstone stays one: a later edit or reaction changes nothing.
	testIngest(t, s, a.edit(t, ids[10], "back again"), a.react(t, ids[10], "👍"))
	if m, err := s.Message(a.channel, ids[10]); err != nil || !m.Deleted || m.Text != "" || len(m.Reactions) != 0 {
		t.Errorf("tombstone after edit and react = %+v, %v", m, err)
	}
}

func TestMayDeleteOption(t *testing.T) {
	var asked int
	s := testOpen(t, filepath.Join(t.TempDir(), "ancore.db"), &Options{MayDelete: func(del *crdt.Op, target *crdt.Message) bool {
		asked++
		return true
	}})
	a := testNewAuthor(t)
	mod := a.otherUser(t)
	p := a.post(t, "spam")
	testIngest(t, s, p, mod.del(t, p.Op.ID))
	m, err := s.Message(a.channel, p.Op.ID)
	if err != nil || !m.Deleted || asked == 0 {
		t.Errorf("delete allowed by MayDelete: row %+v, %v, policy asked %d times", m, err, asked)
	}
}

func TestEditsAndReactions(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	b := a.otherUser(t)
	p := a.post(t, "hello")
	id := p.Op.ID
	testIngest(t, s, p)

	first := a.edit(t, id, "hello, world")
	second := a.edit(t, id, "hello, everyone")
	// The later edit arrives first; last writer wins regardless.
	testIngest(t, s, second)
	testIngest(t, s, first, b.edit(t, id, "not yours"))
	testIngest(t, s, a.react(t, id, "👍"), b.react(t, id, "👍"), a.react(t, id, "🎉"))
	testIngest(t, s, b.unreact(t, id, "👍"))

	check := func(m *crdt.Message) {
		t.Helper()
		if m.Text != "hello, everyone" || m.Edited != crdt.StampOf(second.Op) {
			t.Errorf("row text %q edited %v, want the second edit", m.Text, m.Edited)
		}
		want := []crdt.Reaction{{Emoji: "🎉", User: a.user.ID()}, {Emoji: "👍", User: a.user.ID()}}
		got := m.Reacted()
		for i := range got {
			got[i].Stamp, got[i].On = crdt.Stamp{}, false
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("standing reactions %+v, want %+v", got, want)
		}
		if len(m.Reactions) != 3 {
			t.Errorf("%d reaction registers, want 3 (b's 👍 is off)", len(m.Reactions))
		}
	}
	m, err := s.Message(a.channel, id)
	if err != nil {
		t.Fatal(err)
	}
	check(m)
	msgs, err := s.Messages(a.channel, Page{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("page: %d messages, %v", len(msgs), err)
	}
	check(msgs[0])
}

func TestHeldUntilTarget(t *testing.T) {
	a := testNewAuthor(t)
	b := a.otherUser(t)
	wantEdited := func(t *testing.T, s *Store, p Entry) {
		t.Helper()
		m, err := s.Message(a.channel, p.Op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Text != "edited" || len(m.Reacted()) != 1 || m.Reacted()[0].User != b.user.ID() {
			t.Errorf("row = %+v, want the held edit and reaction applied", m)
		}
		msgs, err := s.Messages(a.channel, Page{})
		if err != nil || len(msgs) != 1 || msgs[0].Text != "edited" {
			t.Errorf("page = %d messages, %v; want the edited message", len(msgs), err)
		}
	}

	t.Run("same call", func(t *testing.T) {
		s := testStore(t)
		p := a.post(t, "original")
		testIngest(t, s, a.edit(t, p.Op.ID, "edited"), b.react(t, p.Op.ID, "👀"), p)
		wantEdited(t, s, p)
	})

	t.Run("separate calls", func(t *testing.T) {
		s := testStore(t)
		p := a.post(t, "original")
		edit := a.edit(t, p.Op.ID, "edited")
		testIngest(t, s, edit)
		testIngest(t, s, b.react(t, p.Op.ID, "👀"))
		testIngest(t, s, edit) // a duplicate of a held op
		if _, err := s.Message(a.channel, p.Op.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("message before its post arrived: %v, want ErrNotFound", err)
		}
		if msgs, err := s.Messages(a.channel, Page{}); err != nil || len(msgs) != 0 {
			t.Errorf("page before the post arrived: %d messages, %v", len(msgs), err)
		}
		if ok, err := s.Has(edit.Op.ID); err != nil || !ok {
			t.Errorf("held edit stored: %v, %v", ok, err)
		}
		testIngest(t, s, p)
		wantEdited(t, s, p)
	})

	t.Run("across reopen", func(t *testing.T) {
		s := testStore(t)
		p := a.post(t, "original")
		testIngest(t, s, a.edit(t, p.Op.ID, "edited"), b.react(t, p.Op.ID, "👀"))
		s = testReopen(t, s)
		testIngest(t, s, p)
		wantEdited(t, s, p)
	})

	t.Run("delete", func(t *testing.T) {
		s := testStore(t)
		p := a.post(t, "original")
		testIngest(t, s, a.del(t, p.Op.ID))
		testIngest(t, s, p)
		if m, err := s.Message(a.channel, p.Op.ID); err != nil || !m.Deleted {
			t.Errorf("post after its held delete = %+v, %v; want a tombstone", m, err)
		}
		if msgs, err := s.Messages(a.channel, Page{}); err != nil || len(msgs) != 0 {
			t.Errorf("page = %d messages, %v; want none", len(msgs), err)
		}
	})
}

func TestDuplicatesIgnored(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	p := a.post(t, "once")
	r := a.react(t, p.Op.ID, "👍", p.Op.ID)
	testIngest(t, s, p, p, r)
	testIngest(t, s, p, r, r)
	// Concurrent duplicates land in one group commit or in several.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := s.Ingest(context.Background(), []Entry{r, p}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	if n, err := s.LogLen(a.channel); err != nil || n != 2 {
		t.Errorf("log length %d, %v; want 2", n, err)
	}
	msgs, err := s.Messages(a.channel, Page{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("page: %d messages, %v; want 1", len(msgs), err)
	}
	if len(msgs[0].Reactions) != 1 {
		t.Errorf("reactions %+v, want one", msgs[0].Reactions)
	}
	heads, err := s.Heads(a.channel)
	if err != nil || !slices.Equal(heads, []crdt.ID{r.Op.ID}) {
		t.Errorf("heads %v, %v; want the reaction", heads, err)
	}
}

func TestLookups(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	p := a.post(t, "look me up")
	e := a.edit(t, p.Op.ID, "looked up")
	testIngest(t, s, p, e)
	unknown := crdt.IDOf([]byte("unknown"))

	for _, x := range []Entry{p, e} {
		ok, err := s.Has(x.Op.ID)
		if err != nil || !ok {
			t.Errorf("Has(%s) = %v, %v", x.Op.Kind, ok, err)
		}
		b, err := s.Op(x.Op.ID)
		if err != nil {
			t.Fatalf("Op(%s): %v", x.Op.Kind, err)
		}
		if !bytes.Equal(b, x.Op.Encoded()) {
			t.Errorf("Op(%s) returned other bytes than were ingested", x.Op.Kind)
		}
		op, err := crdt.DecodeStored(b)
		if err != nil || op.ID != x.Op.ID || op.Kind != x.Op.Kind || op.HLC != x.Op.HLC {
			t.Errorf("stored %s decodes to %+v, %v", x.Op.Kind, op, err)
		}
	}
	if ok, err := s.Has(unknown); err != nil || ok {
		t.Errorf("Has(unknown) = %v, %v", ok, err)
	}
	if _, err := s.Op(unknown); !errors.Is(err, ErrNotFound) {
		t.Errorf("Op(unknown): %v, want ErrNotFound", err)
	}

	m, err := s.Message(a.channel, p.Op.ID)
	if err != nil || m.ID != p.Op.ID || m.Text != "looked up" {
		t.Errorf("Message(post) = %+v, %v", m, err)
	}
	for name, id := range map[string]crdt.ID{"unknown": unknown, "edit": e.Op.ID} {
		if _, err := s.Message(a.channel, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Message(%s): %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.Message(crdt.IDOf([]byte("random")), p.Op.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Message in another channel: %v, want ErrNotFound", err)
	}
	if n, err := s.LogLen(a.channel); err != nil || n != 2 {
		t.Errorf("LogLen = %d, %v; want 2", n, err)
	}
	if n, err := s.LogLen(unknown); err != nil || n != 0 {
		t.Errorf("LogLen(unknown) = %d, %v; want 0", n, err)
	}
}

func TestHeadsAndMissing(t *testing.T) {
	a := testNewAuthor(t)
	want := func(t *testing.T, s *Store, heads, missing []crdt.ID) {
		t.Helper()
		gotHeads, err := s.Heads(a.channel)
		if err != nil {
			t.Fatal(err)
		}
		gotMissing, err := s.Missing(a.channel)
		if err != nil {
			t.Fatal(err)
		}
		if !testSameIDs(gotHeads, heads) || !testSameIDs(gotMissing, missing) {
			t.Errorf("heads %v missing %v,\nwant heads %v missing %v", gotHeads, gotMissing, heads, missing)
		}
	}

	t.Run("linear chain", func(t *testing.T) {
		s := testStore(t)
		posts := a.posts(t, 10)
		testIngest(t, s, posts...)
		want(t, s, []crdt.ID{posts[9].Op.ID}, nil)
	})

	t.Run("concurrent ops", func(t *testing.T) {
		s := testStore(t)
		root := a.post(t, "root")
		x := a.post(t, "x", root.Op.ID)
		y := a.otherUser(t).post(t, "y", root.Op.ID)
		testIngest(t, s, root, x, y)
		want(t, s, []crdt.ID{x.Op.ID, y.Op.ID}, nil)
		merge := a.react(t, x.Op.ID, "👍", x.Op.ID, y.Op.ID)
		testIngest(t, s, merge)
		want(t, s, []crdt.ID{merge.Op.ID}, nil)
	})

	t.Run("missing parent arrives", func(t *testing.T) {
		s := testStore(t)
		root := a.post(t, "root")
		parent := a.post(t, "parent", root.Op.ID)
		child := a.post(t, "child", parent.Op.ID)
		sibling := a.edit(t, parent.Op.ID, "edited", parent.Op.ID)
		testIngest(t, s, root)
		testIngest(t, s, child)
		want(t, s, []crdt.ID{root.Op.ID, child.Op.ID}, []crdt.ID{parent.Op.ID})
		testIngest(t, s, sibling)
		want(t, s, []crdt.ID{root.Op.ID, child.Op.ID, sibling.Op.ID}, []crdt.ID{parent.Op.ID})
		testIngest(t, s, parent)
		want(t, s, []crdt.ID{child.Op.ID, sibling.Op.ID}, nil)
	})

	t.Run("child before parent in one call", func(t *testing.T) {
		s := testStore(t)
		parent := a.post(t, "parent")
		child := a.post(t, "child", parent.Op.ID)
		testIngest(t, s, child, parent)
		want(t, s, []crdt.ID{child.Op.ID}, nil)
	})

	t.Run("sealed ops count", func(t *testing.T) {
		s := testStore(t)
		parent := a.post(t, "parent")
		child := a.post(t, "child", parent.Op.ID)
		testIngest(t, s, testSealed(parent), testSealed(child))
		want(t, s, []crdt.ID{child.Op.ID}, nil)
		testIngest(t, s, child)
		want(t, s, []crdt.ID{child.Op.ID}, nil)
	})

	t.Run("logs are separate", func(t *testing.T) {
		s := testStore(t)
		p := a.post(t, "here")
		q := a.inChannel("random").post(t, "there")
		testIngest(t, s, p, q)
		want(t, s, []crdt.ID{p.Op.ID}, nil)
		if heads, err := s.Heads(q.Op.Channel); err != nil || !slices.Equal(heads, []crdt.ID{q.Op.ID}) {
			t.Errorf("heads of the other channel: %v, %v", heads, err)
		}
	})
}

func TestOutbox(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	local := a.posts(t, 5)
	remote := a.otherUser(t).post(t, "from elsewhere")
	// Ingested out of HLC order, with a remote op among them.
	testIngest(t, s, testLocal(local[3]), testLocal(local[0]), remote)
	testIngest(t, s, testLocal(local[4]), testLocal(local[1]), testLocal(local[2]))

	wantOutbox := func(s *Store, limit int, want []Entry) {
		t.Helper()
		ops, err := s.Outbox(limit)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]crdt.ID, len(ops))
		for i, op := range ops {
			got[i] = op.ID
			if !bytes.Equal(op.Encoded(), want[min(i, len(want)-1)].Op.Encoded()) {
				t.Errorf("outbox op %d is not the op ingested", i)
			}
		}
		if !slices.Equal(got, testOpIDs(want)) {
			t.Errorf("Outbox(%d) = %v, want %v", limit, got, testOpIDs(want))
		}
	}
	wantOutbox(s, 100, local)
	wantOutbox(s, 2, local[:2])
	if err := s.MarkSent(local[0].Op, local[2].Op, remote.Op); err != nil {
		t.Fatal(err)
	}
	rest := []Entry{local[1], local[3], local[4]}
	wantOutbox(s, 100, rest)
	s = testReopen(t, s)
	wantOutbox(s, 100, rest)
	if err := s.MarkSent(local[1].Op, local[3].Op, local[4].Op); err != nil {
		t.Fatal(err)
	}
	wantOutbox(s, 100, nil)
}

func TestSealed(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	p := a.post(t, "secret")
	e := a.edit(t, p.Op.ID, "secret, edited")
	testIngest(t, s, testSealed(p), testSealed(e))

	for _, x := range []Entry{p, e} {
		if ok, err := s.Has(x.Op.ID); err != nil || !ok {
			t.Errorf("sealed %s stored: %v, %v", x.Op.Kind, ok, err)
		}
	}
	if _, err := s.Message(a.channel, p.Op.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("row of a sealed post: %v, want ErrNotFound", err)
	}
	if msgs, err := s.Messages(a.channel, Page{}); err != nil || len(msgs) != 0 {
		t.Errorf("page with only sealed ops: %d messages, %v", len(msgs), err)
	}
	wantSealed := func(epoch crdt.EpochID, want ...Entry) {
		t.Helper()
		ops, err := s.Sealed(epoch)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]crdt.ID, len(ops))
		for i, op := range ops {
			got[i] = op.ID
		}
		if !testSameIDs(got, testOpIDs(want)) {
			t.Errorf("Sealed = %v, want %v", got, testOpIDs(want))
		}
	}
	wantSealed(a.key.ID(), p, e)
	other, err := crdt.NewEpochKey()
	if err != nil {
		t.Fatal(err)
	}
	wantSealed(other.ID())

	// Still unreadable: nothing changes.
	testIngest(t, s, testSealed(p))
	wantSealed(a.key.ID(), p, e)

	testIngest(t, s, p)
	wantSealed(a.key.ID(), e)
	m, err := s.Message(a.channel, p.Op.ID)
	if err != nil || m.Text != "secret" {
		t.Fatalf("row once the post is readable: %+v, %v", m, err)
	}
	testIngest(t, s, e)
	wantSealed(a.key.ID())
	if m, err := s.Message(a.channel, p.Op.ID); err != nil || m.Text != "secret, edited" {
		t.Errorf("row once the edit is readable: %+v, %v", m, err)
	}
	if n, err := s.LogLen(a.channel); err != nil || n != 2 {
		t.Errorf("LogLen = %d, %v; want 2", n, err)
	}

	// Sealed and then readable within one call (or one group commit).
	q := a.post(t, "sealed, then readable")
	testIngest(t, s, testSealed(q), q)
	wantSealed(a.key.ID())
	if m, err := s.Message(a.channel, q.Op.ID); err != nil || m.Text != "sealed, then readable" {
		t.Errorf("row of an op sealed and readable in one call: %+v, %v", m, err)
	}
}

func TestGroupCommit(t *testing.T) {
	s := testStore(t)
	const workers, calls, perCall = 16, 10, 8
	authors := make([]*testAuthor, workers)
	batches := make([][][]Entry, workers)
	base := testNewAuthor(t)
	for w := range workers {
		authors[w] = base.otherUser(t).inChannel(fmt.Sprint("channel-", w%4))
		for range calls {
			batches[w] = append(batches[w], authors[w].posts(t, perCall))
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, b := range batches[w] {
				if err := s.Ingest(context.Background(), b); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()

	perChannel := map[crdt.ID]int{}
	for w := range workers {
		for _, b := range batches[w] {
			for _, e := range b {
				perChannel[e.Op.Channel]++
				if ok, err := s.Has(e.Op.ID); err != nil || !ok {
					t.Fatalf("op of worker %d not stored: %v", w, err)
				}
				if _, err := s.Message(e.Op.Channel, e.Op.ID); err != nil {
					t.Fatalf("row of worker %d: %v", w, err)
				}
			}
		}
	}
	for ch, want := range perChannel {
		if n, err := s.LogLen(ch); err != nil || n != want {
			t.Errorf("LogLen = %d, %v; want %d", n, err, want)
		}
	}
}

func TestCloseWhileIngesting(t *testing.T) {
	s := testStore(t)
	base := testNewAuthor(t)
	var (
		mu    sync.Mutex
		acked []Entry
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for w := range 8 {
		a := base.otherUser(t)
		batches := make([][]Entry, 20)
		for i := range batches {
			batches[i] = a.posts(t, 3)
		}
		wg.Go(func() {
			<-start
			for _, b := range batches {
				err := s.Ingest(context.Background(), b)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				mu.Lock()
				acked = append(acked, b...)
				mu.Unlock()
			}
		})
	}
	close(start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s = testOpen(t, s.Path(), nil)
	for _, e := range acked {
		if ok, err := s.Has(e.Op.ID); err != nil || !ok {
			t.Fatalf("acknowledged op lost at close: %v", err)
		}
	}
	t.Logf("%d ops acknowledged before close", len(acked))
}

func TestSettings(t *testing.T) {
	s := testStore(t)
	if v, err := s.Setting("theme"); err != nil || v != nil {
		t.Errorf("unset setting = %q, %v; want nil", v, err)
	}
	for _, v := range []string{"dark", "light"} {
		if err := s.PutSetting("theme", []byte(v)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Setting("theme"); err != nil || string(got) != v {
			t.Errorf("setting = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.PutSetting("lang", []byte("de")); err != nil {
		t.Fatal(err)
	}
	s = testReopen(t, s)
	for name, want := range map[string]string{"theme": "light", "lang": "de"} {
		if got, err := s.Setting(name); err != nil || string(got) != want {
			t.Errorf("setting %s after reopen = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestClosed(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	testIngest(t, s, a.post(t, "before close"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ingest(context.Background(), []Entry{a.post(t, "after close")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Ingest after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if _, err := s.Messages(a.channel, Page{}); err == nil {
		t.Error("Messages after Close succeeded")
	}
	if _, err := s.Has(a.channel); err == nil {
		t.Error("Has after Close succeeded")
	}
}

func TestReopen(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	b := a.otherUser(t)
	posts := a.posts(t, 120)
	testIngest(t, s, posts...)
	last := posts[len(posts)-1].Op.ID
	late := a.post(t, "late")
	testIngest(t, s,
		a.edit(t, posts[3].Op.ID, "edited", last),
		b.react(t, posts[4].Op.ID, "🎉", last),
		a.del(t, posts[5].Op.ID, last),
		testLocal(a.post(t, "mine", last)),
		b.edit(t, posts[6].Op.ID, "not b's to edit", last),
		a.edit(t, late.Op.ID, "late, edited"), // held
		testSealed(b.post(t, "sealed")),
		a.inChannel("random").post(t, "elsewhere"),
		b.post(t, "orphan", crdt.IDOf([]byte("never arrives"))),
	)
	if err := s.PutSetting("theme", []byte("dark")); err != nil {
		t.Fatal(err)
	}
	before := testSnapshot(t, s, a)
	s = testReopen(t, s)
	after := testSnapshot(t, s, a)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after reopen:\n%s\nbefore:\n%s", after, before)
	}
	testIngest(t, s, late)
	if m, err := s.Message(a.channel, late.Op.ID); err != nil || m.Text != "late, edited" {
		t.Errorf("held edit after reopen: %+v, %v", m, err)
	}
}

// testSnapshot renders what the public API shows of a's channels.
func testSnapshot(tb testing.TB, s *Store, a *testAuthor) string {
	tb.Helper()
	var w bytes.Buffer
	for _, ch := range []crdt.ID{a.channel, a.inChannel("random").channel} {
		for page := (Page{Limit: 100}); ; {
			msgs, err := s.Messages(ch, page)
			if err != nil {
				tb.Fatal(err)
			}
			if len(msgs) == 0 {
				break
			}
			for _, m := range msgs {
				raw, err := m.MarshalBinary()
				if err != nil {
					tb.Fatal(err)
				}
				fmt.Fprintf(&w, "msg %s %q %x\n", m.ID, m.Text, raw)
			}
			page.Before = msgs[0].ID
		}
		heads, err := s.Heads(ch)
		if err != nil {
			tb.Fatal(err)
		}
		missing, err := s.Missing(ch)
		if err != nil {
			tb.Fatal(err)
		}
		n, err := s.LogLen(ch)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&w, "heads %v\nmissing %v\nlen %d\n", heads, missing, n)
	}
	outbox, err := s.Outbox(100)
	if err != nil {
		tb.Fatal(err)
	}
	sealed, err := s.Sealed(a.key.ID())
	if err != nil {
		tb.Fatal(err)
	}
	for _, op := range append(outbox, sealed...) {
		fmt.Fprintf(&w, "op %s %s\n", op.Kind, op.ID)
	}
	theme, err := s.Setting("theme")
	if err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(&w, "outbox %d sealed %d theme %q\n", len(outbox), len(sealed), theme)
	if len(outbox) != 1 || len(sealed) != 1 {
		tb.Errorf("snapshot: outbox %d sealed %d, want 1 each", len(outbox), len(sealed))
	}
	return w.String()
}

func TestStampsAndOps(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	entries := a.posts(t, 20)
	testIngest(t, s, entries...)
	stamps, err := s.Stamps(a.channel)
	if err != nil || len(stamps) != len(entries) {
		t.Fatalf("Stamps: %d, %v", len(stamps), err)
	}
	for i, st := range stamps {
		if st.ID != entries[i].Op.ID || st.HLC != entries[i].Op.HLC {
			t.Fatalf("stamp %d = %v, want the op's", i, st)
		}
	}
	ids := []crdt.ID{entries[3].Op.ID, crdt.IDOf([]byte("not stored")), entries[1].Op.ID}
	raws, err := s.Ops(ids)
	if err != nil || len(raws) != 2 || !bytes.Equal(raws[0], entries[3].Op.Encoded()) || !bytes.Equal(raws[1], entries[1].Op.Encoded()) {
		t.Fatalf("Ops: %d, %v", len(raws), err)
	}
	if stamps, err := s.Stamps(crdt.IDOf([]byte("no log"))); err != nil || len(stamps) != 0 {
		t.Fatalf("Stamps of an unknown log: %v, %v", stamps, err)
	}
}

// TestHeadsAreCapped: ops that cite nothing cannot grow a log's heads (and
// so every commit's cost) without bound; the newest op stays a head.
func TestHeadsAreCapped(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	var last Entry
	for range 3 {
		batch := make([]Entry, 500)
		for i := range batch {
			batch[i] = a.post(t, "parentless")
		}
		testIngest(t, s, batch...)
		last = batch[len(batch)-1]
	}
	heads, err := s.Heads(a.channel)
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != MaxHeads {
		t.Fatalf("%d heads, want %d", len(heads), MaxHeads)
	}
	if !slices.Contains(heads, last.Op.ID) {
		t.Fatal("the newest op is not a head")
	}
	if n, _ := s.LogLen(a.channel); n != 1500 {
		t.Fatalf("log holds %d ops", n)
	}
}

// TestIngestChanged: Changed marks the entries that changed the store, so
// an op that arrives twice — in one batch or in two — is news once, and a
// sealed op is news again when it becomes readable.
func TestIngestChanged(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	post, readable := a.post(t, "twice"), a.post(t, "sealed")
	sealed := testSealed(readable)
	batch := []Entry{post, post, sealed}
	if err := s.Ingest(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if got := []bool{batch[0].Changed, batch[1].Changed, batch[2].Changed}; !slices.Equal(got, []bool{true, false, true}) {
		t.Fatalf("first batch: changed %v, want the post once and the sealed op", got)
	}
	again := []Entry{post, sealed, readable, readable}
	if err := s.Ingest(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	if got := []bool{again[0].Changed, again[1].Changed, again[2].Changed, again[3].Changed}; !slices.Equal(got, []bool{false, false, true, false}) {
		t.Fatalf("second batch: changed %v, want only the sealed op turned readable, once", got)
	}
}
