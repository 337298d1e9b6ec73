package crdt

import (
	"cmp"
	"slices"
)

// Stamp orders concurrent writes: by clock, then by op ID. Every replica
// compares the same stamps the same way, which makes last-writer-wins
// deterministic.
type Stamp struct {
	HLC HLC
	ID  ID
}

// StampOf returns the stamp of op.
func StampOf(op *Op) Stamp { return Stamp{op.HLC, op.ID} }

// Compare orders stamps by (HLC, ID).
func (s Stamp) Compare(o Stamp) int {
	if c := cmp.Compare(s.HLC, o.HLC); c != 0 {
		return c
	}
	return s.ID.Compare(o.ID)
}

// IsZero reports whether s is the zero stamp.
func (s Stamp) IsZero() bool { return s == Stamp{} }

// Message is the materialized state of one message in a channel view.
type Message struct {
	ID       ID
	Channel  ID
	Author   UserID
	Device   DeviceID
	HLC      HLC
	Text     string
	ReplyTo  ID
	Mentions []UserID
	Everyone bool
	Edited   Stamp // the winning edit; zero if never edited
	Deleted  bool  // a tombstone: content and reactions are gone
	// Reactions holds the last-writer-wins register of every (emoji, user)
	// pair ever touched, sorted by (Emoji, User); On says whether the user's
	// reaction currently stands. Use Reacted for the standing ones.
	Reactions []Reaction
}

// Reaction is one (emoji, user) register of a message.
type Reaction struct {
	Emoji string
	User  UserID
	Stamp Stamp
	On    bool
}

// Reacted returns the standing reactions: for each emoji in order, the users
// whose reaction is on.
func (m *Message) Reacted() []Reaction {
	var on []Reaction
	for _, r := range m.Reactions {
		if r.On {
			on = append(on, r)
		}
	}
	return on
}

// Opened is an op together with its opened body, ready for a view.
type Opened struct {
	*Op
	Body Body
}

// Rows is where a channel view keeps its state: in memory for tests and
// tools, in bbolt for a node. Message returns nil, nil when id has no row.
// Hold keeps an op that names a message not seen yet; Release returns and
// forgets the ops held for target.
type Rows interface {
	Message(id ID) (*Message, error)
	PutMessage(m *Message) error
	Hold(target ID, op Opened) error
	Release(target ID) ([]Opened, error)
}

// DeletePolicy says whether del (by someone other than the author) may
// delete target. It must depend only on the ops' causal past so that every
// replica decides alike; the communities layer supplies the real one.
type DeletePolicy func(del *Op, target *Message) bool

// AuthorOnly is the DeletePolicy that lets nobody but the author delete.
func AuthorOnly(*Op, *Message) bool { return false }

// ChannelView applies message ops to Rows. Its rules commute, so any order
// and any duplication of the same ops yields the same rows:
//   - a post creates its message once;
//   - an edit by the author's user replaces text and mentions when its stamp
//     is the greatest seen (last writer wins);
//   - a delete by the author's user, or one MayDelete allows, tombstones the
//     message, beats every edit and drops content and reactions;
//   - react/unreact set the (emoji, user) register, last writer wins;
//   - an op whose target has not arrived is held and applied when it does.
//
// Ops with bodies invalid for their kind, and unauthorized ops, change
// nothing.
type ChannelView struct {
	Rows      Rows
	MayDelete DeletePolicy
}

// Apply merges one op into the view.
func (v ChannelView) Apply(o Opened) error {
	if o.Body.validFor(o.Kind) != nil {
		return nil
	}
	if o.Kind == KindPost {
		return v.post(o)
	}
	m, err := v.Rows.Message(o.Target)
	if err != nil {
		return err
	}
	if m == nil {
		return v.Rows.Hold(o.Target, o)
	}
	if v.change(m, o) {
		return v.Rows.PutMessage(m)
	}
	return nil
}

func (v ChannelView) post(o Opened) error {
	m, err := v.Rows.Message(o.ID)
	if err != nil || m != nil {
		return err
	}
	held, err := v.Rows.Release(o.ID)
	if err != nil {
		return err
	}
	m = &Message{
		ID: o.ID, Channel: o.Channel, Author: o.User(), Device: o.Author, HLC: o.HLC,
		Text: o.Body.Text, ReplyTo: o.Body.ReplyTo, Mentions: o.Body.Mentions, Everyone: o.Body.Everyone,
	}
	for _, h := range held {
		v.change(m, h)
	}
	return v.Rows.PutMessage(m)
}

// change applies a non-post op to m and reports whether m changed.
func (v ChannelView) change(m *Message, o Opened) bool {
	if m.Deleted || o.Channel != m.Channel {
		return false
	}
	st := StampOf(o.Op)
	switch o.Kind {
	case KindEdit:
		if o.User() != m.Author || st.Compare(m.Edited) <= 0 {
			return false
		}
		m.Text, m.Mentions, m.Everyone, m.Edited = o.Body.Text, o.Body.Mentions, o.Body.Everyone, st
		return true
	case KindDelete:
		if o.User() != m.Author && (v.MayDelete == nil || !v.MayDelete(o.Op, m)) {
			return false
		}
		*m = Message{ID: m.ID, Channel: m.Channel, Author: m.Author, Device: m.Device, HLC: m.HLC, Deleted: true}
		return true
	case KindReact, KindUnreact:
		r := Reaction{Emoji: o.Body.Emoji, User: o.User(), Stamp: st, On: o.Kind == KindReact}
		i, found := slices.BinarySearchFunc(m.Reactions, r, compareReactionKey)
		switch {
		case !found:
			m.Reactions = slices.Insert(m.Reactions, i, r)
		case st.Compare(m.Reactions[i].Stamp) > 0:
			m.Reactions[i] = r
		default:
			return false
		}
		return true
	}
	return false
}

func compareReactionKey(a, b Reaction) int {
	if c := cmp.Compare(a.Emoji, b.Emoji); c != 0 {
		return c
	}
	return slices.Compare(a.User[:], b.User[:])
}
