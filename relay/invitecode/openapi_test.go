package invitecode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/relay/account"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The relay's OpenAPI document. Every response the tests of this package
// receive — from the account routes and the invite code routes — is
// validated against it (testRelay's client), and TestOpenAPI drives each
// operation the two packages serve through its answers.

const openAPIFile = "../../docs/api/relay.yaml"

var openAPI struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// openAPIRouter loads and validates the document once, and routes over it
// with its servers replaced by the root, so that it matches requests to
// any test server.
func openAPIRouter() (*openapi3.T, routers.Router, error) {
	openAPI.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile(openAPIFile)
		if err != nil {
			openAPI.err = fmt.Errorf("load %s: %w", openAPIFile, err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			openAPI.err = fmt.Errorf("%s is not a valid OpenAPI document: %w", openAPIFile, err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/"}}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			openAPI.err = fmt.Errorf("router over %s: %w", openAPIFile, err)
			return
		}
		openAPI.doc, openAPI.router = doc, router
	})
	return openAPI.doc, openAPI.router, openAPI.err
}

// validating is a transport that checks each response against the
// document: its status must be one the operation lists and its body and
// headers must match that status's schema. A request the relay accepted
// must match the operation's parameters and body too.
type validating struct{ tr *testRelay }

func (v validating) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if err := v.tr.validate(req, resp, raw); err != nil {
		v.tr.t.Errorf("OpenAPI: %s %s: status %d: %v\nbody: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, err, raw)
	}
	return resp, nil
}

func (tr *testRelay) validate(req *http.Request, resp *http.Response, raw []byte) error {
	_, router, err := openAPIRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation in %s: %w", openAPIFile, err)
	}
	tr.mu.Lock()
	tr.operations[route.Method+" "+route.Path] = true
	tr.mu.Unlock()
	reqIn := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(raw)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}); err != nil {
		return err
	}
	for name, h := range route.Operation.Responses.Status(resp.StatusCode).Value.Headers {
		if h.Value.Required && resp.Header.Get(name) == "" {
			return fmt.Errorf("no %s header", name)
		}
	}
	if resp.StatusCode >= 300 {
		return nil
	}
	r := req.Clone(context.Background())
	r.Body = http.NoBody
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return err
		}
	}
	reqIn.Request = r
	if err := openapi3filter.ValidateRequest(context.Background(), reqIn); err != nil {
		return fmt.Errorf("the relay accepted (%d) a request the document refuses: %w", resp.StatusCode, err)
	}
	return nil
}

// TestOpenAPIDocument: the document describes its operations completely
// enough, and each is a route the two packages serve.
func TestOpenAPIDocument(t *testing.T) {
	doc, _, err := openAPIRouter()
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
				t.Errorf("%s documents %s, served as %q", openAPIFile, name, pattern)
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

	var s account.SessionJSON
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

	doc, _, err := openAPIRouter()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			name := method + " " + path
			if (strings.HasPrefix(path, "/auth/") || strings.HasPrefix(path, "/invites")) && !tr.operations[name] {
				t.Errorf("%s was not exercised", name)
			}
		}
	}
}
