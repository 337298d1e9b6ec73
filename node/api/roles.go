package api

import (
	"net/http"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
)

func (s *Server) listRoles(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.communityJSON(c).Roles, nil
}

type roleInput struct {
	Name     *string   `json:"name"`
	Color    *uint32   `json:"color"`
	Perms    *[]string `json:"permissions"`
	Position *int64    `json:"position"`
}

func (in roleInput) update() (node.RoleUpdate, error) {
	u := node.RoleUpdate{Name: in.Name, Color: in.Color, Position: in.Position}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return u, err
		}
	}
	if in.Color != nil && *in.Color > 0xffffff {
		return u, invalid("color must be 0xRRGGBB")
	}
	if in.Position != nil && *in.Position < 1 {
		return u, invalid("position must be at least 1")
	}
	if in.Perms != nil {
		var p crdt.Perm
		for _, name := range *in.Perms {
			bit, ok := crdt.PermByName(name)
			if !ok {
				return u, invalid("unknown permission %q", name)
			}
			p |= bit
		}
		u.Perms = &p
	}
	return u, nil
}

func (s *Server) createRole(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	var in roleInput
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name == nil || in.Position == nil {
		return 0, nil, invalid("a new role needs a name and a position")
	}
	if in.Perms == nil {
		in.Perms = &[]string{}
	}
	u, err := in.update()
	if err != nil {
		return 0, nil, err
	}
	id, err := s.node.PutRole(r.Context(), c.ID, crdt.ID{}, u)
	if err != nil {
		return 0, nil, err
	}
	c, err = s.node.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.roleJSON(c, c.Roles[id]), nil
}

// roleRoute resolves the {id} and {role} of a role route.
func (s *Server) roleRoute(r *http.Request) (*crdt.Community, crdt.ID, error) {
	c, err := s.community(r)
	if err != nil {
		return nil, crdt.ID{}, err
	}
	role, err := pathID(r, "role")
	if err != nil {
		return nil, role, err
	}
	if c.Roles[role] == nil || c.Roles[role].Deleted {
		return nil, role, httpjson.Errorf(http.StatusNotFound, "not_found", "no such role")
	}
	return c, role, nil
}

func (s *Server) patchRole(r *http.Request) (int, any, error) {
	c, role, err := s.roleRoute(r)
	if err != nil {
		return 0, nil, err
	}
	var in roleInput
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	u, err := in.update()
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.node.PutRole(r.Context(), c.ID, role, u); err != nil {
		return 0, nil, err
	}
	c, err = s.node.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.roleJSON(c, c.Roles[role]), nil
}

func (s *Server) deleteRole(r *http.Request) (int, any, error) {
	c, role, err := s.roleRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if role == c.ID {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "@everyone cannot be deleted")
	}
	return http.StatusNoContent, nil, s.node.DeleteRole(r.Context(), c.ID, role)
}
