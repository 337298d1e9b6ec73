package crdt

import (
	"fmt"
	"unicode/utf8"
)

// Body limits. MaxTextLen matches Discord's longest messages.
const (
	MaxTextLen     = 4000 // characters
	MaxMentions    = 100
	MaxEmojiBytes  = 64
	maxTextUTF8Len = MaxTextLen * utf8.UTFMax
)

// Body is the human content of a message op. It travels encrypted; which
// fields a kind uses is checked by validFor.
type Body struct {
	Text     string   // post, edit
	ReplyTo  ID       // post: the message replied to, if any
	Mentions []UserID // post, edit: users mentioned
	Everyone bool     // post, edit: @everyone
	Emoji    string   // react, unreact
}

// wireBody is a CBOR map with small integer keys, so fields can be added
// later without breaking older readers (unknown keys are ignored).
type wireBody struct {
	Text     string   `cbor:"1,keyasint,omitempty"`
	ReplyTo  []byte   `cbor:"2,keyasint,omitempty"`
	Mentions [][]byte `cbor:"3,keyasint,omitempty"`
	Everyone bool     `cbor:"4,keyasint,omitempty"`
	Emoji    string   `cbor:"5,keyasint,omitempty"`
}

// MarshalBinary encodes b as it travels inside a sealed op.
func (b Body) MarshalBinary() ([]byte, error) { return b.encode() }

// UnmarshalBinary decodes what MarshalBinary encoded.
func (b *Body) UnmarshalBinary(p []byte) error {
	v, err := decodeBody(p)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

func (b Body) encode() ([]byte, error) {
	w := wireBody{Text: b.Text, ReplyTo: b.ReplyTo.bytesOrNil(), Everyone: b.Everyone, Emoji: b.Emoji}
	for i := range b.Mentions {
		w.Mentions = append(w.Mentions, b.Mentions[i][:])
	}
	return encMode.Marshal(w)
}

func decodeBody(p []byte) (Body, error) {
	var w wireBody
	if err := decMode.Unmarshal(p, &w); err != nil {
		return Body{}, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	b := Body{Text: w.Text, Everyone: w.Everyone, Emoji: w.Emoji}
	var err error
	if b.ReplyTo, err = idOrZero(w.ReplyTo); err != nil {
		return Body{}, fmt.Errorf("%w: reply-to: %v", ErrBadBody, err)
	}
	if len(w.Mentions) > MaxMentions {
		return Body{}, fmt.Errorf("%w: %d mentions, at most %d", ErrBadBody, len(w.Mentions), MaxMentions)
	}
	for _, m := range w.Mentions {
		var u UserID
		if len(m) != len(u) {
			return Body{}, fmt.Errorf("%w: mention is %d bytes", ErrBadBody, len(m))
		}
		copy(u[:], m)
		b.Mentions = append(b.Mentions, u)
	}
	return b, nil
}

// validFor checks that b is a meaningful body for an op of kind k. Views
// ignore ops whose bodies fail it, so every replica treats them alike.
func (b Body) validFor(k Kind) error {
	text := func() error {
		n := utf8.RuneCountInString(b.Text)
		switch {
		case n == 0:
			return fmt.Errorf("%w: empty text", ErrBadBody)
		case len(b.Text) > maxTextUTF8Len || n > MaxTextLen:
			return fmt.Errorf("%w: text longer than %d characters", ErrBadBody, MaxTextLen)
		case !utf8.ValidString(b.Text):
			return fmt.Errorf("%w: text is not UTF-8", ErrBadBody)
		case len(b.Mentions) > MaxMentions:
			return fmt.Errorf("%w: more than %d mentions", ErrBadBody, MaxMentions)
		}
		return nil
	}
	if (k == KindPost || k == KindEdit) && b.Emoji != "" {
		return fmt.Errorf("%w: a message carries no emoji field", ErrBadBody)
	}
	switch k {
	case KindPost:
		return text()
	case KindEdit:
		if !b.ReplyTo.IsZero() {
			return fmt.Errorf("%w: an edit cannot change reply-to", ErrBadBody)
		}
		return text()
	case KindReact, KindUnreact:
		if b.Emoji == "" || len(b.Emoji) > MaxEmojiBytes || !utf8.ValidString(b.Emoji) {
			return fmt.Errorf("%w: emoji must be 1–%d bytes of UTF-8", ErrBadBody, MaxEmojiBytes)
		}
		if b.Text != "" || len(b.Mentions) > 0 || b.Everyone || !b.ReplyTo.IsZero() {
			return fmt.Errorf("%w: reaction carries message fields", ErrBadBody)
		}
		return nil
	case KindDelete:
		if b.Text != "" || b.Emoji != "" || len(b.Mentions) > 0 || b.Everyone || !b.ReplyTo.IsZero() {
			return fmt.Errorf("%w: delete carries a body", ErrBadBody)
		}
		return nil
	}
	return fmt.Errorf("%w: %d", ErrUnknownKind, k)
}
