package api

import (
	"net/http"
	"strings"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node/picture"
)

func (s *Server) listCommunities(*http.Request) (int, any, error) {
	out := []CommunityJSON{}
	for _, id := range s.node.Communities() {
		if c, err := s.node.Community(id); err == nil && c.Genesis != nil && !c.Dissolved {
			out = append(out, s.communityJSON(c))
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) getCommunity(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.communityJSON(c), nil
}

func (s *Server) createCommunity(r *http.Request) (int, any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := checkName(in.Name); err != nil {
		return 0, nil, err
	}
	id, err := s.node.CreateCommunity(r.Context(), in.Name)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.node.Community(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.communityJSON(c), nil
}

func (s *Server) joinCommunity(r *http.Request) (int, any, error) {
	var in struct {
		Invite string `json:"invite"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	link := in.Invite
	if !strings.HasPrefix(link, "ancore://") {
		if !inviteCode(link) {
			return 0, nil, invalidInvite("invite must be an ancore:// link or a short invite code")
		}
		var err error
		if link, err = s.node.ResolveInviteCode(r.Context(), strings.TrimSpace(link)); err != nil {
			return 0, nil, err
		}
	}
	if _, err := crdt.ParseInvite(link); err != nil {
		return 0, nil, invalidInvite("%v", err)
	}
	id, err := s.node.Join(r.Context(), link)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.node.Community(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.communityJSON(c), nil
}

func (s *Server) patchCommunity(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Name *string `json:"name"`
		Icon *[]byte `json:"icon"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	cur := s.communityJSON(c)
	name, icon := cur.Name, cur.Icon
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return 0, nil, err
		}
		name = *in.Name
	}
	if in.Icon != nil {
		icon = nil // empty clears the icon
		if len(*in.Icon) > 0 {
			if icon, err = picture.Shrink(*in.Icon, picture.Icon); err != nil {
				return 0, nil, err
			}
		}
	}
	if err := s.node.UpdateCommunity(r.Context(), c.ID, name, icon); err != nil {
		return 0, nil, err
	}
	c, err = s.node.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.communityJSON(c), nil
}

func (s *Server) deleteCommunity(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.node.Dissolve(r.Context(), c.ID)
}

func (s *Server) leaveCommunity(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.node.Leave(r.Context(), c.ID)
}
