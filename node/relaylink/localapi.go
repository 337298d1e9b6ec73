package relaylink

// The link's routes of the local API (docs/api/openapi.yaml, "relay"):
// node/api serves them beside its own, and maps the link's errors to
// statuses with APIError.

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/relayclient"
)

// Routes are the link's routes of the local API.
func (l *Link) Routes() []node.Route {
	const v = "/api/v1"
	return []node.Route{
		{Pattern: "GET " + v + "/relay", Handle: l.getRelay},
		{Pattern: "PUT " + v + "/relay", Handle: l.putRelay},
		{Pattern: "DELETE " + v + "/relay", Handle: l.deleteRelay},
		{Pattern: "POST " + v + "/relay/register", Handle: l.registerRelay},
		// A login may restore another user's identity.
		{Pattern: "POST " + v + "/relay/login", Handle: l.loginRelay, SwapsIdentity: true},
		{Pattern: "POST " + v + "/relay/logout", Handle: l.logoutRelay},
		{Pattern: "POST " + v + "/communities/{id}/relay", Handle: l.carryCommunity},
	}
}

func (l *Link) getRelay(*http.Request) (int, any, error) {
	return http.StatusOK, l.Status(), nil
}

func (l *Link) putRelay(r *http.Request) (int, any, error) {
	var in struct {
		URL string `json:"url"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if _, err := relayclient.ParseURL(in.URL); err != nil {
		return 0, nil, err
	}
	if err := l.Set(r.Context(), in.URL); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, l.Status(), nil
}

func (l *Link) deleteRelay(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, l.Forget(r.Context())
}

// relayCredentials is the body of register and login: the user's email
// and password, which never leave the node (relayclient.Keys).
type relayCredentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func credentials(r *http.Request) (relayCredentials, error) {
	var in relayCredentials
	err := httpjson.Decode(r, &in)
	return in, err
}

func (l *Link) registerRelay(r *http.Request) (int, any, error) {
	in, err := credentials(r)
	if err != nil {
		return 0, nil, err
	}
	if err := l.Register(r.Context(), in.Email, in.Password); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, l.Status(), nil
}

func (l *Link) loginRelay(r *http.Request) (int, any, error) {
	in, err := credentials(r)
	if err != nil {
		return 0, nil, err
	}
	if err := l.Login(r.Context(), in.Email, in.Password); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, l.Status(), nil
}

func (l *Link) logoutRelay(r *http.Request) (int, any, error) {
	var in struct {
		Wipe bool `json:"wipe"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, l.Logout(r.Context(), in.Wipe)
}

func (l *Link) carryCommunity(r *http.Request) (int, any, error) {
	id, err := crdt.ParseID(r.PathValue("id"))
	if err != nil {
		return 0, nil, httpjson.Errorf(http.StatusNotFound, "not_found", "no community %q", r.PathValue("id"))
	}
	return http.StatusNoContent, nil, l.Carry(r.Context(), id)
}

// APIError maps the errors of the relay operations to the API's
// statuses and codes; ok is false for other errors.
func (l *Link) APIError(err error) (*httpjson.StatusError, bool) {
	var answer *relayclient.Error
	switch {
	case errors.Is(err, ErrNoRelay):
		return httpjson.Errorf(http.StatusConflict, "no_relay", "%v", err), true
	case errors.Is(err, node.ErrIdentityConflict):
		return httpjson.Errorf(http.StatusConflict, "identity_conflict", "%v", err), true
	case errors.Is(err, ErrBadCredentials):
		return httpjson.Errorf(http.StatusUnauthorized, "bad_credentials", "%v", err), true
	case errors.Is(err, relayclient.ErrBadURL):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "bad_url", "%v", err), true
	case errors.Is(err, ErrInvalidEmail):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_email", "%v", err), true
	case errors.Is(err, relayclient.ErrWeakPassword):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "weak_password", "%v", err), true
	case errors.Is(err, ErrRelayUnreachable):
		return httpjson.Errorf(http.StatusBadGateway, "relay_unreachable", "%v", err), true
	case errors.Is(err, relayclient.ErrBadBackup):
		return httpjson.Errorf(http.StatusBadGateway, "bad_backup", "%v", err), true
	case errors.Is(err, relayclient.ErrBadAnswer):
		return httpjson.Errorf(http.StatusBadGateway, "relay_error", "%v", err), true
	case errors.As(err, &answer):
		return relayAnswerError(answer), true
	}
	return nil, false
}

// relayAnswerError passes on what the relay refused that the user can
// act on; the rest is the relay's fault (502).
func relayAnswerError(e *relayclient.Error) *httpjson.StatusError {
	msg := "relay: " + e.Message
	switch {
	case e.Status == http.StatusConflict && e.Code == "email_taken",
		e.Status == http.StatusUnprocessableEntity && (e.Code == "invalid_email" || e.Code == "weak_password"):
		return httpjson.Errorf(e.Status, e.Code, "%s", msg)
	case e.Status == http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			msg += fmt.Sprintf(" (retry in %v)", e.RetryAfter)
		}
		return httpjson.Errorf(e.Status, "rate_limited", "%s", msg)
	case e.Status == http.StatusForbidden:
		return httpjson.Errorf(e.Status, "forbidden", "%s", msg)
	case e.Status == http.StatusNotFound:
		return httpjson.Errorf(e.Status, "not_found", "%s", msg)
	}
	return httpjson.Errorf(http.StatusBadGateway, "relay_error", "%s", e.Error())
}
