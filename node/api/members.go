package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
)

func (s *Server) listMembers(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	out := []MemberJSON{}
	for _, m := range c.Members {
		out = append(out, s.memberJSON(c, m))
	}
	slices.SortFunc(out, func(a, b MemberJSON) int { return strings.Compare(a.User, b.User) })
	return http.StatusOK, out, nil
}

func (s *Server) memberRoute(r *http.Request) (*crdt.Community, crdt.UserID, error) {
	c, err := s.community(r)
	if err != nil {
		return nil, crdt.UserID{}, err
	}
	u, err := pathUser(r)
	return c, u, err
}

func (s *Server) kickMember(r *http.Request) (int, any, error) {
	c, u, err := s.memberRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if m := c.Members[u]; m == nil || m.State != crdt.Joined {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no such member")
	}
	return http.StatusNoContent, nil, s.node.Kick(r.Context(), c.ID, u)
}

func (s *Server) banMember(r *http.Request) (int, any, error) {
	c, u, err := s.memberRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if c.Banned[u] {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusNoContent, nil, s.node.Ban(r.Context(), c.ID, u)
}

func (s *Server) unbanMember(r *http.Request) (int, any, error) {
	c, u, err := s.memberRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if !c.Banned[u] {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no such ban")
	}
	return http.StatusNoContent, nil, s.node.Unban(r.Context(), c.ID, u)
}

func (s *Server) putMemberRoles(r *http.Request) (int, any, error) {
	c, u, err := s.memberRoute(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Roles []string `json:"roles"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if m := c.Members[u]; m == nil || m.State != crdt.Joined {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no such member")
	}
	var roles []crdt.ID
	for _, s := range in.Roles {
		id, err := crdt.ParseID(s)
		if err != nil || c.Roles[id] == nil || c.Roles[id].Deleted || id == c.ID {
			return 0, nil, invalid("no role %q", s)
		}
		roles = append(roles, id)
	}
	if len(roles) > crdt.MaxRoles {
		return 0, nil, invalid("at most %d roles", crdt.MaxRoles)
	}
	return http.StatusNoContent, nil, s.node.SetMemberRoles(r.Context(), c.ID, u, roles)
}
