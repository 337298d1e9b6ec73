package invitecode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/relay/account"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/ancore/ancore/relayapi"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testRelay is the account and invite code routes on an httptest server
// over a database of their own. Every response it gets is checked against
// docs/api/relay.yaml by api, which records the operations exercised.
type testRelay struct {
	t     *testing.T
	url   string
	clock *clock
	svc   *Service
	api   relaytest.OpenAPI
}

// roomy rate limits that tests not about limits never reach.
var roomy = account.Rate{Burst: 1000, Every: time.Millisecond}

func startRelay(t *testing.T, cfg account.Config) *testRelay {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	c := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg.Now = c.Now
	for _, r := range []*account.Rate{&cfg.Register, &cfg.LoginIP, &cfg.LoginEmail, &cfg.InviteResolve} {
		if *r == (account.Rate{}) {
			*r = roomy
		}
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	accounts, err := account.New(st, cfg, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(st, accounts, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	accounts.Routes(mux)
	svc.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testRelay{t: t, url: srv.URL, clock: c, svc: svc}
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) errorCode() string {
	var e httpjson.ErrorBody
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request; body is JSON-encoded unless it is a string, which
// goes as it is.
func (tr *testRelay) do(method, path, token string, body any) reply {
	tr.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tr.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, tr.url+path, rd)
	if err != nil {
		tr.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := tr.api.Client(tr.t).Do(req)
	if err != nil {
		tr.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tr.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

func (tr *testRelay) must(status int, method, path, token string, body, out any) reply {
	tr.t.Helper()
	r := tr.do(method, path, token, body)
	if r.status != status {
		tr.t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			tr.t.Fatalf("%s %s: %v in %s", method, path, err, r.body)
		}
	}
	return r
}

func (tr *testRelay) mustFail(status int, code, method, path, token string, body any) reply {
	tr.t.Helper()
	r := tr.do(method, path, token, body)
	if r.status != status || r.errorCode() != code {
		tr.t.Fatalf("%s %s: %d %s, want %d %s", method, path, r.status, r.body, status, code)
	}
	return r
}

// register makes an account and returns its session token.
func (tr *testRelay) register(email string) string {
	tr.t.Helper()
	var s relayapi.Session
	tr.must(201, "POST", "/auth/register", "", map[string]any{"email": email, "password": "correct horse"}, &s)
	return s.Token
}

func (tr *testRelay) create(token string, body map[string]any) relayapi.Invite {
	tr.t.Helper()
	var c relayapi.Invite
	tr.must(201, "POST", "/invites", token, body, &c)
	return c
}

func (tr *testRelay) list(token string) []relayapi.Invite {
	tr.t.Helper()
	var l relayapi.Invites
	tr.must(200, "GET", "/invites", token, nil, &l)
	return l.Invites
}

var community = crdt.IDOf([]byte("community"))

// inviteLink makes a link to community; expires zero: never.
func inviteLink(expires time.Time) string {
	inv := crdt.Invite{Community: community, Invite: crdt.IDOf([]byte("invite op")), Seed: [32]byte{1, 2, 3},
		Addrs: []string{"/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWGzBXXtDTd1Db2rTCYbvsCuRTnHkrWdHpbnnq1WBkSBWU"}}
	if !expires.IsZero() {
		inv.Expires = expires.UnixMilli()
	}
	return inv.Link()
}

func resolves(s *Service, outcome string) float64 {
	var m dto.Metric
	if err := s.resolves.WithLabelValues(outcome).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// typed is how people may type code: lower-case, with a dash, O for 0 and
// L for 1.
func typed(code string) string {
	s := strings.NewReplacer("0", "o", "1", "L").Replace(strings.ToLower(code))
	return s[:5] + "-" + s[5:]
}

func TestCreateAndResolve(t *testing.T) {
	tr := startRelay(t, account.Config{})
	ada := tr.register("ada@example.org")
	link := inviteLink(time.Time{})
	// The scheme's case and the spaces around the link do not matter;
	// the code keeps the canonical link.
	c := tr.create(ada, map[string]any{"link": " " + strings.ToUpper(crdt.InviteScheme) + strings.TrimPrefix(link, crdt.InviteScheme)})
	if len(c.Code) != codeLen || c.Link != link || c.Community != community.String() || c.ExpiresAt != nil ||
		c.MaxUses != 0 || c.Uses != 0 || c.CreatedAt.IsZero() {
		t.Fatalf("created %+v", c)
	}
	var got relayapi.Invite
	tr.must(200, "GET", "/invites/"+typed(c.Code), "", nil, &got)
	if got.Code != c.Code || got.Link != link || got.Uses != 1 {
		t.Fatalf("resolved %+v", got)
	}
	tr.must(200, "GET", "/invites/"+c.Code, "", nil, &got)
	if got.Uses != 2 {
		t.Fatalf("second resolve: %+v", got)
	}
	other := tr.create(ada, map[string]any{"link": link, "max_uses": 3})
	if other.Code == c.Code || other.MaxUses != 3 {
		t.Fatalf("second code %+v", other)
	}
	list := tr.list(ada)
	if len(list) != 2 || list[0].Code != other.Code || list[1].Code != c.Code || list[1].Uses != 2 {
		t.Fatalf("list %+v", list)
	}
	for _, code := range []string{"ABCDEFGHJK", "abcdefghjkm", "ABCDEFGHJU", "A", "%20"} {
		tr.mustFail(404, "not_found", "GET", "/invites/"+code, "", nil)
	}
	if ok, nf := resolves(tr.svc, "ok"), resolves(tr.svc, "not_found"); ok != 2 || nf != 5 {
		t.Errorf("resolve counters: ok %v, not found %v", ok, nf)
	}
	// Only accounts make codes.
	tr.mustFail(401, "unauthorized", "POST", "/invites", "", map[string]any{"link": link})
	tr.mustFail(401, "unauthorized", "GET", "/invites", "", nil)
	tr.mustFail(401, "unauthorized", "DELETE", "/invites/"+c.Code, "", nil)
}

func TestCreateRefused(t *testing.T) {
	tr := startRelay(t, account.Config{})
	ada := tr.register("ada@example.org")
	now := tr.clock.Now()
	for name, c := range map[string]struct {
		body   any
		status int
		code   string
	}{
		"no link":         {map[string]any{}, 422, "invalid_invite"},
		"not a link":      {map[string]any{"link": "https://example.org"}, 422, "invalid_invite"},
		"mangled link":    {map[string]any{"link": inviteLink(time.Time{})[:40]}, 422, "invalid_invite"},
		"expired link":    {map[string]any{"link": inviteLink(now)}, 422, "invalid_invite"},
		"negative uses":   {map[string]any{"link": inviteLink(time.Time{}), "max_uses": -1}, 422, "invalid_request"},
		"too many uses":   {map[string]any{"link": inviteLink(time.Time{}), "max_uses": MaxUses + 1}, 422, "invalid_request"},
		"negative expiry": {map[string]any{"link": inviteLink(time.Time{}), "expires_in": -1}, 422, "invalid_request"},
		"far expiry":      {map[string]any{"link": inviteLink(time.Time{}), "expires_in": MaxExpiresIn + 1}, 422, "invalid_request"},
		"unknown field":   {map[string]any{"link": inviteLink(time.Time{}), "uses": 1}, 400, "bad_json"},
		"fractional uses": {`{"link":"x","max_uses":1.5}`, 400, "bad_json"},
		"too large":       {fmt.Sprintf(`{"link":%q}`, strings.Repeat("a", account.MaxBodyBytes)), 413, "too_large"},
	} {
		t.Run(name, func(t *testing.T) {
			tr.t = t
			tr.mustFail(c.status, c.code, "POST", "/invites", ada, c.body)
		})
	}
	tr.t = t
	if l := tr.list(ada); len(l) != 0 {
		t.Fatalf("refused codes were stored: %+v", l)
	}
}

// TestExpiry: a code expires with its link, or sooner if asked to.
func TestExpiry(t *testing.T) {
	tr := startRelay(t, account.Config{})
	ada := tr.register("ada@example.org")
	now := tr.clock.Now()
	link := inviteLink(now.Add(2 * time.Hour))
	withLink := tr.create(ada, map[string]any{"link": link})
	sooner := tr.create(ada, map[string]any{"link": link, "expires_in": 3600})
	later := tr.create(ada, map[string]any{"link": link, "expires_in": 3 * 3600})
	noLimit := tr.create(ada, map[string]any{"link": inviteLink(time.Time{}), "expires_in": 0})
	for _, c := range []struct {
		got  relayapi.Invite
		want time.Time
	}{{withLink, now.Add(2 * time.Hour)}, {sooner, now.Add(time.Hour)}, {later, now.Add(2 * time.Hour)}} {
		if c.got.ExpiresAt == nil || !c.got.ExpiresAt.Equal(c.want) {
			t.Errorf("code expires %v, want %v", c.got.ExpiresAt, c.want)
		}
	}
	if noLimit.ExpiresAt != nil {
		t.Errorf("a code of a link that never expires, with expires_in 0, expires %v", noLimit.ExpiresAt)
	}
	tr.must(200, "GET", "/invites/"+sooner.Code, "", nil, nil)
	tr.clock.Add(time.Hour)
	tr.mustFail(410, "expired", "GET", "/invites/"+sooner.Code, "", nil)
	tr.must(200, "GET", "/invites/"+withLink.Code, "", nil, nil)
	tr.clock.Add(time.Hour)
	tr.mustFail(410, "expired", "GET", "/invites/"+withLink.Code, "", nil)
	tr.mustFail(410, "expired", "GET", "/invites/"+later.Code, "", nil)
	tr.clock.Add(100 * 365 * 24 * time.Hour)
	tr.must(200, "GET", "/invites/"+noLimit.Code, "", nil, nil)
	if got := resolves(tr.svc, "expired"); got != 3 {
		t.Errorf("expired counter %v", got)
	}
}

func TestRevoke(t *testing.T) {
	tr := startRelay(t, account.Config{})
	ada, bob := tr.register("ada@example.org"), tr.register("bob@example.org")
	c := tr.create(ada, map[string]any{"link": inviteLink(time.Time{})})
	tr.mustFail(404, "not_found", "DELETE", "/invites/"+c.Code, bob, nil)
	tr.mustFail(404, "not_found", "DELETE", "/invites/NOTACODE!", ada, nil)
	tr.must(200, "GET", "/invites/"+c.Code, "", nil, nil)
	tr.must(204, "DELETE", "/invites/"+typed(c.Code), ada, nil, nil)
	tr.must(204, "DELETE", "/invites/"+c.Code, ada, nil, nil)
	tr.mustFail(410, "revoked", "GET", "/invites/"+c.Code, "", nil)
	if l := tr.list(ada); len(l) != 0 {
		t.Fatalf("list after revoking: %+v", l)
	}
}

// TestExhaustedExactly: a code with 5 uses that 50 clients resolve at once
// works exactly 5 times.
func TestExhaustedExactly(t *testing.T) {
	tr := startRelay(t, account.Config{})
	ada := tr.register("ada@example.org")
	c := tr.create(ada, map[string]any{"link": inviteLink(time.Time{}), "max_uses": 5})
	const clients = 50
	statuses := make(chan reply, clients)
	var wg sync.WaitGroup
	start := make(chan struct{})
	client := tr.api.Client(t)
	for range clients {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest("GET", tr.url+"/invites/"+c.Code, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			statuses <- reply{status: resp.StatusCode, body: raw}
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	counts := map[string]int{}
	for r := range statuses {
		counts[fmt.Sprint(r.status, " ", r.errorCode())]++
	}
	if counts["200 "] != 5 || counts["410 exhausted"] != clients-5 {
		t.Fatalf("outcomes %v, want 5 successes and %d exhausted", counts, clients-5)
	}
	if l := tr.list(ada); l[0].Uses != 5 {
		t.Fatalf("uses %d", l[0].Uses)
	}
	if ok, exhausted := resolves(tr.svc, "ok"), resolves(tr.svc, "exhausted"); ok != 5 || exhausted != clients-5 {
		t.Errorf("resolve counters: ok %v, exhausted %v", ok, exhausted)
	}
}

// TestGuessingRateLimited: resolving is limited per client IP, so codes
// cannot be enumerated.
func TestGuessingRateLimited(t *testing.T) {
	tr := startRelay(t, account.Config{InviteResolve: account.Rate{Burst: 5, Every: time.Minute}})
	ada := tr.register("ada@example.org")
	c := tr.create(ada, map[string]any{"link": inviteLink(time.Time{})})
	for range 5 {
		guess, err := newCode()
		if err != nil {
			t.Fatal(err)
		}
		tr.mustFail(404, "not_found", "GET", "/invites/"+guess, "", nil)
	}
	for _, code := range []string{"0123456789", c.Code} {
		r := tr.mustFail(429, "rate_limited", "GET", "/invites/"+code, "", nil)
		if r.header.Get("Retry-After") != "60" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	tr.clock.Add(time.Minute)
	tr.must(200, "GET", "/invites/"+c.Code, "", nil, nil)
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c, err := newCode()
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := normalize(c); !ok || n != c || seen[c] {
			t.Fatalf("code %q: normalized %q, %v; seen %v", c, n, ok, seen[c])
		}
		seen[c] = true
	}
	for in, want := range map[string]string{
		"abcd-efgh-jk":  "ABCDEFGHJK",
		"OIL0 1o2i3l":   "0110102131",
		" 7zzz zzzz zz": "7ZZZZZZZZZ",
	} {
		if got, ok := normalize(in); !ok || got != want {
			t.Errorf("normalize %q: %q, %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "ABCDEFGHJ", "ABCDEFGHJKM", "ABCDEFGHJU", "ABCDEFGHJ_", "ÀBCDEFGHJK"} {
		if got, ok := normalize(in); ok {
			t.Errorf("normalize %q: %q", in, got)
		}
	}
}
