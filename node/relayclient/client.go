// Package relayclient is a node's client of a home relay: its HTTP API
// (libp2p addresses, accounts and sessions, short invite codes, carried
// communities) and the account secrets that never leave the node in
// clear — the login secret that stands in for the password and the
// sealed backup of the user's identity key, both derived from the
// password (keys.go).
package relayclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ancore/ancore/relayapi"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Errors of the client.
var (
	// ErrBadURL: a relay URL that is not an absolute http(s) URL without
	// credentials, query or fragment.
	ErrBadURL = errors.New("bad relay URL")
	// ErrBadAnswer: the relay answered with something the API does not
	// allow (malformed JSON, an unusable address).
	ErrBadAnswer = errors.New("bad answer from the relay")
)

// maxAnswer caps what is read of an answer; the largest legitimate one is
// an account's records, at most relayapi.MaxRecords of MaxRecordBytes in
// base64 (5.5 MB).
const maxAnswer = 8 << 20

// DefaultTimeout bounds one request when the caller's context does not.
const DefaultTimeout = 15 * time.Second

// Error is an error answer of the relay, {"error": {"code", "message"}}.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration // from Retry-After, on 429
}

func (e *Error) Error() string {
	return fmt.Sprintf("relay answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Client talks to one relay. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client
}

// ParseURL checks a relay's base URL and returns it normalized (no
// trailing slash).
func ParseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%w: %q is not an http or https URL", ErrBadURL, raw)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%w: %q has no host", ErrBadURL, raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("%w: %q carries credentials, a query or a fragment", ErrBadURL, raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// New returns a client of the relay at baseURL (see ParseURL); hc nil
// means a client with DefaultTimeout.
func New(baseURL string, hc *http.Client) (*Client, error) {
	base, err := ParseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: base, http: hc}, nil
}

// URL returns the relay's normalized base URL.
func (c *Client) URL() string { return c.base }

// Info is the relay's libp2p identity and addresses (GET /info), with
// AddrInfo to dial them.
type Info relayapi.Info

// AddrInfo parses the info into a peer and its addresses; addresses of
// another peer are refused, and at least one must be usable.
func (i Info) AddrInfo() (peer.AddrInfo, error) {
	id, err := peer.Decode(i.Peer)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("%w: peer %q: %v", ErrBadAnswer, i.Peer, err)
	}
	pi := peer.AddrInfo{ID: id}
	for _, s := range i.Addrs {
		a, err := peer.AddrInfoFromString(s)
		if err != nil || a.ID != id {
			continue
		}
		pi.Addrs = append(pi.Addrs, a.Addrs...)
	}
	if len(pi.Addrs) == 0 {
		return peer.AddrInfo{}, fmt.Errorf("%w: no address of peer %s among %q", ErrBadAnswer, id, i.Addrs)
	}
	return pi, nil
}

// Info asks the relay who it is on libp2p.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	err := c.do(ctx, http.MethodGet, "/info", "", nil, &out)
	return out, err
}

// Register creates an account and logs it in. Its Password is the login
// secret (Keys), not the user's password.
func (c *Client) Register(ctx context.Context, r relayapi.Registration) (relayapi.Session, error) {
	var out relayapi.Session
	err := c.do(ctx, http.MethodPost, "/auth/register", "", r, &out)
	if err == nil && out.Token == "" {
		err = fmt.Errorf("%w: no token", ErrBadAnswer)
	}
	return out, err
}

// Login opens a session; password is the login secret (Keys).
func (c *Client) Login(ctx context.Context, email, password string) (relayapi.Session, error) {
	var out relayapi.Session
	err := c.do(ctx, http.MethodPost, "/auth/login", "", relayapi.Login{Email: email, Password: password}, &out)
	if err == nil && out.Token == "" {
		err = fmt.Errorf("%w: no token", ErrBadAnswer)
	}
	return out, err
}

// Logout ends the session of token.
func (c *Client) Logout(ctx context.Context, token string) error {
	return c.do(ctx, http.MethodPost, "/auth/logout", token, nil, nil)
}

// Me returns the account of token's session.
func (c *Client) Me(ctx context.Context, token string) (relayapi.Account, error) {
	var out relayapi.Account
	err := c.do(ctx, http.MethodGet, "/auth/me", token, nil, &out)
	return out, err
}

// PutIdentity gives the account of token's session its user key and
// sealed identity backup.
func (c *Client) PutIdentity(ctx context.Context, token, user, identity string) error {
	return c.do(ctx, http.MethodPut, "/auth/identity", token, relayapi.IdentityBackup{User: user, Identity: identity}, nil)
}

// CreateInvite makes a short code for an invite link.
func (c *Client) CreateInvite(ctx context.Context, token string, r relayapi.InviteRequest) (relayapi.Invite, error) {
	var out relayapi.Invite
	err := c.do(ctx, http.MethodPost, "/invites", token, r, &out)
	if err == nil && out.Code == "" {
		err = fmt.Errorf("%w: no code", ErrBadAnswer)
	}
	return out, err
}

// ResolveInvite returns the link a code stands for (which counts a use).
func (c *Client) ResolveInvite(ctx context.Context, code string) (relayapi.Invite, error) {
	var out relayapi.Invite
	err := c.do(ctx, http.MethodGet, "/invites/"+url.PathEscape(code), "", nil, &out)
	return out, err
}

// RevokeInvite revokes a code.
func (c *Client) RevokeInvite(ctx context.Context, token, code string) error {
	return c.do(ctx, http.MethodDelete, "/invites/"+url.PathEscape(code), token, nil, nil)
}

// Carry asks the relay to carry a community and returns its id as the
// relay names it.
func (c *Client) Carry(ctx context.Context, token string, r relayapi.CarryRequest) (string, error) {
	var out relayapi.CarriedCommunity
	err := c.do(ctx, http.MethodPost, "/communities", token, r, &out)
	return out.ID, err
}

// DropCommunity asks the relay to stop carrying community id.
func (c *Client) DropCommunity(ctx context.Context, token, id string) error {
	return c.do(ctx, http.MethodDelete, "/communities/"+url.PathEscape(id), token, nil, nil)
}

// do makes one request: in as JSON (if not nil), the token as bearer (if
// not empty), a 2xx answer decoded into out (if not nil), anything else
// returned as an *Error.
func (c *Client) do(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("relay %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("relay %s: %s %s: %w", c.base, method, path, err)
	}
	if resp.StatusCode >= 300 {
		return answerError(resp, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrBadAnswer, method, path, err)
	}
	return nil
}

func answerError(resp *http.Response, raw []byte) *Error {
	e := &Error{Status: resp.StatusCode}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else {
		e.Code, e.Message = "http_"+strconv.Itoa(resp.StatusCode), http.StatusText(resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// Code returns the relay's error code of err, or "" if err is not an
// error answer.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Status returns the relay's HTTP status of err, or 0 if err is not an
// error answer.
func Status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
