// Package invitecode is the relay's short invite codes: ten characters of
// Crockford base32 that stand for an ancore://invite/ link, easy to read
// out or type, with an expiry, a maximum use count counted exactly, and
// revocation by their creator. Its HTTP routes live under /invites
// (docs/api/relay.yaml); creating, listing and revoking need an account's
// session, resolving a code needs nothing but is rate-limited per client
// IP so that codes cannot be guessed.
//
// Log levels: Info for codes created and revoked; Error for store
// failures, which answer 500.
package invitecode

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/relay/account"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relayapi"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits of what a code may promise.
const (
	MaxUses      = 1_000_000
	MaxExpiresIn = 10 * 365 * 24 * 60 * 60 // seconds: ten years
)

// Service serves invite codes.
type Service struct {
	store    *store.Store
	accounts *account.Service
	log      *slog.Logger
	resolves *prometheus.CounterVec
}

// New makes the service. Accounts authenticate its protected routes and
// provide its clock, client IPs and resolve rate limit; its counters
// register with reg (nil: not registered).
func New(st *store.Store, accounts *account.Service, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{store: st, accounts: accounts, log: log.With("subsystem", "invitecode"),
		resolves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ancore_relay_invite_resolves_total",
			Help: "Invite code lookups by outcome: ok, not_found, expired, revoked, exhausted.",
		}, []string{"outcome"}),
	}
	if reg != nil {
		if err := reg.Register(s.resolves); err != nil {
			return nil, fmt.Errorf("invite code metrics: %w", err)
		}
	}
	return s, nil
}

// Routes registers the /invites routes.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.Handle("POST /invites", s.accounts.Require(s.handleCreate))
	mux.Handle("GET /invites", s.accounts.Require(s.handleList))
	mux.HandleFunc("GET /invites/{code}", s.handleResolve)
	mux.Handle("DELETE /invites/{code}", s.accounts.Require(s.handleRevoke))
}

func codeJSON(c store.InviteCode) relayapi.Invite {
	j := relayapi.Invite{Code: c.Code, Link: c.Link, MaxUses: c.MaxUses, Uses: c.Uses, CreatedAt: c.CreatedAt.UTC()}
	if id, err := crdt.IDFromBytes(c.Community); err == nil {
		j.Community = id.String()
	}
	if !c.Expires.IsZero() {
		t := c.Expires.UTC()
		j.ExpiresAt = &t
	}
	return j
}

// Codes are Crockford base32: no I, L, O or U, so what people misread
// or mistype maps back (normalize).
const (
	alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeLen  = 10 // 50 bits
)

// newCode draws a code from crypto/rand.
func newCode() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	n := binary.BigEndian.Uint64(b[:])
	code := make([]byte, codeLen)
	for i := range code {
		code[i] = alphabet[n&31]
		n >>= 5
	}
	return string(code), nil
}

// normalize reads a code as people may type it: any case, O for 0, I or
// L for 1, with dashes or spaces. It reports false for what cannot be a
// code.
func normalize(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case '-', ' ':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if !strings.ContainsRune(alphabet, r) || b.Len() == codeLen {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), b.Len() == codeLen
}

// fail answers err: a StatusError as itself, anything else as a logged
// 500.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *httpjson.StatusError
	switch {
	case errors.As(err, &se):
		httpjson.Error(w, se.Status, se.Code, se.Message)
	case r.Context().Err() != nil:
		// The client left; nobody reads the answer.
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		httpjson.Error(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request, a store.Account) {
	var req relayapi.InviteRequest
	r.Body = http.MaxBytesReader(w, r.Body, account.MaxBodyBytes)
	if err := httpjson.Decode(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.accounts.Now()
	inv, err := crdt.ParseInvite(req.Link)
	if err != nil {
		s.fail(w, r, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_invite", "link: not an invite link"))
		return
	}
	var expires time.Time
	if inv.Expires != 0 {
		if expires = time.UnixMilli(inv.Expires); !expires.After(now) {
			s.fail(w, r, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_invite", "link: the invite has expired"))
			return
		}
	}
	if req.MaxUses < 0 || req.MaxUses > MaxUses {
		s.fail(w, r, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_request", "max_uses: 0 (unlimited) to %d", MaxUses))
		return
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > MaxExpiresIn {
		s.fail(w, r, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_request", "expires_in: 0 (the link's expiry) to %d seconds", MaxExpiresIn))
		return
	}
	if req.ExpiresIn > 0 {
		if own := now.Add(time.Duration(req.ExpiresIn) * time.Second); expires.IsZero() || own.Before(expires) {
			expires = own
		}
	}
	c := store.InviteCode{Community: inv.Community[:], Link: inv.Link(), AccountID: a.ID, Expires: expires, MaxUses: req.MaxUses}
	// 2^50 codes make a collision rare; a few draws make it vanish.
	for range 5 {
		if c.Code, err = newCode(); err != nil {
			break
		}
		var got store.InviteCode
		if got, err = s.store.CreateInviteCode(r.Context(), c); err == nil {
			c = got
			break
		}
		if !errors.Is(err, store.ErrExists) {
			break
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("invite code created", "account", a.ID, "community", inv.Community)
	httpjson.JSON(w, http.StatusCreated, codeJSON(c))
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request, a store.Account) {
	codes, err := s.store.ListInviteCodes(r.Context(), a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := relayapi.Invites{Invites: make([]relayapi.Invite, len(codes))}
	for i, c := range codes {
		out.Invites[i] = codeJSON(c)
	}
	httpjson.JSON(w, http.StatusOK, out)
}

var errNoCode = httpjson.Errorf(http.StatusNotFound, "not_found", "no such invite code")

func (s *Service) handleResolve(w http.ResponseWriter, r *http.Request) {
	if !s.accounts.InviteResolveLimit().Admit(w, s.accounts.ClientIP(r)) {
		return
	}
	code, ok := normalize(r.PathValue("code"))
	if !ok {
		s.resolves.WithLabelValues("not_found").Inc()
		s.fail(w, r, errNoCode)
		return
	}
	c, err := s.store.ResolveInviteCode(r.Context(), code, s.accounts.Now())
	var outcome string
	switch {
	case err == nil:
		outcome = "ok"
	case errors.Is(err, store.ErrNotFound):
		outcome, err = "not_found", errNoCode
	case errors.Is(err, store.ErrExpired):
		outcome, err = "expired", httpjson.Errorf(http.StatusGone, "expired", "the invite code has expired")
	case errors.Is(err, store.ErrRevoked):
		outcome, err = "revoked", httpjson.Errorf(http.StatusGone, "revoked", "the invite code was revoked")
	case errors.Is(err, store.ErrExhausted):
		outcome, err = "exhausted", httpjson.Errorf(http.StatusGone, "exhausted", "the invite code has been used up")
	default:
		s.fail(w, r, err)
		return
	}
	s.resolves.WithLabelValues(outcome).Inc()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusOK, codeJSON(c))
}

func (s *Service) handleRevoke(w http.ResponseWriter, r *http.Request, a store.Account) {
	code, ok := normalize(r.PathValue("code"))
	if !ok {
		s.fail(w, r, errNoCode)
		return
	}
	err := s.store.RevokeInviteCode(r.Context(), code, a.ID, s.accounts.Now())
	if errors.Is(err, store.ErrNotFound) {
		err = errNoCode
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("invite code revoked", "account", a.ID)
	w.WriteHeader(http.StatusNoContent)
}
