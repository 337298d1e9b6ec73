package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
)

func (s *Server) listInvites(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	out := []InviteJSON{}
	for _, inv := range c.Invites {
		out = append(out, inviteJSON(inv))
	}
	slices.SortFunc(out, func(a, b InviteJSON) int { return strings.Compare(a.ID, b.ID) })
	return http.StatusOK, out, nil
}

func (s *Server) createInvite(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		TTL     *int64 `json:"ttl_seconds"` // absent: 24 h; 0: never expires
		MaxUses uint32 `json:"max_uses"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	ttl := crdt.DefaultInviteTTL
	if in.TTL != nil {
		if *in.TTL < 0 || *in.TTL > int64(maxInviteTTL/time.Second) {
			return 0, nil, invalid("ttl_seconds must be 0 (never) to ten years")
		}
		ttl = time.Duration(*in.TTL) * time.Second
	}
	link, err := s.node.CreateInvite(r.Context(), c.ID, ttl, in.MaxUses)
	if err != nil {
		return 0, nil, err
	}
	inv, err := crdt.ParseInvite(link)
	if err != nil {
		return 0, nil, err
	}
	c, err = s.node.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	out := NewInviteJSON{InviteJSON: inviteJSON(c.Invites[inv.Invite])}
	out.Link = link
	out.Code = s.node.InviteCode(r.Context(), link, ttl, in.MaxUses)
	return http.StatusCreated, out, nil
}

// inviteCode reports whether s may be a relay's short invite code:
// letters and digits, maybe grouped by dashes or spaces as people type
// them.
func inviteCode(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && len(s) <= 64 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == ' ')
	})
}

func (s *Server) revokeInvite(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	inv, err := pathID(r, "invite")
	if err != nil {
		return 0, nil, err
	}
	if c.Invites[inv] == nil {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no such invite")
	}
	if c.Invites[inv].Revoked {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusNoContent, nil, s.node.RevokeInvite(r.Context(), c.ID, inv)
}
