package api

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
)

func (s *Server) me() MeJSON {
	id := s.node.Identity()
	dev := id.Device.ID()
	p := s.node.Profile()
	return MeJSON{User: id.User.ID().String(), Device: dev.String(), Name: p.Name, Status: s.node.Status(),
		StatusText: p.StatusText, Avatar: avatarTag(p.Avatar)}
}

func (s *Server) getMe(*http.Request) (int, any, error) { return http.StatusOK, s.me(), nil }

func (s *Server) patchMe(r *http.Request) (int, any, error) {
	var in struct {
		Name       *string `json:"name"`
		Status     *string `json:"status"`
		StatusText *string `json:"status_text"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return 0, nil, err
		}
	}
	if in.Status != nil {
		if !node.ValidStatus(*in.Status) {
			return 0, nil, invalid("status must be online, idle, dnd or invisible")
		}
	}
	if in.StatusText != nil {
		if err := checkStatusText(*in.StatusText); err != nil {
			return 0, nil, err
		}
	}
	if in.Status != nil {
		if err := s.node.SetStatus(*in.Status); err != nil {
			return 0, nil, err
		}
	}
	if in.Name != nil || in.StatusText != nil {
		p := s.node.Profile()
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.StatusText != nil {
			p.StatusText = *in.StatusText
		}
		if err := s.node.SetLocalProfile(r.Context(), p); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, s.me(), nil
}

// checkStatusText refuses what a status line cannot show: control
// characters (line breaks included) and more than MaxStatusTextLen
// characters. Empty clears the status.
func checkStatusText(s string) error {
	switch {
	case utf8.RuneCountInString(s) > crdt.MaxStatusTextLen:
		return invalid("status_text must be at most %d characters", crdt.MaxStatusTextLen)
	case strings.ContainsFunc(s, unicode.IsControl):
		return invalid("status_text must not contain control characters or line breaks")
	}
	return nil
}
