package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/relayclient"
)

func (s *Server) getRelay(*http.Request) (int, any, error) {
	return http.StatusOK, s.node.RelayStatus(), nil
}

func (s *Server) putRelay(r *http.Request) (int, any, error) {
	var in struct {
		URL string `json:"url"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if _, err := relayclient.ParseURL(in.URL); err != nil {
		return 0, nil, err
	}
	if err := s.node.SetRelay(r.Context(), in.URL); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.node.RelayStatus(), nil
}

func (s *Server) deleteRelay(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, s.node.ForgetRelay(r.Context())
}

// relayCredentials is the body of register and login: the user's email
// and password, which never leave the node (relayclient.Keys).
type relayCredentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) credentials(r *http.Request) (relayCredentials, error) {
	var in relayCredentials
	err := httpjson.Decode(r, &in)
	return in, err
}

func (s *Server) registerRelay(r *http.Request) (int, any, error) {
	in, err := s.credentials(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.node.RegisterRelay(r.Context(), in.Email, in.Password); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.node.RelayStatus(), nil
}

func (s *Server) loginRelay(r *http.Request) (int, any, error) {
	in, err := s.credentials(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.node.LoginRelay(r.Context(), in.Email, in.Password); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.node.RelayStatus(), nil
}

func (s *Server) logoutRelay(r *http.Request) (int, any, error) {
	var in struct {
		Wipe bool `json:"wipe"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.node.LogoutRelay(r.Context(), in.Wipe)
}

func (s *Server) carryCommunity(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.node.CarryCommunity(r.Context(), c.ID)
}

// relayAPIError maps the errors of the relay operations to the API's
// statuses; ok is false for other errors.
func relayAPIError(err error) (*httpjson.StatusError, bool) {
	var answer *relayclient.Error
	switch {
	case errors.Is(err, node.ErrNoRelay):
		return httpjson.Errorf(http.StatusConflict, "no_relay", "%v", err), true
	case errors.Is(err, node.ErrIdentityConflict):
		return httpjson.Errorf(http.StatusConflict, "identity_conflict", "%v", err), true
	case errors.Is(err, node.ErrBadCredentials):
		return httpjson.Errorf(http.StatusUnauthorized, "bad_credentials", "%v", err), true
	case errors.Is(err, relayclient.ErrBadURL):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "bad_url", "%v", err), true
	case errors.Is(err, node.ErrInvalidEmail):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_email", "%v", err), true
	case errors.Is(err, relayclient.ErrWeakPassword):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "weak_password", "%v", err), true
	case errors.Is(err, node.ErrRelayUnreachable):
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
	case e.Status == http.StatusGone && (e.Code == "expired" || e.Code == "revoked" || e.Code == "exhausted"):
		return httpjson.Errorf(e.Status, "invite_"+e.Code, "%s", msg)
	}
	return httpjson.Errorf(http.StatusBadGateway, "relay_error", "%s", e.Error())
}
