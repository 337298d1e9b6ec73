package invitecode

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/relay/account"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relayapi"
)

// TestOpenAPIDocument: the document describes its operations completely
// enough, and each is a route the two packages serve.
func TestOpenAPIDocument(t *testing.T) {
	doc, err := relaytest.Document()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi: %q, want 3.0.3", doc.OpenAPI)
	}
	tr := startRelay(t, account.Config{})
	mux := http.NewServeMux()
	tr.svc.accounts.Routes(mux)
	tr.svc.Routes(mux)
	public := []string{"POST /auth/register", "POST /auth/login", "GET /invites/{code}"}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/auth/") && !strings.HasPrefix(path, "/invites") {
			continue // the relay's own routes, checked by its tests
		}
		for method, op := range item.Operations() {
			name := method + " " + path
			req, _ := http.NewRequest(method, "http://relay"+strings.ReplaceAll(path, "{code}", "ABCDEFGHJK"), nil)
			if _, pattern := mux.Handler(req); pattern != name {
				t.Errorf("the document has %s, served as %q", name, pattern)
			}
			if op.Summary == "" {
				t.Errorf("%s: no summary", name)
			}
			secured := op.Security == nil || len(*op.Security) > 0
			if secured == slices.Contains(public, name) {
				t.Errorf("%s: security %v", name, op.Security)
			}
			if secured && op.Responses.Status(401) == nil {
				t.Errorf("%s: needs a token but has no 401 response", name)
			}
			if op.Responses.Status(500) == nil {
				t.Errorf("%s: no 500 response", name)
			}
			if op.RequestBody == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				t.Errorf("%s: request body without a JSON schema", name)
				continue
			}
			if ap := mt.Schema.Value.AdditionalProperties.Has; ap == nil || *ap {
				t.Errorf("%s: request body schema allows additional properties", name)
			}
			for _, status := range []int{400, 413} {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s: decodes a body but has no %d response", name, status)
				}
			}
		}
	}
}

// TestOpenAPI drives every operation through its answers; the client
// validates each against the document.
func TestOpenAPI(t *testing.T) {
	tr := startRelay(t, account.Config{})
	key := strings.Repeat("a", 52)
	identity := "c2VhbGVk"

	var s relayapi.Session
	tr.must(201, "POST", "/auth/register", "", map[string]any{"email": "ada@example.org", "password": "correct horse",
		"user": key, "identity": identity}, &s)
	tr.mustFail(409, "email_taken", "POST", "/auth/register", "", map[string]any{"email": "ada@example.org", "password": "correct horse"})
	tr.mustFail(422, "invalid_email", "POST", "/auth/register", "", map[string]any{"email": "ada", "password": "correct horse"})
	tr.mustFail(400, "bad_json", "POST", "/auth/register", "", `{"email":"bob@example.org","password":"correct horse","name":"Bob"}`)
	tr.mustFail(413, "too_large", "POST", "/auth/register", "", fmt.Sprintf(`{"email":%q}`, strings.Repeat("a", account.MaxBodyBytes)))

	tr.must(200, "POST", "/auth/login", "", map[string]any{"email": "ada@example.org", "password": "correct horse"}, nil)
	tr.mustFail(401, "bad_credentials", "POST", "/auth/login", "", map[string]any{"email": "ada@example.org", "password": "wrong horse"})
	tr.mustFail(400, "bad_json", "POST", "/auth/login", "", `[]`)

	tr.must(200, "GET", "/auth/me", s.Token, nil, nil)
	tr.mustFail(401, "unauthorized", "GET", "/auth/me", "", nil)
	tr.must(204, "PUT", "/auth/identity", s.Token, map[string]any{"user": strings.ToUpper(key), "identity": identity}, nil)
	tr.mustFail(422, "invalid_identity", "PUT", "/auth/identity", s.Token, map[string]any{"user": "short", "identity": identity})
	tr.mustFail(400, "bad_json", "PUT", "/auth/identity", s.Token, `{"user":1}`)
	tr.mustFail(401, "unauthorized", "PUT", "/auth/identity", "", map[string]any{"user": key, "identity": identity})

	link := inviteLink(tr.clock.Now().Add(time.Hour))
	c := tr.create(s.Token, map[string]any{"link": link, "max_uses": 1, "expires_in": 60})
	tr.create(s.Token, map[string]any{"link": inviteLink(time.Time{})})
	tr.mustFail(422, "invalid_invite", "POST", "/invites", s.Token, map[string]any{"link": "ancore://invite/nope"})
	tr.mustFail(400, "bad_json", "POST", "/invites", s.Token, `{}{}`)
	tr.mustFail(401, "unauthorized", "POST", "/invites", "", map[string]any{"link": link})
	tr.list(s.Token)
	tr.mustFail(401, "unauthorized", "GET", "/invites", "", nil)
	tr.must(200, "GET", "/invites/"+c.Code, "", nil, nil)
	tr.mustFail(410, "exhausted", "GET", "/invites/"+c.Code, "", nil)
	tr.mustFail(404, "not_found", "GET", "/invites/0000000000", "", nil)
	tr.must(204, "DELETE", "/invites/"+c.Code, s.Token, nil, nil)
	tr.mustFail(404, "not_found", "DELETE", "/invites/0000000000", s.Token, nil)
	tr.mustFail(401, "unauthorized", "DELETE", "/invites/"+c.Code, "", nil)

	tr.must(204, "POST", "/auth/logout", s.Token, nil, nil)
	tr.mustFail(401, "unauthorized", "POST", "/auth/logout", s.Token, nil)

	// Rate limits, on a relay that allows one request of each.
	one := account.Rate{Burst: 1, Every: time.Hour}
	tight := startRelay(t, account.Config{Register: one, LoginIP: one, InviteResolve: one})
	tight.mustFail(400, "bad_json", "POST", "/auth/register", "", `{}{}`)
	tight.mustFail(429, "rate_limited", "POST", "/auth/register", "", map[string]any{"email": "ada@example.org", "password": "correct horse"})
	tight.mustFail(400, "bad_json", "POST", "/auth/login", "", `{}{}`)
	tight.mustFail(429, "rate_limited", "POST", "/auth/login", "", map[string]any{"email": "ada@example.org", "password": "correct horse"})
	tight.mustFail(404, "not_found", "GET", "/invites/0000000000", "", nil)
	tight.mustFail(429, "rate_limited", "GET", "/invites/0000000000", "", nil)

	tr.api.Covered(t, "/auth/", "/invites")
}
