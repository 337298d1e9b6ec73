package api

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/joinproto"
	"github.com/ancore/ancore/node/picture"
	"github.com/ancore/ancore/node/store"
)

// apiHandler answers a request with a status and a JSON body, or an error
// that apiError maps to a status.
type apiHandler func(r *http.Request) (int, any, error)

// Handler returns the API's HTTP handler, guarded by the token, and the
// UI (Config.UI) at every path outside /api/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, route := range s.routes() {
		mux.HandleFunc(route.Pattern, s.serve(route))
	}
	mux.HandleFunc("GET /api/v1/events", s.hub.ServeWS)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such route")
	})
	root := http.NewServeMux()
	root.Handle("/api/", Guard(s.info.Token, mux))
	if s.ui != nil {
		root.Handle("/", Secure(s.ui))
	}
	return root
}

// Routes lists the route patterns of an API with these features; the
// OpenAPI test checks it against the document.
func Routes(features ...Feature) []string {
	var out []string
	for _, route := range (&Server{features: features}).routes() {
		out = append(out, route.Pattern)
	}
	out = append(out, "GET /api/v1/events")
	slices.Sort(out)
	return out
}

// routes are the API's own routes and its features'.
func (s *Server) routes() []node.Route {
	var out []node.Route
	for pattern, h := range s.ownRoutes() {
		out = append(out, node.Route{Pattern: pattern, Handle: h, MaxBody: pictureRoutes[pattern]})
	}
	for _, f := range s.features {
		out = append(out, f.Routes()...)
	}
	return out
}

func (s *Server) ownRoutes() map[string]apiHandler {
	const v = "/api/v1"
	return map[string]apiHandler{
		"GET " + v + "/me":                                     s.getMe,
		"PATCH " + v + "/me":                                   s.patchMe,
		"GET " + v + "/me/avatar":                              s.getMyAvatar,
		"PUT " + v + "/me/avatar":                              s.putMyAvatar,
		"DELETE " + v + "/me/avatar":                           s.deleteMyAvatar,
		"GET " + v + "/communities":                            s.listCommunities,
		"POST " + v + "/communities":                           s.createCommunity,
		"POST " + v + "/communities/join":                      s.joinCommunity,
		"GET " + v + "/communities/{id}":                       s.getCommunity,
		"PATCH " + v + "/communities/{id}":                     s.patchCommunity,
		"DELETE " + v + "/communities/{id}":                    s.deleteCommunity,
		"POST " + v + "/communities/{id}/leave":                s.leaveCommunity,
		"GET " + v + "/communities/{id}/members":               s.listMembers,
		"GET " + v + "/communities/{id}/members/{user}/avatar": s.getMemberAvatar,
		"POST " + v + "/communities/{id}/members/{user}/kick":  s.kickMember,
		"PUT " + v + "/communities/{id}/members/{user}/roles":  s.putMemberRoles,
		"PUT " + v + "/communities/{id}/bans/{user}":           s.banMember,
		"DELETE " + v + "/communities/{id}/bans/{user}":        s.unbanMember,
		"GET " + v + "/communities/{id}/roles":                 s.listRoles,
		"POST " + v + "/communities/{id}/roles":                s.createRole,
		"PATCH " + v + "/communities/{id}/roles/{role}":        s.patchRole,
		"DELETE " + v + "/communities/{id}/roles/{role}":       s.deleteRole,
		"GET " + v + "/communities/{id}/invites":               s.listInvites,
		"POST " + v + "/communities/{id}/invites":              s.createInvite,
		"DELETE " + v + "/communities/{id}/invites/{invite}":   s.revokeInvite,
		"GET " + v + "/communities/{id}/channels":              s.listChannels,
		"POST " + v + "/communities/{id}/channels":             s.createChannel,
		"PATCH " + v + "/channels/{id}":                        s.patchChannel,
		"DELETE " + v + "/channels/{id}":                       s.deleteChannel,
		"GET " + v + "/channels/{id}/messages":                 s.listMessages,
		"POST " + v + "/channels/{id}/messages":                s.postMessage,
		"PATCH " + v + "/messages/{id}":                        s.patchMessage,
		"DELETE " + v + "/messages/{id}":                       s.deleteMessage,
		"PUT " + v + "/messages/{id}/reactions/{emoji}":        s.putReaction,
		"DELETE " + v + "/messages/{id}/reactions/{emoji}":     s.deleteReaction,
		"POST " + v + "/channels/{id}/typing":                  s.postTyping,
		"GET " + v + "/network":                                s.getNetwork,
		"GET " + v + "/limits":                                 s.getLimits,
	}
}

// serve answers a route's requests, each holding the node's identity
// (node.HoldIdentity) but those of a route that may swap it itself.
func (s *Server) serve(route node.Route) http.HandlerFunc {
	limit := cmp.Or(route.MaxBody, MaxBody)
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if !route.SwapsIdentity {
			defer s.node.HoldIdentity()()
		}
		status, body, err := route.Handle(r)
		if err != nil {
			e := s.apiError(err)
			if e.Status == http.StatusInternalServerError {
				s.log.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			httpjson.Error(w, e.Status, e.Code, e.Message)
			return
		}
		if img, ok := body.(imageBody); ok {
			img.write(w, r)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		httpjson.JSON(w, status, body)
	}
}

// apiError maps the node's errors, and its features', to statuses.
func (s *Server) apiError(err error) *httpjson.StatusError {
	var se *httpjson.StatusError
	for _, f := range s.features {
		if e, ok := f.APIError(err); ok {
			return e
		}
	}
	if e := joinError(err); e != nil {
		return e
	}
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, node.ErrUnknownCommunity), errors.Is(err, node.ErrUnknownChannel), errors.Is(err, store.ErrNotFound):
		return httpjson.Errorf(http.StatusNotFound, "not_found", "%v", err)
	case errors.Is(err, node.ErrForbidden), errors.Is(err, crdt.ErrUnauthorized):
		return httpjson.Errorf(http.StatusForbidden, "forbidden", "%v", err)
	case errors.Is(err, store.ErrBadQuery):
		return httpjson.Errorf(http.StatusBadRequest, "bad_query", "%v", err)
	case errors.Is(err, crdt.ErrTooLarge):
		return httpjson.Errorf(http.StatusRequestEntityTooLarge, "too_large", "%v", err)
	case errors.Is(err, crdt.ErrBadBody), errors.Is(err, crdt.ErrMalformed):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "invalid", "%v", err)
	case errors.Is(err, picture.ErrNotImage):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "not_image", "%v", err)
	case errors.Is(err, picture.ErrTooLarge):
		return httpjson.Errorf(http.StatusRequestEntityTooLarge, "image_too_large", "%v", err)
	case errors.Is(err, node.ErrDissolved):
		return httpjson.Errorf(http.StatusGone, "dissolved", "%v", err)
	case errors.Is(err, node.ErrNoInviteCodes):
		return httpjson.Errorf(http.StatusConflict, "no_relay", "%v", err)
	case errors.Is(err, crdt.ErrNoKey), errors.Is(err, node.ErrNotRunning), errors.Is(err, node.ErrNoSignals):
		return httpjson.Errorf(http.StatusConflict, "not_ready", "%v", err)
	}
	return httpjson.Errorf(http.StatusInternalServerError, "internal", "internal error")
}

// joinError maps why joining, a preview or a short code failed to its
// code; nil for other errors. The reasons come from the members asked,
// who may lie: they choose the words the user reads, nothing else.
func joinError(err error) *httpjson.StatusError {
	for _, c := range []struct {
		reason error
		status int
		code   string
	}{
		{crdt.ErrBanned, http.StatusForbidden, "banned"},
		{crdt.ErrInviteExpired, http.StatusGone, "invite_expired"},
		{crdt.ErrInviteRevoked, http.StatusGone, "invite_revoked"},
		{crdt.ErrInviteUsedUp, http.StatusGone, "invite_used_up"},
		{crdt.ErrDissolved, http.StatusGone, "dissolved"},
		{crdt.ErrInviteUnknown, http.StatusNotFound, "invite_unknown"},
		{crdt.ErrBadProof, http.StatusUnprocessableEntity, "invalid_invite"},
		{node.ErrCommunityUnreachable, http.StatusBadGateway, "community_unreachable"},
		{joinproto.ErrUnreachable, http.StatusBadGateway, "community_unreachable"},
	} {
		if errors.Is(err, c.reason) {
			return httpjson.Errorf(c.status, c.code, "%v", err)
		}
	}
	if errors.Is(err, node.ErrJoin) {
		return httpjson.Errorf(http.StatusConflict, "join_refused", "%v", err)
	}
	return nil
}

func badInput(format string, args ...any) error {
	return httpjson.Errorf(http.StatusBadRequest, "bad_input", format, args...)
}

func invalid(format string, args ...any) error {
	return httpjson.Errorf(http.StatusUnprocessableEntity, "invalid", format, args...)
}

func invalidInvite(format string, args ...any) error {
	return httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_invite", format, args...)
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
	b, err := crdt.ParseKeyText(r.PathValue("user"))
	if err != nil || len(b) != len(u) {
		return u, httpjson.Errorf(http.StatusNotFound, "not_found", "no user %q", r.PathValue("user"))
	}
	copy(u[:], b)
	return u, nil
}

// community resolves the {id} of a community route; a dissolved one is
// ErrDissolved.
func (s *Server) community(r *http.Request) (*crdt.Community, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	c, err := s.node.Community(id)
	if err == nil && c.Dissolved {
		return nil, node.ErrDissolved
	}
	return c, err
}

func checkName(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > crdt.MaxNameLen {
		return invalid("name must be 1–%d characters", crdt.MaxNameLen)
	}
	return nil
}
