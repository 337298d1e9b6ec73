package api

import (
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node/store"
)

func (s *Server) listMessages(r *http.Request) (int, any, error) {
	_, id, err := s.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	page, err := parsePage(r.URL.Query())
	if err != nil {
		return 0, nil, err
	}
	msgs, err := s.node.Messages(id, page)
	if err != nil {
		return 0, nil, err
	}
	out := make([]MessageJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, s.messageJSON(m))
	}
	return http.StatusOK, out, nil
}

func parsePage(q url.Values) (store.Page, error) {
	var p store.Page
	anchors := 0
	for name, dst := range map[string]*crdt.ID{"before": &p.Before, "after": &p.After, "around": &p.Around} {
		if s := q.Get(name); s != "" {
			id, err := crdt.ParseID(s)
			if err != nil {
				return p, badInput("%s is not a message id", name)
			}
			*dst = id
			anchors++
		}
	}
	if anchors > 1 {
		return p, badInput("at most one of before, after, around")
	}
	if s := q.Get("limit"); s != "" {
		l, err := strconv.Atoi(s)
		if err != nil || l < 1 || l > store.MaxPageLimit {
			return p, badInput("limit must be 1–%d", store.MaxPageLimit)
		}
		p.Limit = l
	}
	return p, nil
}

type messageInput struct {
	Text     string   `json:"text"`
	ReplyTo  string   `json:"reply_to"`
	Mentions []string `json:"mentions"`
	Everyone bool     `json:"everyone"`
}

func (in messageInput) body() (crdt.Body, error) {
	b := crdt.Body{Text: in.Text, Everyone: in.Everyone}
	if n := utf8.RuneCountInString(in.Text); n == 0 || n > crdt.MaxTextLen || !utf8.ValidString(in.Text) {
		return b, invalid("text must be 1–%d characters", crdt.MaxTextLen)
	}
	if in.ReplyTo != "" {
		id, err := crdt.ParseID(in.ReplyTo)
		if err != nil {
			return b, invalid("reply_to is not a message id")
		}
		b.ReplyTo = id
	}
	if len(in.Mentions) > crdt.MaxMentions {
		return b, invalid("at most %d mentions", crdt.MaxMentions)
	}
	for _, m := range in.Mentions {
		k, err := crdt.ParseKeyText(m)
		var u crdt.UserID
		if err != nil || len(k) != len(u) {
			return b, invalid("mention %q is not a user", m)
		}
		copy(u[:], k)
		b.Mentions = append(b.Mentions, u)
	}
	return b, nil
}

func (s *Server) postMessage(r *http.Request) (int, any, error) {
	_, id, err := s.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	var in messageInput
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	body, err := in.body()
	if err != nil {
		return 0, nil, err
	}
	op, err := s.node.Send(r.Context(), id, body)
	if err != nil {
		return 0, nil, err
	}
	m, err := s.node.Message(op.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.messageJSON(m), nil
}

// messageRoute resolves the {id} of a message route.
func (s *Server) messageRoute(r *http.Request) (*crdt.Message, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.node.Message(id)
}

func (s *Server) patchMessage(r *http.Request) (int, any, error) {
	m, err := s.messageRoute(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Text     string   `json:"text"`
		Mentions []string `json:"mentions"`
		Everyone bool     `json:"everyone"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	body, err := messageInput{Text: in.Text, Mentions: in.Mentions, Everyone: in.Everyone}.body()
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.node.Edit(r.Context(), m.Channel, m.ID, body); err != nil {
		return 0, nil, err
	}
	m, err = s.node.Message(m.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.messageJSON(m), nil
}

func (s *Server) deleteMessage(r *http.Request) (int, any, error) {
	m, err := s.messageRoute(r)
	if err != nil {
		return 0, nil, err
	}
	_, err = s.node.Delete(r.Context(), m.Channel, m.ID)
	return http.StatusNoContent, nil, err
}

func (s *Server) react(r *http.Request, on bool) (int, any, error) {
	m, err := s.messageRoute(r)
	if err != nil {
		return 0, nil, err
	}
	emoji := r.PathValue("emoji")
	if emoji == "" || len(emoji) > crdt.MaxEmojiBytes || !utf8.ValidString(emoji) {
		return 0, nil, invalid("emoji must be 1–%d bytes of UTF-8", crdt.MaxEmojiBytes)
	}
	_, err = s.node.React(r.Context(), m.Channel, m.ID, emoji, on)
	return http.StatusNoContent, nil, err
}

func (s *Server) putReaction(r *http.Request) (int, any, error)    { return s.react(r, true) }
func (s *Server) deleteReaction(r *http.Request) (int, any, error) { return s.react(r, false) }

func (s *Server) postTyping(r *http.Request) (int, any, error) {
	_, id, err := s.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.node.Typing(r.Context(), id)
}
