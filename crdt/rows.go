package crdt

import (
	"fmt"
	"slices"
)

// wireMessage is the stored form of a Message (see MarshalBinary). Keys and
// IDs are byte strings checked for their exact length on decoding, since
// the CBOR decoder would zero-pad a short string into a fixed-size array.
type wireMessage struct {
	_         struct{} `cbor:",toarray"`
	ID        []byte
	Channel   []byte
	Author    []byte
	Device    []byte
	HLC       uint64
	Text      string
	ReplyTo   []byte
	Mentions  [][]byte
	Everyone  bool
	EditedHLC uint64
	EditedID  []byte
	Deleted   bool
	Reactions []wireReaction
}

type wireReaction struct {
	_        struct{} `cbor:",toarray"`
	Emoji    string
	User     []byte
	StampHLC uint64
	StampID  []byte
	On       bool
}

// MarshalBinary encodes m for storage.
func (m *Message) MarshalBinary() ([]byte, error) {
	w := wireMessage{
		ID: m.ID[:], Channel: m.Channel[:], Author: m.Author[:], Device: m.Device[:], HLC: uint64(m.HLC),
		Text: m.Text, ReplyTo: m.ReplyTo.bytesOrNil(), Everyone: m.Everyone,
		EditedHLC: uint64(m.Edited.HLC), EditedID: m.Edited.ID.bytesOrNil(), Deleted: m.Deleted,
	}
	for i := range m.Mentions {
		w.Mentions = append(w.Mentions, m.Mentions[i][:])
	}
	for i := range m.Reactions {
		r := &m.Reactions[i]
		w.Reactions = append(w.Reactions, wireReaction{Emoji: r.Emoji, User: r.User[:], StampHLC: uint64(r.Stamp.HLC), StampID: r.Stamp.ID[:], On: r.On})
	}
	return encMode.Marshal(w)
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (m *Message) UnmarshalBinary(b []byte) error {
	if err := m.unmarshal(b); err != nil {
		return fmt.Errorf("decode message row: %w", err)
	}
	return nil
}

func (m *Message) unmarshal(b []byte) error {
	var w wireMessage
	if err := decMode.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message{
		HLC: HLC(w.HLC), Text: w.Text, Everyone: w.Everyone, Deleted: w.Deleted,
		Edited: Stamp{HLC: HLC(w.EditedHLC)},
	}
	for _, f := range []struct {
		dst, src []byte
		what     string
	}{{m.ID[:], w.ID, "id"}, {m.Channel[:], w.Channel, "channel"}, {m.Author[:], w.Author, "author"}, {m.Device[:], w.Device, "device"}} {
		if err := copyFixed(f.dst, f.src, false, f.what); err != nil {
			return err
		}
	}
	var err error
	if m.ReplyTo, err = idOrZero(w.ReplyTo); err != nil {
		return err
	}
	if m.Edited.ID, err = idOrZero(w.EditedID); err != nil {
		return err
	}
	for _, u := range w.Mentions {
		var id UserID
		if err := copyFixed(id[:], u, false, "mention"); err != nil {
			return err
		}
		m.Mentions = append(m.Mentions, id)
	}
	for _, r := range w.Reactions {
		re := Reaction{Emoji: r.Emoji, Stamp: Stamp{HLC: HLC(r.StampHLC)}, On: r.On}
		if err := copyFixed(re.User[:], r.User, false, "reaction user"); err != nil {
			return err
		}
		if err := copyFixed(re.Stamp.ID[:], r.StampID, false, "reaction stamp"); err != nil {
			return err
		}
		m.Reactions = append(m.Reactions, re)
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
