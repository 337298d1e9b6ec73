package api

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node/picture"
)

// MaxBody caps a request body but a picture's: a message or a name is far
// smaller. Routes that take a picture (a community icon, an avatar) take
// MaxPictureBody: the largest photo picture.Shrink accepts, in base64
// inside JSON.
const (
	MaxBody        = 1 << 20
	MaxPictureBody = picture.MaxInputBytes/3*4 + 4<<10
)

// Guard wraps the API for loopback use. A request passes only if:
//   - its Host is a loopback address or localhost (a DNS-rebinding page
//     reaches us under its own name and is refused, 403);
//   - its Origin, when it has one, is the API's own (cross-site pages are
//     refused, 403);
//   - it carries the token: "Authorization: Bearer <token>", or, on
//     WebSocket upgrades (browsers cannot set headers there), a "token"
//     query parameter (401 otherwise), compared in constant time.
//
// Every response carries nosniff, frame-deny and a CSP. Bodies are capped
// by each route (serve).
func Guard(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := bearer(r)
		if got == "" && isUpgrade(r) {
			got = r.URL.Query().Get("token")
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ancore"`)
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "a valid API token is required")
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// Secure is Guard without the token, for what a browser loads before it
// can present one (the UI's page and assets): Host and Origin checks and
// the security headers.
func Secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("Referrer-Policy", "no-referrer")
		if !loopbackHost(r.Host) {
			httpjson.Error(w, http.StatusForbidden, "forbidden_host", "the API answers only on the loopback address or localhost")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
			httpjson.Error(w, http.StatusForbidden, "forbidden_origin", "cross-site requests are refused")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// loopbackHost reports whether a Host header names this machine by a
// loopback IP or as localhost.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin reports whether origin is the API's own: http(s) on the same
// host and port it was reached at.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, host) && loopbackHost(u.Host)
}
