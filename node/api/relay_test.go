package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/relayclient"
	"github.com/ancore/ancore/node/relaylink"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relayapi"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
)

// fakeRelay is the relay's HTTP API (docs/api/relay.yaml) in memory, in
// front of a real libp2p host that runs the circuit relay service, as the
// relay does. It remembers what it was sent, so tests can check what a
// relay learns. The real relay's end-to-end test is cmd/ancore-relay's.
type fakeRelay struct {
	t    *testing.T
	srv  *httptest.Server
	host host.Host

	mu        sync.Mutex
	accounts  map[string]*fakeAccount // by email
	sessions  map[string]string       // token → email
	codes     map[string]*fakeCode
	carried   map[string][]byte            // community → topic secret
	records   map[string]map[string][]byte // email → record ID → sealed
	passwords []string                     // every password it was sent
	logouts   int
}

type fakeAccount struct {
	email, password, user, identity string
	created                         time.Time
}

type fakeCode struct {
	link, community string
	expires         *time.Time
	maxUses, uses   int
	revoked         bool
	created         time.Time
}

func startFakeRelay(t *testing.T) *fakeRelay { return startFakeRelayAt(t, "127.0.0.1:0") }

// startFakeRelayAt starts a fake relay with its HTTP API on addr.
func startFakeRelayAt(t *testing.T, addr string) *fakeRelay {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	h, err := p2p.NewHost(p2p.HostConfig{DeviceSeed: seed, Options: []libp2p.Option{
		libp2p.EnableRelayService(), libp2p.ForceReachabilityPublic()}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRelay{t: t, host: h, accounts: map[string]*fakeAccount{}, sessions: map[string]string{},
		codes: map[string]*fakeCode{}, carried: map[string][]byte{},
		records: map[string]map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /info", f.info)
	mux.HandleFunc("POST /auth/register", f.register)
	mux.HandleFunc("POST /auth/login", f.login)
	mux.HandleFunc("POST /auth/logout", f.authed(f.logout))
	mux.HandleFunc("GET /auth/me", f.authed(f.me))
	mux.HandleFunc("PUT /auth/identity", f.authed(f.putIdentity))
	mux.HandleFunc("POST /invites", f.authed(f.createCode))
	mux.HandleFunc("GET /invites/{code}", f.resolveCode)
	mux.HandleFunc("DELETE /invites/{code}", f.authed(f.revokeCode))
	mux.HandleFunc("POST /communities", f.authed(f.carry))
	mux.HandleFunc("DELETE /communities/{id}", f.authed(f.drop))
	mux.HandleFunc("GET /records", f.authed(f.listRecords))
	mux.HandleFunc("PUT /records/{id}", f.authed(f.putRecord))
	mux.HandleFunc("DELETE /records/{id}", f.authed(f.deleteRecord))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Listener.Close()
	f.srv.Listener = l
	f.srv.Start()
	t.Cleanup(func() {
		f.srv.Close()
		h.Close()
	})
	return f
}

func (f *fakeRelay) url() string { return f.srv.URL }

func (f *fakeRelay) info(w http.ResponseWriter, r *http.Request) {
	var addrs []string
	for _, a := range f.host.Addrs() {
		addrs = append(addrs, a.String()+"/p2p/"+f.host.ID().String())
	}
	httpjson.JSON(w, 200, relayclient.Info{Peer: f.host.ID().String(), Addrs: addrs})
}

func (f *fakeRelay) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := httpjson.Decode(r, v); err != nil {
		httpjson.Error(w, 400, "bad_json", err.Error())
		return false
	}
	return true
}

func (f *fakeRelay) session(w http.ResponseWriter, email string, status int) {
	tok := make([]byte, 16)
	rand.Read(tok)
	token := base64.RawURLEncoding.EncodeToString(tok)
	f.sessions[token] = email
	httpjson.JSON(w, status, relayapi.Session{Token: token, ExpiresAt: time.Now().Add(time.Hour).UTC(), Account: f.account(email)})
}

func (f *fakeRelay) account(email string) relayapi.Account {
	a := f.accounts[email]
	return relayapi.Account{Email: a.email, CreatedAt: a.created, User: a.user, Identity: a.identity}
}

func (f *fakeRelay) register(w http.ResponseWriter, r *http.Request) {
	var in relayapi.Registration
	if !f.decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.passwords = append(f.passwords, in.Password)
	switch {
	case !strings.Contains(in.Email, "@"):
		httpjson.Error(w, 422, "invalid_email", "not an email address")
	case len(in.Password) < 8:
		httpjson.Error(w, 422, "weak_password", "too short")
	case (in.User == "") != (in.Identity == ""):
		httpjson.Error(w, 422, "invalid_identity", "user and identity go together")
	case f.accounts[in.Email] != nil:
		httpjson.Error(w, 409, "email_taken", "an account with that email exists")
	default:
		f.accounts[in.Email] = &fakeAccount{email: in.Email, password: in.Password, user: in.User, identity: in.Identity, created: time.Now().UTC()}
		f.session(w, in.Email, 201)
	}
}

func (f *fakeRelay) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if !f.decode(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.passwords = append(f.passwords, in.Password)
	if a := f.accounts[in.Email]; a == nil || a.password != in.Password {
		httpjson.Error(w, 401, "bad_credentials", "wrong email or password")
		return
	}
	f.session(w, in.Email, 200)
}

// authed passes the session's email to h, or answers 401.
func (f *fakeRelay) authed(h func(w http.ResponseWriter, r *http.Request, email, token string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		defer f.mu.Unlock()
		email, ok := f.sessions[token]
		if !ok {
			httpjson.Error(w, 401, "unauthorized", "no session")
			return
		}
		h(w, r, email, token)
	}
}

func (f *fakeRelay) logout(w http.ResponseWriter, r *http.Request, _, token string) {
	delete(f.sessions, token)
	f.logouts++
	w.WriteHeader(204)
}

func (f *fakeRelay) me(w http.ResponseWriter, r *http.Request, email, _ string) {
	httpjson.JSON(w, 200, f.account(email))
}

func (f *fakeRelay) putIdentity(w http.ResponseWriter, r *http.Request, email, _ string) {
	var in struct{ User, Identity string }
	if !f.decode(w, r, &in) {
		return
	}
	if in.User == "" || in.Identity == "" {
		httpjson.Error(w, 422, "invalid_identity", "user and identity")
		return
	}
	f.accounts[email].user, f.accounts[email].identity = in.User, in.Identity
	w.WriteHeader(204)
}

func (f *fakeRelay) createCode(w http.ResponseWriter, r *http.Request, _, _ string) {
	var in relayapi.InviteRequest
	if !f.decode(w, r, &in) {
		return
	}
	inv, err := crdt.ParseInvite(in.Link)
	if err != nil {
		httpjson.Error(w, 422, "invalid_link", err.Error())
		return
	}
	b := make([]byte, 7)
	rand.Read(b)
	code := strings.ToUpper(crdt.KeyText(b)[:10]) // ten characters, like the relay's
	c := &fakeCode{link: in.Link, community: inv.Community.String(), maxUses: in.MaxUses, created: time.Now().UTC()}
	if in.ExpiresIn > 0 {
		e := time.Now().Add(time.Duration(in.ExpiresIn) * time.Second).UTC()
		c.expires = &e
	}
	f.codes[code] = c
	httpjson.JSON(w, 201, f.codeJSON(code))
}

func (f *fakeRelay) codeJSON(code string) relayapi.Invite {
	c := f.codes[code]
	return relayapi.Invite{Code: code, Link: c.link, Community: c.community, ExpiresAt: c.expires, MaxUses: c.maxUses, Uses: c.uses, CreatedAt: c.created}
}

func (f *fakeRelay) resolveCode(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	code := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(r.PathValue("code")))
	c := f.codes[code]
	switch {
	case c == nil:
		httpjson.Error(w, 404, "not_found", "no such invite code")
	case c.revoked:
		httpjson.Error(w, 410, "revoked", "revoked")
	case c.expires != nil && time.Now().After(*c.expires):
		httpjson.Error(w, 410, "expired", "expired")
	case c.maxUses > 0 && c.uses >= c.maxUses:
		httpjson.Error(w, 410, "exhausted", "used up")
	default:
		c.uses++
		httpjson.JSON(w, 200, f.codeJSON(code))
	}
}

func (f *fakeRelay) revokeCode(w http.ResponseWriter, r *http.Request, _, _ string) {
	if c := f.codes[r.PathValue("code")]; c != nil {
		c.revoked = true
	}
	w.WriteHeader(204)
}

func (f *fakeRelay) carry(w http.ResponseWriter, r *http.Request, _, _ string) {
	var in relayapi.CarryRequest
	if !f.decode(w, r, &in) {
		return
	}
	g, err := crdt.NewVerifier().Decode(in.Genesis, time.Now())
	if err != nil || g.Kind != crdt.KindGenesis {
		httpjson.Error(w, 422, "invalid_genesis", "not a genesis op")
		return
	}
	if !crdt.VerifyCarry(g.User(), g.ID, in.TopicSecret, in.Proof) {
		httpjson.Error(w, 403, "not_owner", "the proof is not the owner's")
		return
	}
	f.carried[g.ID.String()] = in.TopicSecret
	httpjson.JSON(w, 201, map[string]string{"id": g.ID.String()})
}

func (f *fakeRelay) drop(w http.ResponseWriter, r *http.Request, _, _ string) {
	delete(f.carried, r.PathValue("id"))
	w.WriteHeader(204)
}

func (f *fakeRelay) listRecords(w http.ResponseWriter, r *http.Request, email, _ string) {
	out := relayapi.Records{Records: []relayapi.Record{}}
	for _, id := range slices.Sorted(maps.Keys(f.records[email])) {
		out.Records = append(out.Records, relayapi.Record{ID: id, Sealed: f.records[email][id], UpdatedAt: time.Now().UTC()})
	}
	httpjson.JSON(w, 200, out)
}

func (f *fakeRelay) putRecord(w http.ResponseWriter, r *http.Request, email, _ string) {
	var in relayapi.RecordPut
	if !f.decode(w, r, &in) {
		return
	}
	if !relayapi.ValidRecordID(r.PathValue("id")) || len(in.Sealed) == 0 || len(in.Sealed) > relayapi.MaxRecordBytes {
		httpjson.Error(w, 422, "bad_record", "bad record")
		return
	}
	if f.records[email] == nil {
		f.records[email] = map[string][]byte{}
	}
	f.records[email][r.PathValue("id")] = in.Sealed
	w.WriteHeader(204)
}

func (f *fakeRelay) deleteRecord(w http.ResponseWriter, r *http.Request, email, _ string) {
	if _, ok := f.records[email][r.PathValue("id")]; !ok {
		httpjson.Error(w, 404, "not_found", "no such record")
		return
	}
	delete(f.records[email], r.PathValue("id"))
	w.WriteHeader(204)
}

// accountRecords returns a copy of the records of the account email.
func (f *fakeRelay) accountRecords(email string) map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.records[relayclient.NormalizeEmail(email)])
}

func (f *fakeRelay) sessionCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sessions)
}

// relay returns the node's relay status through its API.
func (a *apiNode) relay() relaylink.RelayJSON {
	a.t.Helper()
	var s relaylink.RelayJSON
	a.must(200, "GET", "/relay", nil, &s)
	return s
}

// relayUp reports whether the API shows the node connected to its relay.
func (a *apiNode) relayUp() bool { return a.relay().Connected }

const (
	testEmail    = "Ann@Example.org"
	testPassword = "correct horse battery"
)

// TestRelayConnects: a node told of a relay connects to its peer, shows
// it in /relay and /network, announces it, and after a restart finds it
// again by itself; forgetting it disconnects and deletes the secrets.
func TestRelayConnects(t *testing.T) {
	f := startFakeRelay(t)
	dir := t.TempDir()
	a := startAPINodeIn(t, dir, "")
	if s := a.relay(); s.URL != nil || s.Account != nil || s.Peer != nil || s.Connected || s.Error != nil {
		t.Fatalf("a new node's relay: %+v", s)
	}
	events := a.events(0)
	var s relaylink.RelayJSON
	a.must(200, "PUT", "/relay", map[string]any{"url": f.url() + "/"}, &s)
	if s.URL == nil || *s.URL != f.url() || s.Peer == nil || *s.Peer != f.host.ID().String() || s.Account != nil {
		t.Fatalf("relay after PUT: %+v", s)
	}
	waitFor(t, "a connected to the relay", a.relayUp)
	var nw struct{ Relay relaylink.NetworkRelayJSON }
	a.must(200, "GET", "/network", nil, &nw)
	if nw.Relay.URL == nil || *nw.Relay.URL != f.url() || !nw.Relay.Connected || nw.Relay.Peer == nil {
		t.Fatalf("network's relay: %+v", nw.Relay)
	}
	e := events.await("network:update", func(data json.RawMessage) bool {
		var u relaylink.RelayUpdate
		return json.Unmarshal(data, &u) == nil && u.Relay.URL != nil && *u.Relay.URL == f.url()
	})
	validateEvent(t, e)

	a.Stop(t)
	a = startAPINodeIn(t, dir, "")
	waitFor(t, "the restarted node reconnected to its relay", a.relayUp)

	a.must(204, "DELETE", "/relay", nil, nil)
	if s := a.relay(); s.URL != nil || s.Peer != nil {
		t.Fatalf("relay after DELETE: %+v", s)
	}
	waitFor(t, "a disconnected from the relay", func() bool { return !slices.Contains(a.Peers(), f.host.ID()) })
	if _, err := os.Stat(filepath.Join(dir, relaylink.SecretsFile)); !os.IsNotExist(err) {
		t.Fatalf("the relay secrets survived forgetting the relay: %v", err)
	}
}

// TestRelayFlag: Config.Relay sets the relay at start; another relay in
// the flag replaces the remembered one and its session.
func TestRelayFlag(t *testing.T) {
	f, g := startFakeRelay(t), startFakeRelay(t)
	dir := t.TempDir()
	a := startAPINodeIn(t, dir, f.url())
	waitFor(t, "a connected to the relay of its flag", a.relayUp)
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil)
	a.Stop(t)

	a = startAPINodeIn(t, dir, f.url()+"/")
	if s := a.relay(); s.Account == nil || s.Account.Email != "ann@example.org" {
		t.Fatalf("the same relay in the flag lost the session: %+v", s)
	}
	a.Stop(t)

	a = startAPINodeIn(t, dir, g.url())
	waitFor(t, "a connected to the new relay", a.relayUp)
	if s := a.relay(); *s.URL != g.url() || s.Account != nil || *s.Peer != g.host.ID().String() {
		t.Fatalf("another relay in the flag: %+v", s)
	}

	if _, _, err := openNode(t, t.TempDir(), "ftp://relay"); !errors.Is(err, relayclient.ErrBadURL) {
		t.Fatalf("a bad relay URL: %v", err)
	}
}

// TestRelayBadInput: what the relay routes refuse leaves everything as it
// was.
func TestRelayBadInput(t *testing.T) {
	f := startFakeRelay(t)
	dir := t.TempDir()
	a := startAPINodeIn(t, dir, "")
	code := func(method, path string, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, a.url+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e httpjson.ErrorBody
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error.Code
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"PUT", "/relay", `{"url":`, 400, "bad_json"},
		{"PUT", "/relay", `{"url": "x", "extra": 1}`, 400, "bad_json"},
		{"PUT", "/relay", `{"url": "ftp://relay.example.org"}`, 422, "bad_url"},
		{"PUT", "/relay", `{"url": "http://user:pw@relay.example.org"}`, 422, "bad_url"},
		{"PUT", "/relay", `{}`, 422, "bad_url"},
		{"POST", "/relay/register", `{"email": "ann@example.org", "password": "long enough"}`, 409, "no_relay"},
		{"POST", "/relay/login", `{"email": "ann@example.org", "password": "long enough"}`, 409, "no_relay"},
		{"POST", "/relay/logout", `{"wipe": "yes"}`, 400, "bad_json"},
		{"POST", "/relay/logout", ``, 400, "bad_json"},
		{"POST", "/communities/join", `{"invite": "ABCDE12345"}`, 409, "no_relay"},
		{"POST", "/communities/join", `{"invite": "no/such code"}`, 422, "invalid_invite"},
	} {
		if status, got := code(c.method, c.path, c.body); status != c.status || got != c.code {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.method, c.path, c.body, status, got, c.status, c.code)
		}
	}
	// A relay that does not answer.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if status, got := code("PUT", "/relay", `{"url": "`+gone.URL+`"}`); status != 502 || got != "relay_unreachable" {
		t.Errorf("unreachable relay: %d %s", status, got)
	}
	if s := a.relay(); s.URL != nil || s.Error != nil {
		t.Fatalf("refused input changed the relay: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, relaylink.SecretsFile)); !os.IsNotExist(err) {
		t.Fatalf("refused input wrote secrets: %v", err)
	}

	a.must(200, "PUT", "/relay", map[string]any{"url": f.url()}, nil)
	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/relay/register", `{"email": "ann", "password": "long enough"}`, 422, "invalid_email"},
		{"/relay/register", `{"email": "ann@example.org", "password": "short"}`, 422, "weak_password"},
		{"/relay/register", `{"email": "ann@example.org"}`, 422, "weak_password"},
		{"/relay/login", `{"email": "@example.org", "password": "long enough"}`, 422, "invalid_email"},
		{"/relay/login", `{"email": "ann@example.org", "password": "short"}`, 401, "bad_credentials"},
		{"/relay/register", `{"email": "ann@example.org", "password": "long enough", "user": "x"}`, 400, "bad_json"},
	} {
		if status, got := code("POST", c.path, c.body); status != c.status || got != c.code {
			t.Errorf("POST %s %s: %d %s, want %d %s", c.path, c.body, status, got, c.status, c.code)
		}
	}
	if f.sessionCount() != 0 || len(f.accounts) != 0 {
		t.Fatal("refused input reached the relay")
	}
}

// TestRelayAccount: register, the secrets file, logout, login again; a
// wrong password; a taken email.
func TestRelayAccount(t *testing.T) {
	f := startFakeRelay(t)
	dir := t.TempDir()
	a := startAPINodeIn(t, dir, f.url())
	var me MeJSON
	a.must(200, "GET", "/me", nil, &me)
	var s relaylink.RelayJSON
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, &s)
	if s.Account == nil || s.Account.Email != "ann@example.org" {
		t.Fatalf("relay after register: %+v", s)
	}
	acct := f.accounts["ann@example.org"]
	if acct == nil || acct.user != me.User || acct.identity == "" {
		t.Fatalf("the relay's account: %+v", acct)
	}
	// What the relay and the secrets file learned of the password.
	keys := relayclient.DeriveKeys(testEmail, testPassword)
	if acct.password != keys.Login || strings.Contains(acct.password, testPassword) {
		t.Fatalf("the relay was sent %q, not the login secret", acct.password)
	}
	seed := a.Identity().User.Seed()
	if raw, _ := base64.StdEncoding.DecodeString(acct.identity); len(raw) == 0 || strings.Contains(string(raw), string(seed)) {
		t.Fatal("the relay holds the identity in clear")
	}
	path := filepath.Join(dir, relaylink.SecretsFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v", relaylink.SecretsFile, fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	var rec struct{ URL, Email, Token string }
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Token == "" || rec.URL != f.url() || rec.Email != "ann@example.org" {
		t.Fatalf("%s: %s (%v)", relaylink.SecretsFile, raw, err)
	}
	if strings.Contains(string(raw), testPassword) || strings.Contains(string(raw), keys.Login) {
		t.Fatalf("%s holds the password or the login secret: %s", relaylink.SecretsFile, raw)
	}

	var status int
	if status = a.call("POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil); status != 409 {
		t.Errorf("a taken email: %d", status)
	}
	a.must(204, "POST", "/relay/logout", map[string]any{"wipe": false}, nil)
	if s := a.relay(); s.Account != nil || s.URL == nil {
		t.Fatalf("relay after logout: %+v", s)
	}
	if f.sessionCount() != 0 || f.logouts != 1 {
		t.Fatalf("the relay's sessions after logout: %d, %d logouts", f.sessionCount(), f.logouts)
	}
	raw, _ = os.ReadFile(path)
	if strings.Contains(string(raw), rec.Token) {
		t.Fatal("the token survived the logout")
	}
	a.must(204, "POST", "/relay/logout", map[string]any{}, nil) // without a session

	if status = a.call("POST", "/relay/login", map[string]any{"email": testEmail, "password": testPassword + "!"}, nil); status != 401 {
		t.Fatalf("a wrong password: %d", status)
	}
	if s := a.relay(); s.Account != nil {
		t.Fatalf("a wrong password logged in: %+v", s)
	}
	a.must(200, "POST", "/relay/login", map[string]any{"email": "ann@example.org ", "password": testPassword}, &s)
	if s.Account == nil || a.Identity().User.ID() != me.userID(t) {
		t.Fatalf("login: %+v", s)
	}
	for _, pw := range f.passwords {
		if strings.Contains(pw, testPassword) {
			t.Fatalf("the relay saw the password: %q", pw)
		}
	}
}

func (m MeJSON) userID(t *testing.T) crdt.UserID {
	t.Helper()
	var u crdt.UserID
	b, err := crdt.ParseKeyText(m.User)
	if err != nil || len(b) != len(u) {
		t.Fatalf("user %q: %v", m.User, err)
	}
	copy(u[:], b)
	return u
}

// TestRelayRestoresIdentity: logging in on a new device restores the
// user, keeps the device key and survives a restart; a node whose user
// has communities refuses; an account without a backup gets one.
func TestRelayRestoresIdentity(t *testing.T) {
	f := startFakeRelay(t)
	relayOn := f.url()
	a := startAPINodeIn(t, t.TempDir(), relayOn)
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil)
	user := a.Identity().User.ID()

	dir := t.TempDir()
	b := startAPINodeIn(t, dir, relayOn)
	device, peerID := b.Identity().Device.ID(), b.PeerID()
	if status := b.call("POST", "/relay/login", map[string]any{"email": testEmail, "password": "wrong password"}, nil); status != 401 {
		t.Fatalf("wrong password: %d", status)
	}
	if b.Identity().User.ID() == user {
		t.Fatal("a wrong password restored the identity")
	}
	var s relaylink.RelayJSON
	b.must(200, "POST", "/relay/login", map[string]any{"email": testEmail, "password": testPassword}, &s)
	var me MeJSON
	b.must(200, "GET", "/me", nil, &me)
	id := b.Identity()
	if id.User.ID() != user || me.userID(t) != user {
		t.Fatalf("login on a new device did not restore the user")
	}
	if id.Device.ID() != device || b.PeerID() != peerID {
		t.Fatal("the device key changed")
	}
	if id.Device.User() != user || !id.Device.Cert().Verify(device) {
		t.Fatal("the device is not certified by the restored user")
	}
	// The restored node acts as the user: its community is the user's.
	var comm CommunityJSON
	b.must(201, "POST", "/communities", map[string]any{"name": "Restored"}, &comm)
	if comm.Owner != me.User {
		t.Fatalf("owner %s, want %s", comm.Owner, me.User)
	}
	b.Stop(t)
	again, _, err := openNode(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if again.Identity().User.ID() != user || again.Identity().Device.ID() != device {
		t.Fatal("the restored identity did not survive a restart")
	}
	stop(t, again)

	// A node whose own user has a community refuses another identity.
	c := startAPINodeIn(t, t.TempDir(), relayOn)
	cUser := c.Identity().User.ID()
	c.must(201, "POST", "/communities", map[string]any{"name": "Mine"}, nil)
	sessions := f.sessionCount()
	if status := c.call("POST", "/relay/login", map[string]any{"email": testEmail, "password": testPassword}, nil); status != 409 {
		t.Fatalf("login over a user with communities: %d", status)
	}
	if c.Identity().User.ID() != cUser || c.relay().Account != nil || f.sessionCount() != sessions {
		t.Fatal("a refused login changed the node or kept its session")
	}

	// An account registered without a backup receives this node's.
	f.mu.Lock()
	f.accounts["bob@example.org"] = &fakeAccount{email: "bob@example.org", password: relayclient.DeriveKeys("bob@example.org", testPassword).Login, created: time.Now()}
	f.mu.Unlock()
	c.must(200, "POST", "/relay/login", map[string]any{"email": "bob@example.org", "password": testPassword}, nil)
	f.mu.Lock()
	bob := *f.accounts["bob@example.org"]
	f.mu.Unlock()
	if bob.user != cUser.String() || bob.identity == "" {
		t.Fatalf("the account without a backup did not get one: %+v", bob)
	}
	keys := relayclient.DeriveKeys("bob@example.org", testPassword)
	if seed, err := keys.OpenIdentity(cUser, bob.identity); err != nil || string(seed) != string(c.Identity().User.Seed()) {
		t.Fatalf("the backup does not open to the user: %v", err)
	}
}

// TestRelayWipe: logout with wipe stops the node, deletes its store and
// relay secrets, and the next start is a new identity.
func TestRelayWipe(t *testing.T) {
	f := startFakeRelay(t)
	dir := t.TempDir()
	a := startAPINodeIn(t, dir, f.url())
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil)
	a.must(201, "POST", "/communities", map[string]any{"name": "Doomed"}, nil)
	user, device := a.Identity().User.ID(), a.Identity().Device.ID()
	a.must(204, "POST", "/relay/logout", map[string]any{"wipe": true}, nil)
	err, ok := a.Wait(30 * time.Second)
	if !ok {
		t.Fatal("the node did not stop after a wipe")
	}
	if !errors.Is(err, node.ErrWiped) {
		t.Fatalf("Run after a wipe: %v", err)
	}
	if f.sessionCount() != 0 {
		t.Error("the wipe did not log out")
	}
	for _, name := range []string{node.StoreFile, relaylink.SecretsFile, APIFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s survived the wipe: %v", name, err)
		}
	}
	n, link, err := openNode(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, n)
	if n.Identity().User.ID() == user || n.Identity().Device.ID() == device || len(n.Communities()) != 0 {
		t.Fatal("the node after a wipe is the old one")
	}
	if s := link.Status(); s.URL != nil {
		t.Fatalf("the relay survived the wipe: %+v", s)
	}
	// Without Run, a wipe is refused rather than left pending.
	if err := link.Logout(t.Context(), true); !errors.Is(err, node.ErrNotRunning) {
		t.Fatalf("wipe of a node not running: %v", err)
	}
}

// TestRelayCarriesAndCodes: the owner asks the relay to carry its
// community (others may not); invites get short codes that other nodes
// join with; codes the relay refuses say why.
func TestRelayCarriesAndCodes(t *testing.T) {
	f := startFakeRelay(t)
	relayOn := f.url()
	a, b := startAPINodeIn(t, t.TempDir(), relayOn), startAPINodeIn(t, t.TempDir(), relayOn)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Carried"}, &comm)
	if status := a.call("POST", "/communities/"+comm.ID+"/relay", nil, nil); status != 409 {
		t.Fatalf("carry without a session: %d", status)
	}
	var inv NewInviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	if inv.Code != nil || inv.Link == "" {
		t.Fatalf("invite without a session: %+v", inv)
	}
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil)
	a.must(204, "POST", "/communities/"+comm.ID+"/relay", nil, nil)
	a.must(404, "POST", "/communities/bafireiglnrqnntofx34uhrfj5jhzymknoepm27clpimen5mugsik2gxrfu/relay", nil, nil)
	f.mu.Lock()
	secret := f.carried[comm.ID]
	f.mu.Unlock()
	if topic, err := a.TopicSecret(mustID(t, comm.ID)); err != nil || secret == nil || string(secret) != string(topic) {
		t.Fatal("the relay did not get the community's topic secret")
	}

	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{"max_uses": 1, "ttl_seconds": 3600}, &inv)
	if inv.Code == nil || len(*inv.Code) != 10 {
		t.Fatalf("invite with a session: %+v", inv)
	}
	f.mu.Lock()
	c := f.codes[*inv.Code]
	f.mu.Unlock()
	if c.link != inv.Link || c.maxUses != 1 || c.expires == nil {
		t.Fatalf("the relay's code: %+v", c)
	}
	typed := strings.ToLower((*inv.Code)[:5] + "-" + (*inv.Code)[5:])
	var joined CommunityJSON
	b.must(200, "POST", "/communities/join", map[string]any{"invite": typed}, &joined)
	if joined.ID != comm.ID {
		t.Fatalf("joined %s, want %s", joined.ID, comm.ID)
	}
	// The relay's refusals of a code read as a member's of a link.
	b.mustFail(410, "invite_used_up", "POST", "/communities/join", map[string]any{"invite": *inv.Code})
	b.mustFail(404, "invite_unknown", "POST", "/communities/join", map[string]any{"invite": "ZZZZZZZZZZ"})
	waitFor(t, "b has the community's state", func() bool {
		var got CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && got.Member && got.Name == "Carried"
	})
	// A member who is not the owner may not point a relay at it.
	b.must(200, "POST", "/relay/register", map[string]any{"email": "bob@example.org", "password": testPassword}, nil)
	if status := b.call("POST", "/communities/"+comm.ID+"/relay", nil, nil); status != 403 {
		t.Fatalf("carry by a member: %d", status)
	}
	// A session the relay ended is forgotten.
	f.mu.Lock()
	clear(f.sessions)
	f.mu.Unlock()
	if status := a.call("POST", "/communities/"+comm.ID+"/relay", nil, nil); status != 409 {
		t.Fatalf("carry with an ended session: %d", status)
	}
	if s := a.relay(); s.Account != nil {
		t.Fatalf("an ended session is still shown: %+v", s)
	}
}

// TestRelayCarriedFlag: a community the relay said it carries shows
// carried, announced by an event and still after a restart; not before
// it is asked, not on a member's node, not once the relay is forgotten.
func TestRelayCarriedFlag(t *testing.T) {
	f := startFakeRelay(t)
	dir := t.TempDir()
	relayOn := f.url()
	a, b := startAPINodeIn(t, dir, relayOn), startAPINodeIn(t, t.TempDir(), relayOn)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Carried"}, &comm)
	carried := func(n *apiNode) bool {
		t.Helper()
		var got CommunityJSON
		n.must(200, "GET", "/communities/"+comm.ID, nil, &got)
		return got.Carried
	}
	if comm.Carried || carried(a) {
		t.Fatal("carried before the relay was asked")
	}
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)

	events := a.events(0)
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil)
	a.must(204, "POST", "/communities/"+comm.ID+"/relay", nil, nil)
	validateEvent(t, events.await("community:update", func(d json.RawMessage) bool {
		var c CommunityJSON
		return json.Unmarshal(d, &c) == nil && c.ID == comm.ID && c.Carried
	}))
	var list []CommunityJSON
	a.must(200, "GET", "/communities", nil, &list)
	if len(list) != 1 || !list[0].Carried {
		t.Fatalf("communities: %+v", list)
	}
	waitFor(t, "b has the community's state", func() bool {
		var got CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && got.Member
	})
	if carried(b) {
		t.Fatal("carried on a member's node that never asked")
	}

	a.Stop(t)
	a = startAPINodeIn(t, dir, "")
	if !carried(a) {
		t.Fatal("carried forgotten across a restart")
	}
	a.must(204, "DELETE", "/relay", nil, nil)
	if carried(a) {
		t.Fatal("carried without a relay")
	}
}

// validateEvent checks an event's envelope against the Event schema.
func validateEvent(t *testing.T, e eventJSON) {
	t.Helper()
	doc, _, err := openAPIRouter()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if err := doc.ValidateSchemaJSON(doc.Components.Schemas["Event"].Value, v, openapi3.VisitAsResponse()); err != nil {
		t.Errorf("OpenAPI: event %s does not match the Event schema: %v", raw, err)
	}
}

func mustID(t *testing.T, s string) crdt.ID {
	t.Helper()
	id, err := crdt.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRelayCircuit: a node that finds itself unreachable takes a
// reservation on its relay (AutoRelay with the relay as its candidate),
// through which another peer reaches it. (AutoRelay advertises circuit
// addresses only through relays with public addresses, so on loopback the
// test builds the circuit address itself.)
func TestRelayCircuit(t *testing.T) {
	f := startFakeRelay(t)
	a := startAPINodeIn(t, t.TempDir(), f.url())
	waitFor(t, "a connected to the relay", a.relayUp)
	seed := make([]byte, 32)
	rand.Read(seed)
	b, err := p2p.NewHost(p2p.HostConfig{DeviceSeed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	circuit := ma.StringCast(f.host.Addrs()[0].String() + "/p2p/" + f.host.ID().String() + "/p2p-circuit")
	viaRelay := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		return b.Connect(ctx, peer.AddrInfo{ID: a.PeerID(), Addrs: []ma.Multiaddr{circuit}})
	}
	if err := viaRelay(); err == nil {
		t.Fatal("a was reachable through the relay before it took a reservation")
	}
	// AutoNAT cannot judge loopback addresses; tell the host what it
	// would conclude behind a NAT.
	em, err := a.Libp2p().EventBus().Emitter(new(event.EvtLocalReachabilityChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	if err := em.Emit(event.EvtLocalReachabilityChanged{Reachability: network.ReachabilityPrivate}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b reaches a through the relay", func() bool { return viaRelay() == nil })
}

// TestRelayLoginWhileBusy: a login that swaps the identity while other
// requests (some taking the relay's lock) keep coming neither deadlocks
// nor races with them.
func TestRelayLoginWhileBusy(t *testing.T) {
	f := startFakeRelay(t)
	relayOn := f.url()
	a := startAPINodeIn(t, t.TempDir(), relayOn)
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil)
	b := startAPINodeIn(t, t.TempDir(), relayOn)
	stop := make(chan struct{})
	var busy sync.WaitGroup
	for _, req := range []struct{ method, path string }{{"GET", "/me"}, {"GET", "/relay"}, {"GET", "/network"}, {"PUT", "/relay"}} {
		busy.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var body any
				if req.method == "PUT" {
					body = map[string]any{"url": f.url()}
				}
				b.call(req.method, req.path, body, nil)
			}
		})
	}
	done := make(chan int, 1)
	go func() {
		done <- b.call("POST", "/relay/login", map[string]any{"email": testEmail, "password": testPassword}, nil)
	}()
	select {
	case status := <-done:
		if status != 200 {
			t.Errorf("login: %d", status)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the login did not finish while other requests ran")
	}
	close(stop)
	busy.Wait()
	if b.Identity().User.ID() != a.Identity().User.ID() {
		t.Fatal("the identity was not restored")
	}
}

// TestRelayDownAtStart: a node whose relay does not answer says so, and
// connects once the relay is up.
func TestRelayDownAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a := startAPINodeIn(t, t.TempDir(), "http://"+addr)
	waitFor(t, "the relay's failure in the status", func() bool { return a.relay().Error != nil })
	if s := a.relay(); s.URL == nil || s.Connected || s.Peer != nil {
		t.Fatalf("status of a relay that is down: %+v", s)
	}
	f := startFakeRelayAt(t, addr)
	waitFor(t, "a connected to the relay once it is up", a.relayUp)
	if s := a.relay(); s.Error != nil || s.Peer == nil || *s.Peer != f.host.ID().String() {
		t.Fatalf("status once the relay is up: %+v", s)
	}
}
