package crdt

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// propertyCast is the people of the property test, made once because key
// generation and certification are the slow part of each run.
type propertyCast struct {
	users   []*User
	devices [][]*Device // devices[i] act for users[i]
	key     *EpochKey
}

func newPropertyCast(t *testing.T) propertyCast {
	t.Helper()
	c := propertyCast{key: newTestKey(t)}
	for range 4 {
		u := newTestUser(t)
		c.users = append(c.users, u)
		c.devices = append(c.devices, []*Device{newTestDevice(t, u), newTestDevice(t, u)})
	}
	return c
}

var propertyEmoji = []string{"👍", "❤", "😂"}

// history is a generated channel history: the signed, decoded and opened
// ops in the order they were made.
type history struct {
	ops       []Opened
	posts     []Opened
	moderator UserID
}

// genHistory draws 1–30 posts by 2–4 users with 1–2 devices each, then
// edits, deletes and reactions by anyone, some in the wrong channel or on
// messages that never arrive. Clocks are drawn from a narrow range so that
// equal HLCs, and so the ID tie-break, are common.
func genHistory(t *rapid.T, cast propertyCast, v *Verifier) history {
	nUsers := rapid.IntRange(2, 4).Draw(t, "users")
	var devices []*Device
	for i := range nUsers {
		n := rapid.IntRange(1, 2).Draw(t, fmt.Sprintf("devices of user %d", i))
		devices = append(devices, cast.devices[i][:n]...)
	}
	h := history{moderator: cast.users[0].ID()}
	device := func(label string) *Device {
		return devices[rapid.IntRange(0, len(devices)-1).Draw(t, label)]
	}
	clock := func() HLC {
		ms := rapid.IntRange(0, 8).Draw(t, "ms")
		return hlcAt(time.Duration(ms)*time.Millisecond, uint16(rapid.IntRange(0, 2).Draw(t, "counter")))
	}
	mentions := func() []UserID {
		var out []UserID
		for i := range rapid.IntRange(0, 2).Draw(t, "mentions") {
			out = append(out, cast.users[i].ID())
		}
		return out
	}
	add := func(d *Device, dr Draft) Opened {
		op, err := d.Sign(dr, cast.key)
		if err != nil {
			t.Fatalf("sign %s: %v", dr.Kind, err)
		}
		// Through the wire and back, as a peer would get it.
		got, err := v.Decode(op.Encoded(), testNow)
		if err != nil {
			t.Fatalf("decode %s: %v", dr.Kind, err)
		}
		body, err := got.Open(Keyring{cast.key.ID(): cast.key})
		if err != nil {
			t.Fatalf("open %s: %v", dr.Kind, err)
		}
		o := Opened{Op: got, Body: body}
		h.ops = append(h.ops, o)
		return o
	}

	ghosts := testIDs(2)
	for i := range rapid.IntRange(1, 30).Draw(t, "posts") {
		var parents []ID
		if len(h.posts) > 0 {
			for range rapid.IntRange(0, 2).Draw(t, "parents") {
				parents = append(parents, h.posts[rapid.IntRange(0, len(h.posts)-1).Draw(t, "parent")].ID)
			}
		}
		dr := channelDraft(KindPost, clock(), ID{}, Body{
			Text: fmt.Sprintf("post %d", i), Mentions: mentions(), Everyone: rapid.Bool().Draw(t, "everyone"),
		})
		dr.Parents = parents
		if len(parents) > 0 && rapid.Bool().Draw(t, "reply") {
			dr.Body.ReplyTo = parents[0]
		}
		h.posts = append(h.posts, add(device("poster"), dr))
	}
	for i := range rapid.IntRange(0, 60).Draw(t, "changes") {
		kind := rapid.SampledFrom([]Kind{KindEdit, KindDelete, KindReact, KindUnreact}).Draw(t, "kind")
		post := h.posts[rapid.IntRange(0, len(h.posts)-1).Draw(t, "target")]
		d := device("changer")
		if kind == KindEdit || kind == KindDelete {
			// Mostly the author's user, so that edits and deletes often
			// count; sometimes anyone, so that refusals are tested too.
			if rapid.IntRange(0, 3).Draw(t, "by anyone") != 0 {
				d = sameUserDevice(t, devices, post.User())
			}
		}
		dr := channelDraft(kind, clock(), post.ID, Body{})
		if rapid.IntRange(0, 19).Draw(t, "ghost target") == 0 {
			dr.Target = ghosts[rapid.IntRange(0, len(ghosts)-1).Draw(t, "ghost")]
		}
		if rapid.IntRange(0, 9).Draw(t, "other channel") == 0 {
			dr.Channel = testOtherChannel
		}
		switch kind {
		case KindEdit:
			dr.Body = Body{Text: fmt.Sprintf("edit %d", i), Mentions: mentions(), Everyone: rapid.Bool().Draw(t, "everyone")}
		case KindReact, KindUnreact:
			dr.Body = Body{Emoji: rapid.SampledFrom(propertyEmoji).Draw(t, "emoji")}
		}
		add(d, dr)
	}
	return h
}

func sameUserDevice(t *rapid.T, devices []*Device, u UserID) *Device {
	var mine []*Device
	for _, d := range devices {
		if d.User() == u {
			mine = append(mine, d)
		}
	}
	return mine[rapid.IntRange(0, len(mine)-1).Draw(t, "author device")]
}

// policy lets the moderator delete anyone's message.
func (h history) policy(del *Op, _ *Message) bool { return del.User() == h.moderator }

// expected computes the view from the rules written out directly, one
// message at a time, independent of any order.
func (h history) expected() (rows []Message, held int) {
	heldIDs := make(map[ID]bool)
	posted := make(map[ID]bool)
	for _, p := range h.posts {
		posted[p.ID] = true
	}
	for _, o := range h.ops {
		if o.Kind != KindPost && !posted[o.Target] {
			heldIDs[o.ID] = true
		}
	}
	for _, p := range h.posts {
		m := Message{
			ID: p.ID, Channel: p.Channel, Author: p.User(), Device: p.Author, HLC: p.HLC,
			Text: p.Body.Text, ReplyTo: p.Body.ReplyTo, Mentions: p.Body.Mentions, Everyone: p.Body.Everyone,
		}
		reactions := make(map[Reaction]Reaction) // by (emoji, user)
		deleted := false
		for _, o := range h.ops {
			if o.Kind == KindPost || o.Target != p.ID || o.Channel != p.Channel {
				continue
			}
			st := StampOf(o.Op)
			switch o.Kind {
			case KindDelete:
				deleted = deleted || o.User() == m.Author || o.User() == h.moderator
			case KindEdit:
				if o.User() == m.Author && st.Compare(m.Edited) > 0 {
					m.Text, m.Mentions, m.Everyone, m.Edited = o.Body.Text, o.Body.Mentions, o.Body.Everyone, st
				}
			case KindReact, KindUnreact:
				key := Reaction{Emoji: o.Body.Emoji, User: o.User()}
				if r, ok := reactions[key]; !ok || st.Compare(r.Stamp) > 0 {
					reactions[key] = Reaction{Emoji: key.Emoji, User: key.User, Stamp: st, On: o.Kind == KindReact}
				}
			}
		}
		if deleted {
			m = Message{ID: m.ID, Channel: m.Channel, Author: m.Author, Device: m.Device, HLC: m.HLC, Deleted: true}
		} else {
			for _, r := range reactions {
				m.Reactions = append(m.Reactions, r)
			}
			slices.SortFunc(m.Reactions, compareReactionKey)
		}
		rows = append(rows, normalized(&m))
	}
	slices.SortFunc(rows, func(a, b Message) int {
		return cmp.Or(cmp.Compare(a.HLC, b.HLC), a.ID.Compare(b.ID))
	})
	return rows, len(heldIDs)
}

func applyAll(t *rapid.T, v ChannelView, ops []Opened) {
	for _, o := range ops {
		if err := v.Apply(o); err != nil {
			t.Fatalf("Apply %s: %v", o.Kind, err)
		}
	}
}

func TestChannelViewConverges(t *testing.T) {
	cast := newPropertyCast(t)
	v := NewVerifier()
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t, cast, v)

		inOrder := NewMemRows()
		applyAll(t, ChannelView{Rows: inOrder, MayDelete: h.policy}, h.ops)

		var redelivered []Opened
		for _, o := range h.ops {
			for range rapid.IntRange(1, 3).Draw(t, "copies") {
				redelivered = append(redelivered, o)
			}
		}
		redelivered = rapid.Permutation(redelivered).Draw(t, "delivery order")
		shuffled := NewMemRows()
		applyAll(t, ChannelView{Rows: shuffled, MayDelete: h.policy}, redelivered)

		a, b := snapshot(inOrder), snapshot(shuffled)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("views differ by delivery order:\n%s", diffRows(a, b))
		}
		want, held := h.expected()
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("view differs from the rules:\n%s", diffRows(a, want))
		}
		if inOrder.Held() != held || shuffled.Held() != held {
			t.Fatalf("Held() = %d in order, %d shuffled; want %d", inOrder.Held(), shuffled.Held(), held)
		}
		for _, m := range a {
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var stored Message
			if err := stored.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(normalized(&stored), m) {
				t.Fatalf("row storage round trip: %+v, %v; want %+v", stored, err, m)
			}
			if m.Deleted && (m.Text != "" || m.Mentions != nil || m.Reactions != nil || m.Everyone || !m.Edited.IsZero()) {
				t.Fatalf("tombstone keeps content: %+v", m)
			}
		}
	})
}

// diffRows describes how two snapshots differ, row by row.
func diffRows(got, want []Message) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	var s string
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			s += fmt.Sprintf("row %d:\n got %+v\nwant %+v\n", i, got[i], want[i])
		}
	}
	return s
}
