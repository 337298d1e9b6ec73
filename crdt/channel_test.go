package crdt

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// channelFixture is a channel with three users: alice (two devices), bob and
// mod, sharing one epoch key.
type channelFixture struct {
	key                         *EpochKey
	alice, alice2, bob, mod     *Device
	aliceUser, bobUser, modUser UserID
	replyTo                     ID
}

func newChannelFixture(t *testing.T) *channelFixture {
	t.Helper()
	alice, bob, mod := newTestUser(t), newTestUser(t), newTestUser(t)
	return &channelFixture{
		key:   newTestKey(t),
		alice: newTestDevice(t, alice), alice2: newTestDevice(t, alice),
		bob: newTestDevice(t, bob), mod: newTestDevice(t, mod),
		aliceUser: alice.ID(), bobUser: bob.ID(), modUser: mod.ID(),
		replyTo: IDOf([]byte("earlier message")),
	}
}

func (f *channelFixture) post(t *testing.T, d *Device, h HLC, text string) Opened {
	t.Helper()
	return mustOpen(t, d, channelDraft(KindPost, h, ID{}, Body{Text: text}), f.key)
}

func (f *channelFixture) edit(t *testing.T, d *Device, h HLC, target ID, text string) Opened {
	t.Helper()
	return mustOpen(t, d, channelDraft(KindEdit, h, target, Body{Text: text}), f.key)
}

func (f *channelFixture) del(t *testing.T, d *Device, h HLC, target ID) Opened {
	t.Helper()
	op := mustSign(t, d, channelDraft(KindDelete, h, target, Body{}), nil)
	return Opened{Op: op}
}

func (f *channelFixture) react(t *testing.T, d *Device, kind Kind, h HLC, target ID, emoji string) Opened {
	t.Helper()
	return mustOpen(t, d, channelDraft(kind, h, target, Body{Emoji: emoji}), f.key)
}

// newView returns a view over fresh in-memory rows.
func newView(policy DeletePolicy) (ChannelView, *MemRows) {
	rows := NewMemRows()
	return ChannelView{Rows: rows, MayDelete: policy}, rows
}

func apply(t *testing.T, v ChannelView, ops ...Opened) {
	t.Helper()
	for _, o := range ops {
		if err := v.Apply(o); err != nil {
			t.Fatalf("Apply %s: %v", o.Kind, err)
		}
	}
}

func message(t *testing.T, rows *MemRows, id ID) *Message {
	t.Helper()
	m, err := rows.Message(id)
	if err != nil {
		t.Fatal(err)
	}
	if m == nil {
		t.Fatalf("no message %v", id)
	}
	return m
}

// snapshot is every row, normalized, for comparing whole views.
func snapshot(rows *MemRows) []Message { return normalizedAll(rows.Messages()) }

func TestChannelPost(t *testing.T) {
	f := newChannelFixture(t)
	v, rows := newView(AuthorOnly)
	dr := channelDraft(KindPost, hlcAt(0, 0), ID{}, Body{
		Text: "hi @bob", ReplyTo: f.replyTo, Mentions: []UserID{f.bobUser}, Everyone: true,
	})
	p := mustOpen(t, f.alice2, dr, f.key)
	apply(t, v, p)
	want := Message{
		ID: p.ID, Channel: testChannel, Author: f.aliceUser, Device: f.alice2.ID(), HLC: p.HLC,
		Text: "hi @bob", ReplyTo: f.replyTo, Mentions: []UserID{f.bobUser}, Everyone: true,
	}
	if got := normalized(message(t, rows, p.ID)); !reflect.DeepEqual(got, want) {
		t.Errorf("message = %+v\nwant %+v", got, want)
	}
	if m, err := rows.Message(IDOf([]byte("missing"))); m != nil || err != nil {
		t.Errorf("Message(missing) = %v, %v; want nil, nil", m, err)
	}
}

func TestChannelMessagesOrder(t *testing.T) {
	f := newChannelFixture(t)
	v, rows := newView(AuthorOnly)
	late := f.post(t, f.alice, hlcAt(time.Second, 0), "late")
	tieA := f.post(t, f.bob, hlcAt(0, 3), "tie a")
	tieB := f.post(t, f.alice, hlcAt(0, 3), "tie b")
	early := f.post(t, f.bob, hlcAt(0, 2), "early")
	apply(t, v, late, tieA, tieB, early)
	ties := []ID{tieA.ID, tieB.ID}
	slices.SortFunc(ties, ID.Compare)
	want := []ID{early.ID, ties[0], ties[1], late.ID}
	var got []ID
	for _, m := range rows.Messages() {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Messages() order %v, want %v", got, want)
	}
}

func TestChannelEdit(t *testing.T) {
	f := newChannelFixture(t)
	v, rows := newView(AuthorOnly)
	p := f.post(t, f.alice, hlcAt(0, 0), "original")
	apply(t, v, p)

	byOther := f.edit(t, f.bob, hlcAt(time.Second, 0), p.ID, "bob was here")
	apply(t, v, byOther)
	if m := message(t, rows, p.ID); m.Text != "original" || !m.Edited.IsZero() {
		t.Errorf("edit by another user applied: %+v", m)
	}

	// Any device of the author's user may edit.
	dr := channelDraft(KindEdit, hlcAt(2*time.Second, 0), p.ID, Body{Text: "edited", Mentions: []UserID{f.modUser}, Everyone: true})
	e := mustOpen(t, f.alice2, dr, f.key)
	apply(t, v, e)
	m := message(t, rows, p.ID)
	if m.Text != "edited" || !slices.Equal(m.Mentions, []UserID{f.modUser}) || !m.Everyone || m.Edited != StampOf(e.Op) {
		t.Errorf("after edit: %+v", m)
	}
	if m.Device != f.alice.ID() || m.HLC != p.HLC {
		t.Errorf("edit changed the post's device or clock: %+v", m)
	}
}

func TestChannelEditLastWriterWins(t *testing.T) {
	f := newChannelFixture(t)
	p := f.post(t, f.alice, hlcAt(0, 0), "original")
	older := f.edit(t, f.alice, hlcAt(time.Second, 0), p.ID, "older")
	newer := f.edit(t, f.alice2, hlcAt(time.Second, 1), p.ID, "newer")
	// Equal clocks: the greater op ID wins.
	tie1 := f.edit(t, f.alice, hlcAt(time.Second, 1), p.ID, "tie 1")
	winner := newer
	if tie1.ID.Compare(newer.ID) > 0 {
		winner = tie1
	}
	orders := [][]Opened{
		{p, older, newer, tie1},
		{p, tie1, newer, older},
		{newer, older, tie1, p},
		{tie1, p, older, newer},
	}
	for _, order := range orders {
		v, rows := newView(AuthorOnly)
		apply(t, v, order...)
		m := message(t, rows, p.ID)
		if m.Text != winner.Body.Text || m.Edited != StampOf(winner.Op) {
			t.Errorf("text %q edited %v; want %q", m.Text, m.Edited, winner.Body.Text)
		}
	}
}

func TestChannelDelete(t *testing.T) {
	f := newChannelFixture(t)
	dr := channelDraft(KindPost, hlcAt(0, 0), ID{}, Body{Text: "regret", ReplyTo: f.replyTo, Mentions: []UserID{f.bobUser}, Everyone: true})
	p := mustOpen(t, f.alice, dr, f.key)
	edit := f.edit(t, f.alice, hlcAt(time.Second, 0), p.ID, "more regret")
	react := f.react(t, f.bob, KindReact, hlcAt(time.Second, 0), p.ID, "👀")
	del := f.del(t, f.alice2, hlcAt(2*time.Second, 0), p.ID)
	laterEdit := f.edit(t, f.alice, hlcAt(time.Hour, 0), p.ID, "undelete?")
	laterReact := f.react(t, f.bob, KindReact, hlcAt(time.Hour, 0), p.ID, "😱")

	want := Message{ID: p.ID, Channel: testChannel, Author: f.aliceUser, Device: f.alice.ID(), HLC: p.HLC, Deleted: true}
	for _, order := range [][]Opened{
		{p, edit, react, del, laterEdit, laterReact},
		{laterEdit, laterReact, del, react, edit, p},
		{p, laterEdit, laterReact, del},
	} {
		v, rows := newView(AuthorOnly)
		apply(t, v, order...)
		if got := normalized(message(t, rows, p.ID)); !reflect.DeepEqual(got, want) {
			t.Errorf("after delete: %+v\nwant %+v", got, want)
		}
		if rows.Held() != 0 {
			t.Errorf("Held() = %d after the post arrived", rows.Held())
		}
	}
}

func TestChannelDeleteAuthorization(t *testing.T) {
	f := newChannelFixture(t)
	p := f.post(t, f.alice, hlcAt(0, 0), "mine")
	byBob := f.del(t, f.bob, hlcAt(time.Second, 0), p.ID)
	byMod := f.del(t, f.mod, hlcAt(time.Second, 0), p.ID)

	var asked []*Op
	moderator := func(del *Op, target *Message) bool {
		asked = append(asked, del)
		if target.ID != p.ID || target.Author != f.aliceUser {
			t.Errorf("policy asked about %+v", target)
		}
		return del.User() == f.modUser
	}
	cases := []struct {
		name    string
		policy  DeletePolicy
		del     Opened
		deleted bool
	}{
		{"author only, by bob", AuthorOnly, byBob, false},
		{"nil policy, by bob", nil, byBob, false},
		{"moderator policy, by bob", moderator, byBob, false},
		{"moderator policy, by mod", moderator, byMod, true},
		{"allow all, by bob", func(*Op, *Message) bool { return true }, byBob, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			asked = nil
			v, rows := newView(c.policy)
			apply(t, v, p, c.del)
			if m := message(t, rows, p.ID); m.Deleted != c.deleted || (m.Text == "") != c.deleted {
				t.Errorf("deleted %v, text %q; want deleted %v", m.Deleted, m.Text, c.deleted)
			}
			if len(asked) > 1 || (len(asked) == 1 && asked[0] != c.del.Op) {
				t.Errorf("policy asked about %d ops", len(asked))
			}
		})
	}

	// The author's own delete never consults the policy.
	v, rows := newView(func(*Op, *Message) bool {
		t.Error("policy consulted for the author's own delete")
		return false
	})
	apply(t, v, p, f.del(t, f.alice2, hlcAt(time.Second, 0), p.ID))
	if !message(t, rows, p.ID).Deleted {
		t.Error("author's delete not applied")
	}
}

func TestChannelReactions(t *testing.T) {
	f := newChannelFixture(t)
	p := f.post(t, f.alice, hlcAt(0, 0), "react to me")
	ops := []Opened{
		f.react(t, f.alice, KindReact, hlcAt(1*time.Second, 0), p.ID, "👍"),
		f.react(t, f.bob, KindReact, hlcAt(2*time.Second, 0), p.ID, "👍"),
		f.react(t, f.bob, KindReact, hlcAt(3*time.Second, 0), p.ID, "❤"),
		f.react(t, f.bob, KindUnreact, hlcAt(4*time.Second, 0), p.ID, "👍"),
		// A stale react, older than bob's unreact, must not bring it back.
		f.react(t, f.bob, KindReact, hlcAt(1500*time.Millisecond, 0), p.ID, "👍"),
		// An unreact with nothing to remove still sets the register.
		f.react(t, f.mod, KindUnreact, hlcAt(5*time.Second, 0), p.ID, "👍"),
		// alice reacts from two devices: one register for her user.
		f.react(t, f.alice2, KindReact, hlcAt(6*time.Second, 0), p.ID, "👍"),
	}
	var want []Reaction
	for _, i := range []int{3, 6, 5} { // bob's unreact, alice's latest, mod's unreact
		o := ops[i]
		want = append(want, Reaction{Emoji: "👍", User: o.User(), Stamp: StampOf(o.Op), On: o.Kind == KindReact})
	}
	want = append(want, Reaction{Emoji: "❤", User: f.bobUser, Stamp: StampOf(ops[2].Op), On: true})
	slices.SortFunc(want, compareReactionKey)
	var wantOn []Reaction
	for _, r := range want {
		if r.On {
			wantOn = append(wantOn, r)
		}
	}

	for _, order := range [][]Opened{
		append([]Opened{p}, ops...),
		append(slices.Clone(ops), p),
		append([]Opened{ops[6], ops[4], ops[5], p}, ops[:4]...),
	} {
		v, rows := newView(AuthorOnly)
		apply(t, v, order...)
		m := message(t, rows, p.ID)
		if !reflect.DeepEqual(m.Reactions, want) {
			t.Errorf("Reactions = %+v\nwant %+v", m.Reactions, want)
		}
		if got := m.Reacted(); !reflect.DeepEqual(got, wantOn) {
			t.Errorf("Reacted() = %+v\nwant %+v", got, wantOn)
		}
	}
	if got := (&Message{}).Reacted(); got != nil {
		t.Errorf("Reacted() of a message without reactions = %v", got)
	}
}

func TestChannelHoldsOpsUntilTargetArrives(t *testing.T) {
	f := newChannelFixture(t)
	p := f.post(t, f.alice, hlcAt(0, 0), "slow")
	edit := f.edit(t, f.alice, hlcAt(time.Second, 0), p.ID, "fast")
	react := f.react(t, f.bob, KindReact, hlcAt(time.Second, 0), p.ID, "🐢")
	v, rows := newView(AuthorOnly)
	apply(t, v, edit, react, edit) // held once each, however often they arrive
	if rows.Held() != 2 || len(rows.Messages()) != 0 {
		t.Fatalf("before the post: Held() = %d, %d messages", rows.Held(), len(rows.Messages()))
	}
	apply(t, v, p)
	if rows.Held() != 0 {
		t.Errorf("after the post: Held() = %d", rows.Held())
	}
	m := message(t, rows, p.ID)
	if m.Text != "fast" || m.Edited != StampOf(edit.Op) || len(m.Reacted()) != 1 {
		t.Errorf("held ops not applied: %+v", m)
	}

	v, rows = newView(AuthorOnly)
	del := f.del(t, f.alice, hlcAt(time.Second, 0), p.ID)
	apply(t, v, del, react)
	if rows.Held() != 2 {
		t.Fatalf("Held() = %d, want 2", rows.Held())
	}
	apply(t, v, p)
	if m := message(t, rows, p.ID); !m.Deleted || m.Text != "" || len(m.Reactions) != 0 || rows.Held() != 0 {
		t.Errorf("held delete not applied: %+v, Held() = %d", m, rows.Held())
	}
}

func TestChannelIgnoresInvalidOps(t *testing.T) {
	f := newChannelFixture(t)
	p := f.post(t, f.alice, hlcAt(0, 0), "fine")
	withBody := func(o Opened, b Body) Opened { return Opened{Op: o.Op, Body: b} }
	edit := f.edit(t, f.alice, hlcAt(time.Second, 0), p.ID, "x")
	react := f.react(t, f.alice, KindReact, hlcAt(time.Second, 0), p.ID, "x")
	del := f.del(t, f.alice, hlcAt(time.Second, 0), p.ID)
	otherChannel := mustOpen(t, f.alice, Draft{
		Community: testCommunity, Channel: testOtherChannel, Kind: KindEdit,
		HLC: hlcAt(time.Hour, 0), Target: p.ID, Body: Body{Text: "wrong channel"},
	}, f.key)
	// Bodies a hostile author could seal: Sign refuses to make them, so
	// they are put together by hand.
	invalid := map[string]Opened{
		"edit with empty text":   withBody(edit, Body{}),
		"edit with reply-to":     withBody(edit, Body{Text: "x", ReplyTo: f.replyTo}),
		"edit with bad UTF-8":    withBody(edit, Body{Text: "\xff"}),
		"react without emoji":    withBody(react, Body{}),
		"react with text":        withBody(react, Body{Emoji: "x", Text: "x"}),
		"delete with a body":     withBody(del, Body{Text: "x"}),
		"edit in other channel":  otherChannel,
		"post with empty text":   withBody(f.post(t, f.alice, hlcAt(0, 1), "x"), Body{}),
		"post with mentions>max": withBody(f.post(t, f.alice, hlcAt(0, 2), "x"), Body{Text: "x", Mentions: make([]UserID, MaxMentions+1)}),
	}
	v, rows := newView(AuthorOnly)
	apply(t, v, p)
	want := snapshot(rows)
	for name, o := range invalid {
		apply(t, v, o)
		if got := snapshot(rows); !reflect.DeepEqual(got, want) {
			t.Errorf("%s changed the view:\n got %+v\nwant %+v", name, got, want)
		}
	}
	if rows.Held() != 0 {
		t.Errorf("invalid ops held: %d", rows.Held())
	}

	// Held invalid ops are dropped too, and a wrong-channel op held for a
	// post changes nothing when the post arrives.
	v, rows = newView(AuthorOnly)
	apply(t, v, otherChannel, withBody(edit, Body{}), p)
	if m := message(t, rows, p.ID); m.Text != "fine" || !m.Edited.IsZero() {
		t.Errorf("after held wrong-channel edit: %+v", m)
	}
}

func TestChannelDuplicatesAreNoOps(t *testing.T) {
	f := newChannelFixture(t)
	p := f.post(t, f.alice, hlcAt(0, 0), "once")
	ops := []Opened{
		p,
		f.edit(t, f.alice, hlcAt(time.Second, 0), p.ID, "twice"),
		f.react(t, f.bob, KindReact, hlcAt(time.Second, 0), p.ID, "👍"),
		f.react(t, f.mod, KindUnreact, hlcAt(time.Second, 0), p.ID, "👍"),
		f.post(t, f.bob, hlcAt(time.Second, 0), "other"),
	}
	v, rows := newView(AuthorOnly)
	apply(t, v, ops...)
	want := snapshot(rows)
	apply(t, v, ops...)
	slices.Reverse(ops)
	apply(t, v, ops...)
	if got := snapshot(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("reapplying changed the view:\n got %+v\nwant %+v", got, want)
	}

	del := f.del(t, f.alice, hlcAt(2*time.Second, 0), p.ID)
	apply(t, v, del)
	want = snapshot(rows)
	apply(t, v, del, p)
	if got := snapshot(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("reapplying a delete and its post changed the view:\n got %+v\nwant %+v", got, want)
	}
}

// failingRows fails every call, to check that Apply reports storage errors.
type failingRows struct{ err error }

func (r failingRows) Message(ID) (*Message, error) { return nil, r.err }
func (r failingRows) PutMessage(*Message) error    { return r.err }
func (r failingRows) Hold(ID, Opened) error        { return r.err }
func (r failingRows) Release(ID) ([]Opened, error) { return nil, r.err }

func TestChannelReportsRowErrors(t *testing.T) {
	f := newChannelFixture(t)
	p := f.post(t, f.alice, hlcAt(0, 0), "x")
	boom := errors.New("disk on fire")
	v := ChannelView{Rows: failingRows{boom}, MayDelete: AuthorOnly}
	for _, o := range []Opened{p, f.edit(t, f.alice, hlcAt(time.Second, 0), p.ID, "y")} {
		if err := v.Apply(o); !errors.Is(err, boom) {
			t.Errorf("Apply %s with failing rows: error %v, want %v", o.Kind, err, boom)
		}
	}
}

func TestMessageBinaryRoundTrip(t *testing.T) {
	ids := testIDs(6)
	full := &Message{
		ID: ids[0], Channel: ids[1], HLC: hlcAt(0, 3), Text: "héllo", ReplyTo: ids[2],
		Mentions: []UserID{{1}, {2}}, Everyone: true, Edited: Stamp{hlcAt(time.Second, 0), ids[3]},
		Reactions: []Reaction{
			{Emoji: "👍", User: UserID{1}, Stamp: Stamp{hlcAt(2*time.Second, 0), ids[4]}, On: true},
			{Emoji: "👎", User: UserID{2}, Stamp: Stamp{hlcAt(3*time.Second, 1), ids[5]}},
		},
	}
	full.Author[0], full.Device[0] = 7, 8
	for name, m := range map[string]*Message{
		"full":      full,
		"minimal":   {ID: ids[0], Channel: ids[1], HLC: 1},
		"tombstone": {ID: ids[0], Channel: ids[1], Author: UserID{3}, Device: DeviceID{4}, HLC: 2, Deleted: true},
		"zero":      {},
		"empty":     {Mentions: []UserID{}, Reactions: []Reaction{}},
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got Message
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: UnmarshalBinary: %v", name, err)
		}
		if !reflect.DeepEqual(normalized(&got), normalized(m)) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, got, *m)
		}
	}
	var m Message
	for _, junk := range [][]byte{nil, {0x80}, {0xff}, []byte("not cbor")} {
		if err := m.UnmarshalBinary(junk); err == nil {
			t.Errorf("UnmarshalBinary(% x) succeeded: %+v", junk, m)
		}
	}
}

func TestMessageRowRefusesShortKeys(t *testing.T) {
	ids := testIDs(2)
	row, err := encMode.Marshal(wireMessage{ID: ids[0][:5], Channel: ids[1][:], Author: make([]byte, 32), Device: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := m.UnmarshalBinary(row); err == nil {
		t.Fatalf("a row with a 5-byte id decoded: %+v", m)
	}
}
