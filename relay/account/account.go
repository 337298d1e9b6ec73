// Package account is the relay's accounts: registration and login with
// email and password (argon2id hashes), bearer-token sessions, the sealed
// identity backup a new device restores at login, and the in-memory rate
// limits that keep password guessing and sign-up floods in check. Its
// HTTP routes live under /auth/ (docs/api/relay.yaml); Authenticate and
// Require guard the relay's other bearer-protected routes.
//
// Log levels: Info for accounts created; Debug for refused logins (they
// are routine, and counted in ancore_relay_logins_total); Error for store
// failures, which answer 500.
package account

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relayapi"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultSessionLifetime is how long a login lasts unless configured.
const DefaultSessionLifetime = 30 * 24 * time.Hour

// Defaults of Config's zero rate limits.
var (
	// DefaultRegister: ten sign-ups at once from one address, then one
	// every six minutes.
	DefaultRegister = Rate{Burst: 10, Every: 6 * time.Minute}
	// DefaultLoginIP: thirty attempts at once from one address, then one
	// every two seconds.
	DefaultLoginIP = Rate{Burst: 30, Every: 2 * time.Second}
	// DefaultLoginEmail: ten failed logins for one email, then one every
	// five minutes (about 300 guesses a day, from any number of addresses).
	DefaultLoginEmail = Rate{Burst: 10, Every: 5 * time.Minute}
	// DefaultInviteResolve: thirty invite codes at once from one address,
	// then one every two seconds; guessing one of 2^50 codes stays hopeless.
	DefaultInviteResolve = Rate{Burst: 30, Every: 2 * time.Second}
)

// Size limits of requests.
const (
	MaxBodyBytes     = 64 << 10
	MaxIdentityBytes = 4 << 10 // the sealed identity box, decoded
	MaxEmailBytes    = 254     // RFC 5321's limit on a forward path
	MinPasswordBytes = 8
	MaxPasswordBytes = 1024
	maxTokenBytes    = 128 // a token is 43; anything longer is no token
)

// Config configures the Service. Its zero value is the defaults.
type Config struct {
	// SessionLifetime is how long a login lasts; 0 means
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// Register limits registrations per client IP; the zero Rate means
	// DefaultRegister.
	Register Rate
	// LoginIP limits login attempts per client IP; zero means
	// DefaultLoginIP.
	LoginIP Rate
	// LoginEmail limits login attempts per email: failures use it up, a
	// success refills it. Zero means DefaultLoginEmail.
	LoginEmail Rate
	// InviteResolve limits invite code lookups per client IP (applied by
	// relay/invitecode); zero means DefaultInviteResolve.
	InviteResolve Rate
	// MaxTrackedKeys bounds the keys each limiter tracks; 0 means
	// DefaultMaxTrackedKeys.
	MaxTrackedKeys int
	// TrustProxy takes the client IP from the first X-Forwarded-For entry;
	// set it only behind a reverse proxy that sets that header.
	TrustProxy bool
	// Now is the clock of sessions, invite codes and rate limits; nil
	// means time.Now.
	Now func() time.Time
}

// Service serves accounts and sessions.
type Service struct {
	store  *store.Store
	log    *slog.Logger
	cfg    Config
	hasher *hasher

	register, loginIP, loginEmail, inviteResolve *Limiter

	registrations prometheus.Counter
	logins        *prometheus.CounterVec
}

// New makes the service; its counters register with reg (nil: not
// registered).
func New(st *store.Store, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{store: st, log: log.With("subsystem", "account"), cfg: cfg, hasher: newHasher(defaultParams),
		registrations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ancore_relay_registrations_total",
			Help: "Accounts registered.",
		}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ancore_relay_logins_total",
			Help: "Logins by result: ok, or failed (a wrong email or password).",
		}, []string{"result"}),
	}
	var err error
	if s.register, err = NewLimiter("register", cfg.Register.orDefault(DefaultRegister), cfg.MaxTrackedKeys, cfg.Now, reg); err != nil {
		return nil, err
	}
	if s.loginIP, err = NewLimiter("login_ip", cfg.LoginIP.orDefault(DefaultLoginIP), cfg.MaxTrackedKeys, cfg.Now, reg); err != nil {
		return nil, err
	}
	if s.loginEmail, err = NewLimiter("login_email", cfg.LoginEmail.orDefault(DefaultLoginEmail), cfg.MaxTrackedKeys, cfg.Now, reg); err != nil {
		return nil, err
	}
	if s.inviteResolve, err = NewLimiter("invite_resolve", cfg.InviteResolve.orDefault(DefaultInviteResolve), cfg.MaxTrackedKeys, cfg.Now, reg); err != nil {
		return nil, err
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{s.registrations, s.logins} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("account metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Now is the service's clock (Config.Now).
func (s *Service) Now() time.Time { return s.cfg.Now() }

// InviteResolveLimit is the per-IP limit on resolving invite codes
// (Config.InviteResolve), which relay/invitecode applies.
func (s *Service) InviteResolveLimit() *Limiter { return s.inviteResolve }

// Routes registers the /auth/ routes.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/register", s.handleRegister)
	mux.HandleFunc("POST /auth/login", s.handleLogin)
	mux.HandleFunc("POST /auth/logout", s.handleLogout)
	mux.Handle("GET /auth/me", s.Require(s.handleMe))
	mux.Handle("PUT /auth/identity", s.Require(s.handlePutIdentity))
}

func accountJSON(a store.Account) relayapi.Account {
	j := relayapi.Account{Email: a.Email, CreatedAt: a.CreatedAt.UTC()}
	if a.UserKey != nil {
		j.User = crdt.KeyText(a.UserKey)
		j.Identity = base64.StdEncoding.EncodeToString(a.IdentityBox)
	}
	return j
}

// normalizeEmail is the one spelling of an email the store keeps.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// validEmail checks a normalized email: a bare address (no display name)
// with one @, within MaxEmailBytes.
func validEmail(email string) bool {
	if len(email) > MaxEmailBytes || strings.Count(email, "@") != 1 {
		return false
	}
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email && a.Name == ""
}

// checkPassword refuses passwords too easy to guess for a normalized email.
func checkPassword(password, email string) error {
	switch {
	case len(password) < MinPasswordBytes:
		return httpjson.Errorf(http.StatusUnprocessableEntity, "weak_password", "the password must be at least %d bytes", MinPasswordBytes)
	case len(password) > MaxPasswordBytes:
		return httpjson.Errorf(http.StatusUnprocessableEntity, "weak_password", "the password must be at most %d bytes", MaxPasswordBytes)
	case oneCharacter(password):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "weak_password", "the password repeats one character")
	case strings.EqualFold(strings.TrimSpace(password), email):
		return httpjson.Errorf(http.StatusUnprocessableEntity, "weak_password", "the password is the email")
	}
	return nil
}

func oneCharacter(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(first)) == ""
}

// parseIdentity reads an identity backup: a user key (crdt.KeyText of an
// Ed25519 public key) and a sealed box (standard base64, at most
// MaxIdentityBytes).
func parseIdentity(user, identity string) (key, box []byte, err error) {
	key, err = crdt.ParseKeyText(user)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, nil, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_identity", "user: not a user key")
	}
	box, err = base64.StdEncoding.DecodeString(identity)
	if err != nil || len(box) == 0 || len(box) > MaxIdentityBytes {
		return nil, nil, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_identity",
			"identity: standard base64 of 1 to %d bytes", MaxIdentityBytes)
	}
	return key, box, nil
}

// decode reads a request body of at most MaxBodyBytes into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	return httpjson.Decode(r, v)
}

// fail answers err: a StatusError as itself (a 401 with its
// WWW-Authenticate challenge), ErrUnauthorized as 401 unauthorized,
// anything else as a logged 500.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *httpjson.StatusError
	switch {
	case errors.As(err, &se):
		if se.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		httpjson.Error(w, se.Status, se.Code, se.Message)
	case errors.Is(err, ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", "Bearer")
		httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "a valid session token is required")
	case r != nil && r.Context().Err() != nil:
		// The client left; nobody reads the answer.
	default:
		args := []any{"err", err}
		if r != nil {
			args = append(args, "method", r.Method, "path", r.URL.Path)
		}
		s.log.Error("request failed", args...)
		httpjson.Error(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// Unauthorized answers an error of Authenticate: 401 unauthorized with
// WWW-Authenticate: Bearer for ErrUnauthorized, a logged 500 for a store
// failure.
func (s *Service) Unauthorized(w http.ResponseWriter, err error) { s.fail(w, nil, err) }

func (s *Service) handleRegister(w http.ResponseWriter, r *http.Request) {
	if !s.register.Admit(w, s.ClientIP(r)) {
		return
	}
	var req relayapi.Registration
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	email := normalizeEmail(req.Email)
	if !validEmail(email) {
		s.fail(w, r, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_email", "not an email address"))
		return
	}
	if err := checkPassword(req.Password, email); err != nil {
		s.fail(w, r, err)
		return
	}
	var key, box []byte
	if req.User != "" || req.Identity != "" {
		var err error
		if key, box, err = parseIdentity(req.User, req.Identity); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	hash, err := s.hasher.hash(r.Context(), req.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.store.CreateAccount(r.Context(), email, hash, key, box)
	if errors.Is(err, store.ErrExists) {
		s.fail(w, r, httpjson.Errorf(http.StatusConflict, "email_taken", "an account with that email exists"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.registrations.Inc()
	s.log.Info("account registered", "account", a.ID)
	sess, err := s.newSession(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusCreated, sess)
}

var errBadCredentials = httpjson.Errorf(http.StatusUnauthorized, "bad_credentials", "wrong email or password")

func (s *Service) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.loginIP.Admit(w, s.ClientIP(r)) {
		return
	}
	var req relayapi.Login
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	email := normalizeEmail(req.Email)
	if !validEmail(email) {
		// No account has such an email, and the limiter keys on valid
		// ones only, which are short.
		s.logins.WithLabelValues("failed").Inc()
		s.fail(w, r, errBadCredentials)
		return
	}
	// Every attempt takes a token from the email's bucket and a success
	// refills it, so failures alone use it up.
	if !s.loginEmail.Admit(w, email) {
		return
	}
	a, err := s.store.AccountByEmail(r.Context(), email)
	hash := a.PasswordHash
	if errors.Is(err, store.ErrNotFound) {
		hash = s.hasher.dummy // the same work, so timing does not tell
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	ok, err := s.hasher.verify(r.Context(), req.Password, hash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok || a.ID == 0 {
		s.logins.WithLabelValues("failed").Inc()
		s.log.Debug("login refused", "ip", s.ClientIP(r))
		s.fail(w, r, errBadCredentials)
		return
	}
	s.loginEmail.Reset(email)
	s.logins.WithLabelValues("ok").Inc()
	sess, err := s.newSession(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusOK, sess)
}

// newSession starts a session for a and returns its token.
func (s *Service) newSession(ctx context.Context, a store.Account) (relayapi.Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return relayapi.Session{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	expires := s.cfg.Now().Add(s.cfg.SessionLifetime).UTC().Truncate(time.Second)
	if err := s.store.CreateSession(ctx, tokenHash(token), a.ID, expires); err != nil {
		return relayapi.Session{}, err
	}
	return relayapi.Session{Token: token, ExpiresAt: expires, Account: accountJSON(a)}, nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ErrUnauthorized: the request has no session token, or one that is
// unknown, expired or revoked.
var ErrUnauthorized = errors.New("no valid session token")

// bearerToken is the request's Authorization: Bearer token, if any.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxTokenBytes {
		return "", false
	}
	return token, true
}

// Authenticate returns the account whose live session token the request
// carries as Authorization: Bearer. An error wrapping ErrUnauthorized
// means there is none (answer 401 with WWW-Authenticate: Bearer, as
// Require does); any other error is the store's.
func (s *Service) Authenticate(r *http.Request) (store.Account, error) {
	token, ok := bearerToken(r)
	if !ok {
		return store.Account{}, ErrUnauthorized
	}
	a, err := s.store.SessionAccount(r.Context(), tokenHash(token), s.cfg.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, ErrUnauthorized
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("authenticate: %w", err)
	}
	return a, nil
}

// Require wraps a handler of bearer-protected routes: it runs h with the
// request's account, or answers 401 unauthorized.
func (s *Service) Require(h func(http.ResponseWriter, *http.Request, store.Account)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Authenticate(r)
		if err != nil {
			s.Unauthorized(w, err)
			return
		}
		h(w, r, a)
	})
}

func (s *Service) handleLogout(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Authenticate(r); err != nil {
		s.Unauthorized(w, err)
		return
	}
	token, _ := bearerToken(r)
	if err := s.store.RevokeSession(r.Context(), tokenHash(token), s.cfg.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) handleMe(w http.ResponseWriter, r *http.Request, a store.Account) {
	httpjson.JSON(w, http.StatusOK, accountJSON(a))
}

func (s *Service) handlePutIdentity(w http.ResponseWriter, r *http.Request, a store.Account) {
	var req relayapi.IdentityBackup
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	key, box, err := parseIdentity(req.User, req.Identity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.SetIdentity(r.Context(), a.ID, key, box); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
