package crdt

import (
	"fmt"
	"slices"
)

// wireMessage is the stored form of a Message (see MarshalBinary).
type wireMessage struct {
	_         struct{} `cbor:",toarray"`
	ID        ID
	Channel   ID
	Author    UserID
	Device    DeviceID
	HLC       uint64
	Text      string
	ReplyTo   []byte
	Mentions  []UserID
	Everyone  bool
	EditedHLC uint64
	EditedID  []byte
	Deleted   bool
	Reactions []wireReaction
}

type wireReaction struct {
	_        struct{} `cbor:",toarray"`
	Emoji    string
	User     UserID
	StampHLC uint64
	StampID  ID
	On       bool
}

// MarshalBinary encodes m for storage.
func (m *Message) MarshalBinary() ([]byte, error) {
	w := wireMessage{
		ID: m.ID, Channel: m.Channel, Author: m.Author, Device: m.Device, HLC: uint64(m.HLC),
		Text: m.Text, ReplyTo: m.ReplyTo.bytesOrNil(), Mentions: m.Mentions, Everyone: m.Everyone,
		EditedHLC: uint64(m.Edited.HLC), EditedID: m.Edited.ID.bytesOrNil(), Deleted: m.Deleted,
	}
	for _, r := range m.Reactions {
		w.Reactions = append(w.Reactions, wireReaction{Emoji: r.Emoji, User: r.User, StampHLC: uint64(r.Stamp.HLC), StampID: r.Stamp.ID, On: r.On})
	}
	return encMode.Marshal(w)
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (m *Message) UnmarshalBinary(b []byte) error {
	var w wireMessage
	if err := decMode.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode message row: %w", err)
	}
	*m = Message{
		ID: w.ID, Channel: w.Channel, Author: w.Author, Device: w.Device, HLC: HLC(w.HLC),
		Text: w.Text, Mentions: w.Mentions, Everyone: w.Everyone, Deleted: w.Deleted,
		Edited: Stamp{HLC: HLC(w.EditedHLC)},
	}
	var err error
	if m.ReplyTo, err = idOrZero(w.ReplyTo); err != nil {
		return fmt.Errorf("decode message row: %w", err)
	}
	if m.Edited.ID, err = idOrZero(w.EditedID); err != nil {
		return fmt.Errorf("decode message row: %w", err)
	}
	for _, r := range w.Reactions {
		m.Reactions = append(m.Reactions, Reaction{Emoji: r.Emoji, User: r.User, Stamp: Stamp{HLC(r.StampHLC), r.StampID}, On: r.On})
	}
	return nil
}

// MemRows keeps a channel view in memory.
type MemRows struct {
	rows map[ID]*Message
	held map[ID][]Opened
}

// NewMemRows returns empty in-memory rows.
func NewMemRows() *MemRows {
	return &MemRows{rows: make(map[ID]*Message), held: make(map[ID][]Opened)}
}

// Message implements Rows.
func (r *MemRows) Message(id ID) (*Message, error) {
	m, ok := r.rows[id]
	if !ok {
		return nil, nil
	}
	c := *m
	c.Reactions = slices.Clone(m.Reactions)
	return &c, nil
}

// PutMessage implements Rows.
func (r *MemRows) PutMessage(m *Message) error {
	r.rows[m.ID] = m
	return nil
}

// Hold implements Rows.
func (r *MemRows) Hold(target ID, op Opened) error {
	for _, h := range r.held[target] {
		if h.ID == op.ID {
			return nil
		}
	}
	r.held[target] = append(r.held[target], op)
	return nil
}

// Release implements Rows.
func (r *MemRows) Release(target ID) ([]Opened, error) {
	h := r.held[target]
	delete(r.held, target)
	return h, nil
}

// Messages returns every row ordered by (HLC, ID), tombstones included.
func (r *MemRows) Messages() []*Message {
	out := make([]*Message, 0, len(r.rows))
	for _, m := range r.rows {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *Message) int { return Stamp{a.HLC, a.ID}.Compare(Stamp{b.HLC, b.ID}) })
	return out
}

// Held returns how many ops wait for a target.
func (r *MemRows) Held() int {
	n := 0
	for _, h := range r.held {
		n += len(h)
	}
	return n
}
