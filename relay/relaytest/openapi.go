package relaytest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// NodeAPIPrefix is where a node's local API lives (docs/api/openapi.yaml).
// The relay serves nothing under it, so Call leaves the answers to such
// paths to the node's own tests.
const NodeAPIPrefix = "/api/"

// documentFile is the relay's OpenAPI document, found from this source
// file so that the tests of any package can load it.
var documentFile = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "api", "relay.yaml")
}()

var document struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// Document returns the relay's OpenAPI document, docs/api/relay.yaml,
// loaded and validated once; callers must not change it.
func Document() (*openapi3.T, error) {
	doc, _, err := loadDocument()
	return doc, err
}

// loadDocument loads the document and a router over a copy of it whose
// servers are the root alone, so that it matches requests to any test
// server.
func loadDocument() (*openapi3.T, routers.Router, error) {
	document.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile(documentFile)
		if err != nil {
			document.err = fmt.Errorf("load %s: %w", documentFile, err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			document.err = fmt.Errorf("%s is not a valid OpenAPI document: %w", documentFile, err)
			return
		}
		for path := range doc.Paths.Map() {
			if strings.HasPrefix(path, NodeAPIPrefix) {
				document.err = fmt.Errorf("%s documents %s, under the node API's %s, which Call does not check", documentFile, path, NodeAPIPrefix)
				return
			}
		}
		rooted := *doc
		rooted.Servers = openapi3.Servers{{URL: "/"}}
		router, err := gorillamux.NewRouter(&rooted)
		if err != nil {
			document.err = fmt.Errorf("router over %s: %w", documentFile, err)
			return
		}
		document.doc, document.router = doc, router
	})
	return document.doc, document.router, document.err
}

// OpenAPI checks what tests exchange with a relay against the relay's
// document: each answer's status must be one its operation lists, and its
// headers and body must match that status's; a request the relay accepted
// (status below 300) must match the operation's parameters and body too.
// It records the operations it saw, so that a test can check it drove
// all of them. The zero value is ready to use; it is safe for concurrent
// use.
type OpenAPI struct {
	mu        sync.Mutex
	exercised map[string]bool // "METHOD /path/{param}"
}

// Client returns a client whose answers o checks; a mismatch fails t.
func (o *OpenAPI) Client(t testing.TB) *http.Client {
	return &http.Client{Transport: checking{o, t}}
}

// Covered fails t for each operation of the document under one of the
// path prefixes that o has not seen.
func (o *OpenAPI) Covered(t testing.TB, prefixes ...string) {
	t.Helper()
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var missing []string
	for path, item := range doc.Paths.Map() {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(path, p) }) {
			continue
		}
		for method := range item.Operations() {
			if name := method + " " + path; !o.exercised[name] {
				missing = append(missing, name)
			}
		}
	}
	slices.Sort(missing)
	for _, name := range missing {
		t.Errorf("OpenAPI: %s was not exercised", name)
	}
}

// checking is the transport of OpenAPI.Client.
type checking struct {
	o *OpenAPI
	t testing.TB
}

func (c checking) RoundTrip(req *http.Request) (*http.Response, error) {
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
	if err := c.o.check(req, resp, raw); err != nil {
		c.t.Errorf("OpenAPI: %s %s: status %d: %v\nbody: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, err, raw)
	}
	return resp, nil
}

func (o *OpenAPI) check(req *http.Request, resp *http.Response, raw []byte) error {
	_, router, err := loadDocument()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation in %s: %w", documentFile, err)
	}
	o.mu.Lock()
	if o.exercised == nil {
		o.exercised = map[string]bool{}
	}
	o.exercised[route.Method+" "+route.Path] = true
	o.mu.Unlock()
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
