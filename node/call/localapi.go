package call

import (
	"errors"
	"net/http"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
)

// Routes are the feature's routes of the local API.
func (f *Feature) Routes() []node.Route {
	return []node.Route{
		{Pattern: "GET /api/v1/calls", Handle: f.getCalls},
		{Pattern: "POST /api/v1/calls", Handle: f.postCall},
		{Pattern: "POST /api/v1/calls/{id}/accept", Handle: f.postAccept},
		{Pattern: "POST /api/v1/calls/{id}/reject", Handle: f.postReject},
		{Pattern: "POST /api/v1/calls/{id}/end", Handle: f.postEnd},
	}
}

// InfoJSON is a call in the local API and in call:state events.
type InfoJSON struct {
	ID        string     `json:"id"`
	Community string     `json:"community"`
	User      string     `json:"user"` // the other side's user
	Direction string     `json:"direction"`
	State     State      `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	Started   time.Time  `json:"started"`
	Ended     *time.Time `json:"ended,omitempty"`
}

func infoJSON(in Info) InfoJSON {
	out := InfoJSON{ID: in.ID.String(), Community: in.Community.String(), User: in.Peer.String(),
		Direction: "incoming", State: in.State, Reason: in.Reason, Started: in.Started.UTC()}
	if in.Outgoing {
		out.Direction = "outgoing"
	}
	if !in.Ended.IsZero() {
		ended := in.Ended.UTC()
		out.Ended = &ended
	}
	return out
}

func (f *Feature) getCalls(*http.Request) (int, any, error) {
	out := []InfoJSON{}
	for _, in := range f.Calls() {
		out = append(out, infoJSON(in))
	}
	return http.StatusOK, out, nil
}

func (f *Feature) postCall(r *http.Request) (int, any, error) {
	var in struct {
		Community string `json:"community"`
		User      string `json:"user"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	community, err := crdt.ParseID(in.Community)
	if err != nil {
		return 0, nil, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid", "community: %v", err)
	}
	key, err := crdt.ParseKeyText(in.User)
	var user crdt.UserID
	if err != nil || len(key) != len(user) {
		return 0, nil, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid", "user: not a user key")
	}
	copy(user[:], key)
	info, err := f.Start(r.Context(), community, user)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, infoJSON(info), nil
}

func (f *Feature) postAccept(r *http.Request) (int, any, error) {
	return f.act(r, func(id ID) (Info, error) { return f.Accept(r.Context(), id) })
}

func (f *Feature) postReject(r *http.Request) (int, any, error) { return f.act(r, f.Reject) }

func (f *Feature) postEnd(r *http.Request) (int, any, error) { return f.act(r, f.End) }

func (f *Feature) act(r *http.Request, do func(ID) (Info, error)) (int, any, error) {
	id, err := ParseID(r.PathValue("id"))
	if err != nil {
		return 0, nil, ErrUnknownCall
	}
	info, err := do(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, infoJSON(info), nil
}

// APIError maps the feature's errors to statuses and codes.
func (f *Feature) APIError(err error) (*httpjson.StatusError, bool) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{ErrUnavailable, http.StatusServiceUnavailable, "calls_unavailable"},
		{ErrUnknownCall, http.StatusNotFound, "call_unknown"},
		{ErrCallState, http.StatusConflict, "call_state"},
		{ErrInCall, http.StatusConflict, "in_call"},
		{ErrNotMember, http.StatusForbidden, "not_member"},
		{ErrSelf, http.StatusUnprocessableEntity, "invalid"},
		{ErrUnreachable, http.StatusBadGateway, "user_unreachable"},
	} {
		if errors.Is(err, c.err) {
			return httpjson.Errorf(c.status, c.code, "%v", err), true
		}
	}
	return nil, false
}
