package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/call"
	"github.com/ancore/ancore/node/preview"
	"github.com/ancore/ancore/node/relaylink"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gorilla/websocket"
)

// The OpenAPI document of the local API (docs/architecture.md, "The local
// API"). TestOpenAPIRoutes checks that it names exactly the routes the node
// serves; apiNode.call validates every response of the black-box API tests
// against it, and TestOpenAPIEvents the envelopes of the event stream.

const openAPIFile = "../../docs/api/openapi.yaml"

// eventsRoute is the WebSocket route, which response validation skips.
const eventsRoute = "GET /api/v1/events"

// loadOpenAPI loads and validates the document.
func loadOpenAPI() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(openAPIFile)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", openAPIFile, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", openAPIFile, err)
	}
	return doc, nil
}

// serverVar matches a server URL's variable, {name}.
var serverVar = regexp.MustCompile(`\{([^{}]+)\}`)

// basePath returns the path of the document's servers, which must agree.
func basePath(doc *openapi3.T) (string, error) {
	if len(doc.Servers) == 0 {
		return "", fmt.Errorf("no servers")
	}
	var base string
	for i, s := range doc.Servers {
		raw := serverVar.ReplaceAllStringFunc(s.URL, func(v string) string {
			if sv := s.Variables[strings.Trim(v, "{}")]; sv != nil {
				return sv.Default
			}
			return v
		})
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("server %q: %w", s.URL, err)
		}
		p := strings.TrimSuffix(u.Path, "/")
		if i > 0 && p != base {
			return "", fmt.Errorf("servers disagree on the base path: %q, %q", base, p)
		}
		base = p
	}
	return base, nil
}

// openAPI is the document and a router over it for validateResponse,
// loaded once. The router's document has its servers replaced by the base
// path alone, so that it matches requests to any loopback port.
var openAPI struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func openAPIRouter() (*openapi3.T, routers.Router, error) {
	openAPI.once.Do(func() {
		doc, err := loadOpenAPI()
		if err != nil {
			openAPI.err = err
			return
		}
		base, err := basePath(doc)
		if err != nil {
			openAPI.err = err
			return
		}
		doc.Servers = openapi3.Servers{{URL: base}}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			openAPI.err = fmt.Errorf("router over %s: %w", openAPIFile, err)
			return
		}
		openAPI.doc, openAPI.router = doc, router
	})
	return openAPI.doc, openAPI.router, openAPI.err
}

// validateResponse checks a response of the API against the document: its
// status must be one the operation lists, and its body must match that
// status's schema. A request that succeeded must also match the
// operation's parameters and request body. The WebSocket route is skipped.
func validateResponse(t *testing.T, req *http.Request, resp *http.Response, raw []byte) {
	t.Helper()
	if req.Method+" "+req.URL.Path == eventsRoute {
		return
	}
	_, router, err := openAPIRouter()
	if err != nil {
		t.Errorf("OpenAPI: %v", err)
		return
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Errorf("OpenAPI: %s %s: status %d: no operation in %s: %v", req.Method, req.URL.Path, resp.StatusCode, openAPIFile, err)
		return
	}
	name := route.Method + " " + route.Path
	reqIn := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(raw)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("OpenAPI: %s (%s %s): status %d: %v\nbody: %s", name, req.Method, req.URL.RequestURI(), resp.StatusCode, err, raw)
	}
	// What the node accepted must be what the document allows.
	if resp.StatusCode >= 300 {
		return
	}
	r := req.Clone(context.Background())
	r.Body = http.NoBody
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			t.Errorf("OpenAPI: %s: request body: %v", name, err)
			return
		}
	}
	if r.ContentLength != 0 && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	reqIn.Request = r
	if err := openapi3filter.ValidateRequest(context.Background(), reqIn); err != nil {
		t.Errorf("OpenAPI: %s (%s %s): the node accepted (%d) a request the document refuses: %v", name, req.Method, req.URL.RequestURI(), resp.StatusCode, err)
	}
}

// TestOpenAPIRoutes: the document is valid OpenAPI, has an operation for
// every route of Node.Routes and none without one, and describes its
// operations completely enough.
func TestOpenAPIRoutes(t *testing.T) {
	doc, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi: %q, want 3.0.3", doc.OpenAPI)
	}
	base, err := basePath(doc)
	if err != nil {
		t.Fatal(err)
	}
	if base != "/api/v1" {
		t.Errorf("servers' base path %q, want /api/v1", base)
	}
	if len(doc.Security) == 0 || doc.Components == nil || doc.Components.SecuritySchemes["bearerAuth"] == nil {
		t.Error("no global bearerAuth security requirement")
	}
	routes := Routes(relaylink.New(relaylink.Config{}), preview.New(), call.New(call.Config{}))
	if !slices.Contains(routes, eventsRoute) {
		t.Errorf("Routes lacks %s", eventsRoute)
	}
	served := map[string]bool{}
	for _, r := range routes {
		served[r] = true
	}
	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+base+path] = op
		}
	}
	for _, r := range routes {
		if documented[r] == nil {
			t.Errorf("route %s has no operation in %s", r, openAPIFile)
		}
	}
	for r, op := range documented {
		if !served[r] {
			t.Errorf("%s documents %s, which is no route", openAPIFile, r)
		}
		if op.Summary == "" {
			t.Errorf("%s: no summary", r)
		}
		for _, status := range []int{401, 403} {
			if op.Responses.Status(status) == nil {
				t.Errorf("%s: no %d response (the guard's)", r, status)
			}
		}
		if op.RequestBody == nil {
			continue
		}
		// Handlers refuse unknown fields.
		mt := op.RequestBody.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
			t.Errorf("%s: request body without a JSON schema", r)
			continue
		}
		if ap := mt.Schema.Value.AdditionalProperties.Has; ap == nil || *ap {
			t.Errorf("%s: request body schema allows additional properties", r)
		}
		for _, status := range []int{400, 413} {
			if op.Responses.Status(status) == nil {
				t.Errorf("%s: decodes a body but has no %d response", r, status)
			}
		}
	}
	for _, name := range []string{"Me", "Community", "Channel", "Role", "Member", "Invite", "Message", "Reaction",
		"Network", "Limits", "Peer", "Error", "Event", "MessageRef", "ReactionEvent", "MemberEvent", "ChannelRef"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
}

// TestOpenAPIEvents drives a node through every event type it emits and
// validates each envelope of its stream against the Event schema.
func TestOpenAPIEvents(t *testing.T) {
	doc, _, err := openAPIRouter()
	if err != nil {
		t.Fatal(err)
	}
	event := doc.Components.Schemas["Event"]
	if event == nil {
		t.Fatal("no Event schema")
	}
	a, b := startAPINode(t), startAPINode(t)
	dial := func(since string) *websocket.Conn {
		t.Helper()
		u := strings.Replace(a.url, "http://", "ws://", 1) + "/api/v1/events?token=" + a.token + "&since=" + since
		conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			t.Fatalf("events: %v (%v)", err, resp)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	// check validates an envelope and returns its type.
	check := func(raw []byte) string {
		t.Helper()
		var v any
		var e eventJSON
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Errorf("event %s: %v", raw, err)
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Errorf("event %s: %v", raw, err)
		}
		if err := doc.ValidateSchemaJSON(event.Value, v, openapi3.VisitAsResponse()); err != nil {
			t.Errorf("OpenAPI: event %s does not match the Event schema: %v", raw, err)
		}
		return e.Type
	}
	read := func(conn *websocket.Conn) string {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, raw, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		return check(raw)
	}

	conn := dial("0")
	if typ := read(conn); typ != "hello" {
		t.Fatalf("stream opened with %q", typ)
	}
	types := make(chan string, 4096)
	go func() {
		defer close(types)
		for {
			conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
			_, raw, err := conn.ReadMessage()
			if err != nil {
				return
			}
			types <- check(raw)
		}
	}()
	defer func() {
		conn.Close()
		for range types {
		}
	}()
	// await reads the stream until it has seen every type of want,
	// poking every half second meanwhile.
	seen := map[string]bool{}
	await := func(want []string, poke func()) {
		t.Helper()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(time.Minute)
		missing := func() []string {
			return slices.DeleteFunc(slices.Clone(want), func(typ string) bool { return seen[typ] })
		}
		for len(missing()) > 0 {
			select {
			case typ, ok := <-types:
				if !ok {
					t.Fatalf("the stream ended before events %v", missing())
				}
				seen[typ] = true
			case <-tick.C:
				if poke != nil {
					poke()
				}
			case <-deadline:
				t.Fatalf("no events %v", missing())
			}
		}
	}

	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Spec"}, &comm)
	general := comm.Channels[0].ID
	var ch ChannelJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/channels", map[string]any{"name": "extra", "topic": "t"}, &ch)
	a.must(200, "PATCH", "/channels/"+ch.ID, map[string]any{"position": 5}, nil)
	a.must(204, "DELETE", "/channels/"+ch.ID, nil, nil)
	a.must(200, "PATCH", "/communities/"+comm.ID, map[string]any{"name": "Spec 2", "icon": testPhoto(t, 64, 48, false)}, nil)
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{"ttl_seconds": 0}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	// A name is published to the communities b's state shows it in.
	waitFor(t, "b has the community's state", func() bool {
		var got CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && got.Member && len(got.Channels) == 1
	})
	b.must(200, "PATCH", "/me", map[string]any{"name": "Bob"}, nil)
	var bme MeJSON
	b.must(200, "GET", "/me", nil, &bme)
	waitFor(t, "a sees bob's name", func() bool {
		var members []MemberJSON
		a.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
		return slices.ContainsFunc(members, func(m MemberJSON) bool { return m.Name == "Bob" })
	})
	var m MessageJSON
	a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "hello", "mentions": []string{bme.User}}, &m)
	a.must(200, "PATCH", "/messages/"+m.ID, map[string]any{"text": "hello again", "everyone": true}, nil)
	a.must(204, "PUT", "/messages/"+m.ID+"/reactions/"+url.PathEscape("👍"), nil, nil)
	a.must(204, "DELETE", "/messages/"+m.ID+"/reactions/"+url.PathEscape("👍"), nil, nil)
	a.must(204, "DELETE", "/messages/"+m.ID, nil, nil)
	await([]string{"community:update", "channel:create", "channel:update", "channel:delete", "network:update",
		"member:join", "member:update", "message:new", "message:update", "reaction:add", "reaction:remove",
		"message:delete", "user:presence"}, nil)
	// Typing signals are ephemeral: b repeats one until a has seen it.
	await([]string{"user:typing"}, func() { b.call("POST", "/channels/"+general+"/typing", nil, nil) })
	a.must(204, "POST", "/communities/"+comm.ID+"/members/"+bme.User+"/kick", nil, nil)
	await([]string{"member:leave"}, nil)

	// hello and resync, for a seq this node never issued.
	again := dial("999999")
	if typ := read(again); typ != "hello" {
		t.Fatalf("stream opened with %q", typ)
	}
	if typ := read(again); typ != "resync" {
		t.Fatalf("no resync after a too new seq: %q", typ)
	}
}

// TestOpenAPIEventPayloads validates envelopes of event types that
// TestOpenAPIEvents cannot easily provoke, built from the node's types.
func TestOpenAPIEventPayloads(t *testing.T) {
	doc, _, err := openAPIRouter()
	if err != nil {
		t.Fatal(err)
	}
	const id = "bafireiglnrqnntofx34uhrfj5jhzymknoepm27clpimen5mugsik2gxrfu"
	for typ, data := range map[string]any{
		"sync:progress":  node.SyncEvent{Channel: id, Ops: node.BulkEvents + 1},
		"network:update": relaylink.RelayUpdate{Relay: relaylink.NetworkRelayJSON{}},
		"call:state": call.InfoJSON{ID: "00112233445566778899aabbccddeeff", Community: id, User: "ejnh6mfcjf3fzu3rhfmyrsnqyvqi5mayuth3uwv3wpdvmwfxk6ea",
			Direction: "incoming", State: call.StateMissed, Reason: call.ReasonNoAnswer, Started: time.Now(), Ended: new(time.Now())},
	} {
		raw, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		env, err := json.Marshal(map[string]any{"type": typ, "seq": 1, "data": json.RawMessage(raw)})
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(env, &v); err != nil {
			t.Fatal(err)
		}
		if err := doc.ValidateSchemaJSON(doc.Components.Schemas["Event"].Value, v, openapi3.VisitAsResponse()); err != nil {
			t.Errorf("OpenAPI: event %s does not match the Event schema: %v", env, err)
		}
	}
}
