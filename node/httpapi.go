package node

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/relayclient"
	"github.com/ancore/ancore/node/store"
)

// The REST routes of the local API (SPEC.md, docs/api/openapi.yaml). Each
// handler parses and checks its input completely before it touches the
// node, so bad input never reaches the store.

// apiHandler answers a request with a status and a JSON body, or an error
// that apiError maps to a status.
type apiHandler func(r *http.Request) (int, any, error)

// Handler returns the API's HTTP handler, guarded by token, and the UI
// (Config.UI) at every path outside /api/.
func (n *Node) Handler(token string) http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range n.routes() {
		mux.HandleFunc(pattern, n.serve(h))
	}
	mux.HandleFunc("GET /api/v1/events", n.events.ServeWS)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such route")
	})
	root := http.NewServeMux()
	root.Handle("/api/", api.Guard(token, mux))
	if n.cfg.UI != nil {
		root.Handle("/", api.Secure(n.cfg.UI))
	}
	return root
}

// Routes lists the API's route patterns; the OpenAPI test checks it
// against the document.
func (n *Node) Routes() []string {
	var out []string
	for p := range n.routes() {
		out = append(out, p)
	}
	out = append(out, "GET /api/v1/events")
	slices.Sort(out)
	return out
}

func (n *Node) routes() map[string]apiHandler {
	const v = "/api/v1"
	return map[string]apiHandler{
		"GET " + v + "/me":                                    n.getMe,
		"PATCH " + v + "/me":                                  n.patchMe,
		"GET " + v + "/communities":                           n.listCommunities,
		"POST " + v + "/communities":                          n.createCommunity,
		"POST " + v + "/communities/join":                     n.joinCommunity,
		"GET " + v + "/communities/{id}":                      n.getCommunity,
		"PATCH " + v + "/communities/{id}":                    n.patchCommunity,
		"DELETE " + v + "/communities/{id}":                   n.deleteCommunity,
		"POST " + v + "/communities/{id}/leave":               n.leaveCommunity,
		"GET " + v + "/communities/{id}/members":              n.listMembers,
		"POST " + v + "/communities/{id}/members/{user}/kick": n.kickMember,
		"PUT " + v + "/communities/{id}/members/{user}/roles": n.putMemberRoles,
		"PUT " + v + "/communities/{id}/bans/{user}":          n.banMember,
		"DELETE " + v + "/communities/{id}/bans/{user}":       n.unbanMember,
		"GET " + v + "/communities/{id}/roles":                n.listRoles,
		"POST " + v + "/communities/{id}/roles":               n.createRole,
		"PATCH " + v + "/communities/{id}/roles/{role}":       n.patchRole,
		"DELETE " + v + "/communities/{id}/roles/{role}":      n.deleteRole,
		"GET " + v + "/communities/{id}/invites":              n.listInvites,
		"POST " + v + "/communities/{id}/invites":             n.createInvite,
		"DELETE " + v + "/communities/{id}/invites/{invite}":  n.revokeInvite,
		"GET " + v + "/communities/{id}/channels":             n.listChannels,
		"POST " + v + "/communities/{id}/channels":            n.createChannel,
		"PATCH " + v + "/channels/{id}":                       n.patchChannel,
		"DELETE " + v + "/channels/{id}":                      n.deleteChannel,
		"GET " + v + "/channels/{id}/messages":                n.listMessages,
		"POST " + v + "/channels/{id}/messages":               n.postMessage,
		"PATCH " + v + "/messages/{id}":                       n.patchMessage,
		"DELETE " + v + "/messages/{id}":                      n.deleteMessage,
		"PUT " + v + "/messages/{id}/reactions/{emoji}":       n.putReaction,
		"DELETE " + v + "/messages/{id}/reactions/{emoji}":    n.deleteReaction,
		"POST " + v + "/channels/{id}/typing":                 n.postTyping,
		"GET " + v + "/network":                               n.getNetwork,
		"GET " + v + "/relay":                                 n.getRelay,
		"PUT " + v + "/relay":                                 n.putRelay,
		"DELETE " + v + "/relay":                              n.deleteRelay,
		"POST " + v + "/relay/register":                       n.registerRelay,
		relayLoginRoute:                                       n.loginRelay,
		"POST " + v + "/relay/logout":                         n.logoutRelay,
		"POST " + v + "/communities/{id}/relay":               n.carryCommunity,
	}
}

// relayLoginRoute may swap the node's identity, so it runs outside
// identityMu's read lock and takes the write lock for the swap.
const relayLoginRoute = "POST /api/v1/relay/login"

func (n *Node) serve(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Pattern != relayLoginRoute {
			n.identityMu.RLock()
			defer n.identityMu.RUnlock()
		}
		status, body, err := h(r)
		if err != nil {
			e := apiError(err)
			if e.Status == http.StatusInternalServerError {
				n.log.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			httpjson.Error(w, e.Status, e.Code, e.Message)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		httpjson.JSON(w, status, body)
	}
}

// apiError maps the node's errors to statuses.
func apiError(err error) *httpjson.StatusError {
	var se *httpjson.StatusError
	if e, ok := relayAPIError(err); ok {
		return e
	}
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, ErrUnknownCommunity), errors.Is(err, ErrUnknownChannel), errors.Is(err, store.ErrNotFound):
		return httpjson.Errorf(http.StatusNotFound, "not_found", "%v", err)
	case errors.Is(err, ErrForbidden), errors.Is(err, crdt.ErrUnauthorized):
		return httpjson.Errorf(http.StatusForbidden, "forbidden", "%v", err)
	case errors.Is(err, store.ErrBadQuery):
		return httpjson.Errorf(http.StatusBadRequest, "bad_query", "%v", err)
	case errors.Is(err, crdt.ErrTooLarge):
		return httpjson.Errorf(http.StatusRequestEntityTooLarge, "too_large", "%v", err)
	case errors.Is(err, crdt.ErrBadBody), errors.Is(err, crdt.ErrMalformed):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "invalid", "%v", err)
	case errors.Is(err, ErrJoin):
		return httpjson.Errorf(http.StatusConflict, "join_refused", "%v", err)
	case errors.Is(err, crdt.ErrNoKey), errors.Is(err, ErrNotRunning), errors.Is(err, errNoSignals):
		return httpjson.Errorf(http.StatusConflict, "not_ready", "%v", err)
	}
	return httpjson.Errorf(http.StatusInternalServerError, "internal", "internal error")
}

func badInput(format string, args ...any) error {
	return httpjson.Errorf(http.StatusBadRequest, "bad_input", format, args...)
}

func invalid(format string, args ...any) error {
	return httpjson.Errorf(http.StatusUnprocessableEntity, "invalid", format, args...)
}

// pathID parses an ID path parameter; a malformed one names nothing (404).
func pathID(r *http.Request, name string) (crdt.ID, error) {
	id, err := crdt.ParseID(r.PathValue(name))
	if err != nil {
		return crdt.ID{}, httpjson.Errorf(http.StatusNotFound, "not_found", "no %s %q", name, r.PathValue(name))
	}
	return id, nil
}

func pathUser(r *http.Request) (crdt.UserID, error) {
	var u crdt.UserID
	b, err := ParseKeyText(r.PathValue("user"))
	if err != nil || len(b) != len(u) {
		return u, httpjson.Errorf(http.StatusNotFound, "not_found", "no user %q", r.PathValue("user"))
	}
	copy(u[:], b)
	return u, nil
}

// community resolves the {id} of a community route.
func (n *Node) community(r *http.Request) (*crdt.Community, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return n.Community(id)
}

func checkName(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > crdt.MaxNameLen {
		return invalid("name must be 1–%d characters", crdt.MaxNameLen)
	}
	return nil
}

// --- me ---

// The local user's profile, as published in its communities.
const (
	settingProfile    = "profile"     // the display name
	settingStatusText = "status-text" // the custom status
)

func (n *Node) me() MeJSON {
	dev := n.identity.Device.ID()
	p := n.Profile()
	return MeJSON{User: userText(n.identity.User.ID()), Device: KeyText(dev[:]), Name: p.Name, Status: n.Status(),
		StatusText: p.StatusText}
}

func (n *Node) getMe(*http.Request) (int, any, error) { return http.StatusOK, n.me(), nil }

func (n *Node) patchMe(r *http.Request) (int, any, error) {
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
		if _, ok := statuses[*in.Status]; !ok {
			return 0, nil, invalid("status must be online, idle, dnd or invisible")
		}
	}
	if in.StatusText != nil {
		if err := checkStatusText(*in.StatusText); err != nil {
			return 0, nil, err
		}
	}
	if in.Status != nil {
		if err := n.SetStatus(*in.Status); err != nil {
			return 0, nil, err
		}
	}
	if in.Name != nil || in.StatusText != nil {
		p := n.Profile()
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.StatusText != nil {
			p.StatusText = *in.StatusText
		}
		if err := n.SetLocalProfile(r.Context(), p); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, n.me(), nil
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

// --- communities ---

func (n *Node) listCommunities(*http.Request) (int, any, error) {
	out := []CommunityJSON{}
	for _, id := range n.Communities() {
		if c, err := n.Community(id); err == nil && c.Genesis != nil && !c.Dissolved {
			out = append(out, n.communityJSON(c))
		}
	}
	return http.StatusOK, out, nil
}

func (n *Node) getCommunity(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.communityJSON(c), nil
}

func (n *Node) createCommunity(r *http.Request) (int, any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := checkName(in.Name); err != nil {
		return 0, nil, err
	}
	id, err := n.CreateCommunity(r.Context(), in.Name)
	if err != nil {
		return 0, nil, err
	}
	c, err := n.Community(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, n.communityJSON(c), nil
}

func (n *Node) joinCommunity(r *http.Request) (int, any, error) {
	var in struct {
		Invite string `json:"invite"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	link := in.Invite
	if !strings.HasPrefix(link, "ancore://") {
		if !inviteCode(link) {
			return 0, nil, invalid("invite must be an ancore:// link or a short invite code")
		}
		var err error
		if link, err = n.ResolveInviteCode(r.Context(), strings.TrimSpace(link)); err != nil {
			return 0, nil, err
		}
	}
	if _, err := crdt.ParseInvite(link); err != nil {
		return 0, nil, invalid("%v", err)
	}
	id, err := n.Join(r.Context(), link)
	if err != nil {
		return 0, nil, err
	}
	c, err := n.Community(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.communityJSON(c), nil
}

func (n *Node) patchCommunity(r *http.Request) (int, any, error) {
	c, err := n.community(r)
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
	cur := n.communityJSON(c)
	name, icon := cur.Name, cur.Icon
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return 0, nil, err
		}
		name = *in.Name
	}
	if in.Icon != nil {
		if len(*in.Icon) > crdt.MaxIconSize {
			return 0, nil, invalid("icon larger than %d bytes", crdt.MaxIconSize)
		}
		icon = *in.Icon
	}
	if err := n.UpdateCommunity(r.Context(), c.ID, name, icon); err != nil {
		return 0, nil, err
	}
	c, err = n.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.communityJSON(c), nil
}

func (n *Node) deleteCommunity(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, n.Dissolve(r.Context(), c.ID)
}

func (n *Node) leaveCommunity(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, n.Leave(r.Context(), c.ID)
}

// --- members, bans, roles ---

func (n *Node) listMembers(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	out := []MemberJSON{}
	for _, m := range c.Members {
		out = append(out, n.memberJSON(c, m))
	}
	slices.SortFunc(out, func(a, b MemberJSON) int { return strings.Compare(a.User, b.User) })
	return http.StatusOK, out, nil
}

func (n *Node) memberRoute(r *http.Request) (*crdt.Community, crdt.UserID, error) {
	c, err := n.community(r)
	if err != nil {
		return nil, crdt.UserID{}, err
	}
	u, err := pathUser(r)
	return c, u, err
}

func (n *Node) kickMember(r *http.Request) (int, any, error) {
	c, u, err := n.memberRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if m := c.Members[u]; m == nil || m.State != crdt.Joined {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no such member")
	}
	return http.StatusNoContent, nil, n.Kick(r.Context(), c.ID, u)
}

func (n *Node) banMember(r *http.Request) (int, any, error) {
	c, u, err := n.memberRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if c.Banned[u] {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusNoContent, nil, n.Ban(r.Context(), c.ID, u)
}

func (n *Node) unbanMember(r *http.Request) (int, any, error) {
	c, u, err := n.memberRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if !c.Banned[u] {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no such ban")
	}
	return http.StatusNoContent, nil, n.Unban(r.Context(), c.ID, u)
}

func (n *Node) putMemberRoles(r *http.Request) (int, any, error) {
	c, u, err := n.memberRoute(r)
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
	return http.StatusNoContent, nil, n.SetMemberRoles(r.Context(), c.ID, u, roles)
}

func (n *Node) listRoles(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.communityJSON(c).Roles, nil
}

type roleInput struct {
	Name     *string   `json:"name"`
	Color    *uint32   `json:"color"`
	Perms    *[]string `json:"permissions"`
	Position *int64    `json:"position"`
}

func (in roleInput) update() (RoleUpdate, error) {
	u := RoleUpdate{Name: in.Name, Color: in.Color, Position: in.Position}
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

func (n *Node) createRole(r *http.Request) (int, any, error) {
	c, err := n.community(r)
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
	id, err := n.PutRole(r.Context(), c.ID, crdt.ID{}, u)
	if err != nil {
		return 0, nil, err
	}
	c, err = n.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, n.roleJSON(c, c.Roles[id]), nil
}

// roleRoute resolves the {id} and {role} of a role route.
func (n *Node) roleRoute(r *http.Request) (*crdt.Community, crdt.ID, error) {
	c, err := n.community(r)
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

func (n *Node) patchRole(r *http.Request) (int, any, error) {
	c, role, err := n.roleRoute(r)
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
	if _, err := n.PutRole(r.Context(), c.ID, role, u); err != nil {
		return 0, nil, err
	}
	c, err = n.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.roleJSON(c, c.Roles[role]), nil
}

func (n *Node) deleteRole(r *http.Request) (int, any, error) {
	c, role, err := n.roleRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if role == c.ID {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "@everyone cannot be deleted")
	}
	return http.StatusNoContent, nil, n.DeleteRole(r.Context(), c.ID, role)
}

// --- invites ---

func (n *Node) listInvites(r *http.Request) (int, any, error) {
	c, err := n.community(r)
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

func (n *Node) createInvite(r *http.Request) (int, any, error) {
	c, err := n.community(r)
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
		if *in.TTL < 0 || *in.TTL > 10*365*24*3600 {
			return 0, nil, invalid("ttl_seconds must be 0 (never) to ten years")
		}
		ttl = time.Duration(*in.TTL) * time.Second
	}
	link, err := n.CreateInvite(r.Context(), c.ID, ttl, in.MaxUses)
	if err != nil {
		return 0, nil, err
	}
	inv, err := crdt.ParseInvite(link)
	if err != nil {
		return 0, nil, err
	}
	c, err = n.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	out := NewInviteJSON{InviteJSON: inviteJSON(c.Invites[inv.Invite])}
	out.Link = link
	out.Code = n.relayInviteCode(r.Context(), link, ttl, in.MaxUses)
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

func (n *Node) revokeInvite(r *http.Request) (int, any, error) {
	c, err := n.community(r)
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
	return http.StatusNoContent, nil, n.RevokeInvite(r.Context(), c.ID, inv)
}

// --- channels ---

func (n *Node) listChannels(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.communityJSON(c).Channels, nil
}

func (n *Node) createChannel(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Name  string `json:"name"`
		Topic string `json:"topic"`
		Type  string `json:"type"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	typ := crdt.ChannelText
	switch in.Type {
	case "", "text":
	case "voice":
		typ = crdt.ChannelVoice
	default:
		return 0, nil, invalid("type must be text or voice")
	}
	if err := checkName(in.Name); err != nil {
		return 0, nil, err
	}
	if utf8.RuneCountInString(in.Topic) > crdt.MaxTopicLen || !utf8.ValidString(in.Topic) {
		return 0, nil, invalid("topic longer than %d characters", crdt.MaxTopicLen)
	}
	id, err := n.CreateChannel(r.Context(), c.ID, in.Name, typ)
	if err != nil {
		return 0, nil, err
	}
	if in.Topic != "" {
		if err := n.UpdateChannel(r.Context(), c.ID, id, ChannelUpdate{Topic: &in.Topic}); err != nil {
			return 0, nil, err
		}
	}
	c, err = n.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, n.channelJSON(c.ID, c.Channels[id]), nil
}

// channelRoute resolves the {id} of a channel route to its community.
func (n *Node) channelRoute(r *http.Request) (*crdt.Community, crdt.ID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, id, err
	}
	c := n.comms.ofLog(id)
	if c == nil || c.id == id {
		return nil, id, ErrUnknownChannel
	}
	state := n.comms.state(c)
	if ch := state.Channels[id]; ch == nil || ch.Deleted {
		return nil, id, ErrUnknownChannel
	}
	return state, id, nil
}

func (n *Node) patchChannel(r *http.Request) (int, any, error) {
	c, id, err := n.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Name     *string `json:"name"`
		Topic    *string `json:"topic"`
		Position *int64  `json:"position"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return 0, nil, err
		}
	}
	if in.Topic != nil && (utf8.RuneCountInString(*in.Topic) > crdt.MaxTopicLen || !utf8.ValidString(*in.Topic)) {
		return 0, nil, invalid("topic longer than %d characters", crdt.MaxTopicLen)
	}
	if err := n.UpdateChannel(r.Context(), c.ID, id, ChannelUpdate{Name: in.Name, Topic: in.Topic, Position: in.Position}); err != nil {
		return 0, nil, err
	}
	c, err = n.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.channelJSON(c.ID, c.Channels[id]), nil
}

func (n *Node) deleteChannel(r *http.Request) (int, any, error) {
	c, id, err := n.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, n.DeleteChannel(r.Context(), c.ID, id)
}

// --- messages ---

func (n *Node) listMessages(r *http.Request) (int, any, error) {
	_, id, err := n.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	page, err := parsePage(r.URL.Query())
	if err != nil {
		return 0, nil, err
	}
	msgs, err := n.Messages(id, page)
	if err != nil {
		return 0, nil, err
	}
	out := make([]MessageJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, n.messageJSON(m))
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
		k, err := ParseKeyText(m)
		var u crdt.UserID
		if err != nil || len(k) != len(u) {
			return b, invalid("mention %q is not a user", m)
		}
		copy(u[:], k)
		b.Mentions = append(b.Mentions, u)
	}
	return b, nil
}

func (n *Node) postMessage(r *http.Request) (int, any, error) {
	_, id, err := n.channelRoute(r)
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
	op, err := n.Send(r.Context(), id, body)
	if err != nil {
		return 0, nil, err
	}
	m, err := n.store.Message(id, op.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, n.messageJSON(m), nil
}

// messageRoute resolves the {id} of a message route.
func (n *Node) messageRoute(r *http.Request) (*crdt.Message, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	raw, err := n.store.Op(id)
	if err != nil {
		return nil, err
	}
	op, err := crdt.DecodeStored(raw)
	if err != nil || op.Kind != crdt.KindPost {
		return nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no message %s", id)
	}
	m, err := n.store.Message(op.Channel, id)
	if err != nil {
		return nil, err
	}
	if m.Deleted {
		return nil, httpjson.Errorf(http.StatusNotFound, "not_found", "message %s was deleted", id)
	}
	return m, nil
}

func (n *Node) patchMessage(r *http.Request) (int, any, error) {
	m, err := n.messageRoute(r)
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
	if m.Author != n.identity.User.ID() {
		return 0, nil, httpjson.Errorf(http.StatusForbidden, "forbidden", "only the author edits a message")
	}
	if _, err := n.Edit(r.Context(), m.Channel, m.ID, body); err != nil {
		return 0, nil, err
	}
	m, err = n.store.Message(m.Channel, m.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.messageJSON(m), nil
}

func (n *Node) deleteMessage(r *http.Request) (int, any, error) {
	m, err := n.messageRoute(r)
	if err != nil {
		return 0, nil, err
	}
	if m.Author != n.identity.User.ID() {
		// Refuse here what every replica would ignore.
		c := n.comms.ofLog(m.Channel)
		if c == nil {
			return 0, nil, ErrUnknownChannel
		}
		if member, perms, _ := n.comms.state(c).Standing(n.identity.User.ID()); !member || !perms.Has(crdt.PermManageMessages) {
			return 0, nil, httpjson.Errorf(http.StatusForbidden, "forbidden", "deleting others' messages needs manage-messages")
		}
	}
	_, err = n.Delete(r.Context(), m.Channel, m.ID)
	return http.StatusNoContent, nil, err
}

func (n *Node) react(r *http.Request, on bool) (int, any, error) {
	m, err := n.messageRoute(r)
	if err != nil {
		return 0, nil, err
	}
	emoji := r.PathValue("emoji")
	if emoji == "" || len(emoji) > crdt.MaxEmojiBytes || !utf8.ValidString(emoji) {
		return 0, nil, invalid("emoji must be 1–%d bytes of UTF-8", crdt.MaxEmojiBytes)
	}
	_, err = n.React(r.Context(), m.Channel, m.ID, emoji, on)
	return http.StatusNoContent, nil, err
}

func (n *Node) putReaction(r *http.Request) (int, any, error)    { return n.react(r, true) }
func (n *Node) deleteReaction(r *http.Request) (int, any, error) { return n.react(r, false) }

func (n *Node) postTyping(r *http.Request) (int, any, error) {
	_, id, err := n.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, n.Typing(r.Context(), id)
}

// --- network ---

func (n *Node) getNetwork(*http.Request) (int, any, error) {
	out := NetworkJSON{PeerID: n.host.ID().String(), Addrs: append([]string{}, n.Addrs()...), Peers: []PeerJSON{}, Sync: n.syncSessions(),
		Relay: n.networkRelay()}
	for _, p := range n.Peers() {
		pj := PeerJSON{ID: p.String(), Addrs: []string{}}
		for _, c := range n.host.Network().ConnsToPeer(p) {
			pj.Addrs = append(pj.Addrs, c.RemoteMultiaddr().String())
		}
		out.Peers = append(out.Peers, pj)
	}
	slices.SortFunc(out.Peers, func(a, b PeerJSON) int { return strings.Compare(a.ID, b.ID) })
	return http.StatusOK, out, nil
}

// --- relay ---

func (n *Node) getRelay(*http.Request) (int, any, error) { return http.StatusOK, n.RelayStatus(), nil }

func (n *Node) putRelay(r *http.Request) (int, any, error) {
	var in struct {
		URL string `json:"url"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if _, err := relayclient.ParseURL(in.URL); err != nil {
		return 0, nil, err
	}
	if err := n.SetRelay(r.Context(), in.URL); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.RelayStatus(), nil
}

func (n *Node) deleteRelay(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, n.ForgetRelay(r.Context())
}

// relayCredentials is the body of register and login: the user's email
// and password, which never leave the node (relayclient.Keys).
type relayCredentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (n *Node) credentials(r *http.Request) (relayCredentials, error) {
	var in relayCredentials
	if err := httpjson.Decode(r, &in); err != nil {
		return in, err
	}
	return in, checkEmail(in.Email)
}

func (n *Node) registerRelay(r *http.Request) (int, any, error) {
	in, err := n.credentials(r)
	if err != nil {
		return 0, nil, err
	}
	if err := relayclient.CheckPassword(in.Password); err != nil {
		return 0, nil, err
	}
	if err := n.RegisterRelay(r.Context(), in.Email, in.Password); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.RelayStatus(), nil
}

func (n *Node) loginRelay(r *http.Request) (int, any, error) {
	in, err := n.credentials(r)
	if err != nil {
		return 0, nil, err
	}
	if err := n.LoginRelay(r.Context(), in.Email, in.Password); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, n.RelayStatus(), nil
}

func (n *Node) logoutRelay(r *http.Request) (int, any, error) {
	var in struct {
		Wipe bool `json:"wipe"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, n.LogoutRelay(r.Context(), in.Wipe)
}

func (n *Node) carryCommunity(r *http.Request) (int, any, error) {
	c, err := n.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, n.CarryCommunity(r.Context(), c.ID)
}

// publishProfile gives community id this user's profile, if the
// community does not show it yet (a profile set before joining).
func (n *Node) publishProfile(id crdt.ID) {
	p := n.Profile()
	c, err := n.Community(id)
	if err != nil {
		return
	}
	m := c.Members[n.identity.User.ID()]
	if m == nil || m.State != crdt.Joined {
		return
	}
	var shown Profile
	if m.Profile != nil {
		if info, err := n.OpenInfo(m.Profile); err == nil {
			shown = Profile{Name: info.Name, StatusText: info.StatusText}
		}
	}
	if shown == p {
		return
	}
	if err := n.SetProfile(context.Background(), id, p); err != nil {
		n.log.Warn("profile", "community", id, "err", err)
	}
}

// Profile is the local user's profile.
func (n *Node) Profile() Profile {
	name, _ := n.store.Setting(settingProfile)
	text, _ := n.store.Setting(settingStatusText)
	return Profile{Name: string(name), StatusText: string(text)}
}

// SetLocalProfile sets the local user's profile and publishes it in every
// community the user belongs to.
func (n *Node) SetLocalProfile(ctx context.Context, p Profile) error {
	if err := n.store.PutSetting(settingProfile, []byte(p.Name)); err != nil {
		return err
	}
	if err := n.store.PutSetting(settingStatusText, []byte(p.StatusText)); err != nil {
		return err
	}
	var errs []error
	for _, id := range n.Communities() {
		if c, err := n.Community(id); err == nil && c.Members[n.identity.User.ID()] != nil &&
			c.Members[n.identity.User.ID()].State == crdt.Joined {
			errs = append(errs, n.SetProfile(ctx, id, p))
		}
	}
	return errors.Join(errs...)
}
