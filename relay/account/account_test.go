package account

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/ancore/ancore/relayapi"
	"github.com/prometheus/client_golang/prometheus"
)

// cheapParams make tests fast; TestPasswordHashFormat checks the real ones.
var cheapParams = params{memory: 1024, time: 1, threads: 1}

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

// testRelay is the account routes on an httptest server over a database
// of their own.
type testRelay struct {
	t     *testing.T
	svc   *Service
	store *store.Store
	clock *clock
	url   string
}

// roomy rate limits that tests not about limits never reach.
var roomy = Rate{Burst: 1000, Every: time.Millisecond}

func startRelay(t *testing.T, cfg Config) *testRelay {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	c := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg.Now = c.Now
	for _, r := range []*Rate{&cfg.Register, &cfg.LoginIP, &cfg.LoginEmail, &cfg.InviteResolve} {
		if *r == (Rate{}) {
			*r = roomy
		}
	}
	svc, err := New(st, cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	svc.hasher = newHasher(cheapParams)
	mux := http.NewServeMux()
	svc.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testRelay{t: t, svc: svc, store: st, clock: c, url: srv.URL}
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorCode is the code of an error reply, "" for anything else.
func (r reply) errorCode() string {
	var e httpjson.ErrorBody
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request; body is JSON-encoded unless it is a string or
// []byte, which go as they are.
func (tr *testRelay) do(method, path, token string, body any) reply {
	tr.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
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
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
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

// must sends a request that must answer status, and decodes its body into
// out (if not nil).
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

// mustFail sends a request that must fail with status and code.
func (tr *testRelay) mustFail(status int, code, method, path, token string, body any) reply {
	tr.t.Helper()
	r := tr.do(method, path, token, body)
	if r.status != status || r.errorCode() != code {
		tr.t.Fatalf("%s %s: %d %s, want %d %s", method, path, r.status, r.body, status, code)
	}
	return r
}

func (tr *testRelay) register(email, password string) relayapi.Session {
	tr.t.Helper()
	var s relayapi.Session
	tr.must(201, "POST", "/auth/register", "", map[string]any{"email": email, "password": password}, &s)
	return s
}

func (tr *testRelay) accounts() int {
	tr.t.Helper()
	var n int
	if err := tr.store.Pool().QueryRow(context.Background(), "SELECT count(*) FROM accounts").Scan(&n); err != nil {
		tr.t.Fatal(err)
	}
	return n
}

func checkUnauthorized(t *testing.T, r reply) {
	t.Helper()
	if r.status != 401 || r.errorCode() != "unauthorized" || r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("%d %v %s, want 401 unauthorized with WWW-Authenticate: Bearer", r.status, r.header, r.body)
	}
}

func TestRegisterLoginMe(t *testing.T) {
	tr := startRelay(t, Config{})
	s := tr.register("  Ada@Example.ORG ", "correct horse")
	if s.Account.Email != "ada@example.org" || s.Account.User != "" || s.Account.Identity != "" || s.Account.CreatedAt.IsZero() {
		t.Fatalf("account %+v", s.Account)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(s.Token); err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, %v", s.Token, len(raw), err)
	}
	if want := tr.clock.Now().Add(DefaultSessionLifetime); !s.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want %v", s.ExpiresAt, want)
	}
	if got := counterValue(tr.svc.registrations); got != 1 {
		t.Errorf("registrations counter %v", got)
	}

	var me relayapi.Account
	tr.must(200, "GET", "/auth/me", s.Token, nil, &me)
	if me.Email != "ada@example.org" {
		t.Fatalf("me %+v", me)
	}
	var login relayapi.Session
	tr.must(200, "POST", "/auth/login", "", map[string]any{"email": "ADA@example.org", "password": "correct horse"}, &login)
	if login.Token == "" || login.Token == s.Token || login.Account.Email != "ada@example.org" {
		t.Fatalf("login %+v", login)
	}
	// Both sessions work.
	tr.must(200, "GET", "/auth/me", login.Token, nil, nil)
	tr.must(200, "GET", "/auth/me", s.Token, nil, nil)
	if got := counterValue(tr.svc.logins.WithLabelValues("ok")); got != 1 {
		t.Errorf("ok logins counter %v", got)
	}
	// The store keeps the hash of the token, never the token.
	var n int
	if err := tr.store.Pool().QueryRow(context.Background(),
		"SELECT count(*) FROM sessions WHERE token_hash = $1 OR token_hash = $2", []byte(s.Token), tokenHash(s.Token)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sessions by hash: %d, %v", n, err)
	}
}

func TestRegisterDuplicate(t *testing.T) {
	tr := startRelay(t, Config{})
	tr.register("ada@example.org", "correct horse")
	for _, email := range []string{"ada@example.org", "ADA@EXAMPLE.ORG", " Ada@example.org"} {
		tr.mustFail(409, "email_taken", "POST", "/auth/register", "", map[string]any{"email": email, "password": "another one"})
	}
	if n := tr.accounts(); n != 1 {
		t.Fatalf("%d accounts", n)
	}
}

func TestLoginWrongPassword(t *testing.T) {
	tr := startRelay(t, Config{})
	tr.register("ada@example.org", "correct horse")
	wrong := tr.mustFail(401, "bad_credentials", "POST", "/auth/login", "", map[string]any{"email": "ada@example.org", "password": "wrong horse"})
	unknown := tr.mustFail(401, "bad_credentials", "POST", "/auth/login", "", map[string]any{"email": "bob@example.org", "password": "wrong horse"})
	invalid := tr.mustFail(401, "bad_credentials", "POST", "/auth/login", "", map[string]any{"email": "nobody", "password": "wrong horse"})
	if !bytes.Equal(wrong.body, unknown.body) || !bytes.Equal(wrong.body, invalid.body) {
		t.Errorf("answers differ: %s / %s / %s", wrong.body, unknown.body, invalid.body)
	}
	if got := counterValue(tr.svc.logins.WithLabelValues("failed")); got != 3 {
		t.Errorf("failed logins counter %v", got)
	}
}

// TestLoginBruteForce: failed logins use up the email's bucket, from any
// address; then even the right password waits, and a success refills it.
func TestLoginBruteForce(t *testing.T) {
	tr := startRelay(t, Config{LoginEmail: Rate{Burst: 3, Every: time.Minute}})
	tr.register("ada@example.org", "correct horse")
	guess := func(password string) reply {
		return tr.do("POST", "/auth/login", "", map[string]any{"email": "Ada@example.org", "password": password})
	}
	for i := range 3 {
		if r := guess(fmt.Sprint("guess ", i)); r.status != 401 {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	for _, password := range []string{"guess 3", "correct horse"} {
		r := guess(password)
		if r.status != 429 || r.errorCode() != "rate_limited" || r.header.Get("Retry-After") != "60" {
			t.Fatalf("after 3 failures: %d %v %s, want 429 rate_limited with Retry-After: 60", r.status, r.header, r.body)
		}
	}
	if got := counterValue(tr.svc.loginEmail.limited); got != 2 {
		t.Errorf("rate-limited counter %v", got)
	}
	// Another email is not held up.
	tr.mustFail(401, "bad_credentials", "POST", "/auth/login", "", map[string]any{"email": "bob@example.org", "password": "x"})

	tr.clock.Add(time.Minute)
	tr.must(200, "POST", "/auth/login", "", map[string]any{"email": "ada@example.org", "password": "correct horse"}, nil)
	// The success refilled the bucket.
	for i := range 3 {
		if r := guess(fmt.Sprint("guess ", i)); r.status != 401 {
			t.Fatalf("guess %d after a success: %d %s", i, r.status, r.body)
		}
	}
	if r := guess("guess 4"); r.status != 429 {
		t.Fatalf("fourth failure: %d %s", r.status, r.body)
	}
}

func TestLoginRateLimitPerIP(t *testing.T) {
	tr := startRelay(t, Config{LoginIP: Rate{Burst: 4, Every: 10 * time.Second}})
	for i := range 4 {
		tr.mustFail(401, "bad_credentials", "POST", "/auth/login", "", map[string]any{"email": fmt.Sprintf("u%d@example.org", i), "password": "whatever"})
	}
	r := tr.mustFail(429, "rate_limited", "POST", "/auth/login", "", map[string]any{"email": "u9@example.org", "password": "whatever"})
	if r.header.Get("Retry-After") != "10" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	tr.clock.Add(10 * time.Second)
	tr.mustFail(401, "bad_credentials", "POST", "/auth/login", "", map[string]any{"email": "u9@example.org", "password": "whatever"})
}

func TestRegisterRateLimit(t *testing.T) {
	tr := startRelay(t, Config{Register: Rate{Burst: 2, Every: time.Hour}})
	tr.register("a@example.org", "correct horse")
	// Refused registrations count too: the limit is on attempts.
	tr.mustFail(422, "invalid_email", "POST", "/auth/register", "", map[string]any{"email": "b", "password": "correct horse"})
	r := tr.mustFail(429, "rate_limited", "POST", "/auth/register", "", map[string]any{"email": "c@example.org", "password": "correct horse"})
	if r.header.Get("Retry-After") != "3600" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if n := tr.accounts(); n != 1 {
		t.Fatalf("%d accounts", n)
	}
}

func TestLogout(t *testing.T) {
	tr := startRelay(t, Config{})
	s := tr.register("ada@example.org", "correct horse")
	var other relayapi.Session
	tr.must(200, "POST", "/auth/login", "", map[string]any{"email": "ada@example.org", "password": "correct horse"}, &other)
	tr.must(204, "POST", "/auth/logout", s.Token, nil, nil)
	checkUnauthorized(t, tr.do("GET", "/auth/me", s.Token, nil))
	checkUnauthorized(t, tr.do("POST", "/auth/logout", s.Token, nil))
	checkUnauthorized(t, tr.do("PUT", "/auth/identity", s.Token, map[string]any{"user": "x", "identity": "y"}))
	// Only that session ended.
	tr.must(200, "GET", "/auth/me", other.Token, nil, nil)
}

func TestSessionExpires(t *testing.T) {
	tr := startRelay(t, Config{SessionLifetime: time.Hour})
	s := tr.register("ada@example.org", "correct horse")
	if want := tr.clock.Now().Add(time.Hour); !s.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want %v", s.ExpiresAt, want)
	}
	tr.clock.Add(time.Hour - time.Second)
	tr.must(200, "GET", "/auth/me", s.Token, nil, nil)
	tr.clock.Add(time.Second)
	checkUnauthorized(t, tr.do("GET", "/auth/me", s.Token, nil))
}

func TestUnauthorized(t *testing.T) {
	tr := startRelay(t, Config{})
	s := tr.register("ada@example.org", "correct horse")
	for _, auth := range []string{"", "Bearer", "Bearer ", "Basic " + s.Token, "Bearer " + s.Token + "x",
		"Bearer " + strings.Repeat("a", 4096), s.Token} {
		req, _ := http.NewRequest("GET", tr.url+"/auth/me", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkUnauthorized(t, reply{status: resp.StatusCode, header: resp.Header, body: raw})
	}
	// The scheme is case-insensitive (RFC 9110).
	req, _ := http.NewRequest("GET", tr.url+"/auth/me", nil)
	req.Header.Set("Authorization", "bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("lower-case scheme: %d", resp.StatusCode)
	}
}

var (
	userKey  = crdt.KeyText(bytes.Repeat([]byte{0xab}, 32))
	identity = base64.StdEncoding.EncodeToString([]byte("sealed identity seed"))
)

func TestIdentityBackup(t *testing.T) {
	tr := startRelay(t, Config{})
	s := tr.register("ada@example.org", "correct horse")
	tr.must(204, "PUT", "/auth/identity", s.Token, map[string]any{"user": userKey, "identity": identity}, nil)
	var me relayapi.Account
	tr.must(200, "GET", "/auth/me", s.Token, nil, &me)
	if me.User != userKey || me.Identity != identity {
		t.Fatalf("me after upload: %+v", me)
	}
	// A new device logs in and restores it.
	var login relayapi.Session
	tr.must(200, "POST", "/auth/login", "", map[string]any{"email": "ada@example.org", "password": "correct horse"}, &login)
	if login.Account.User != userKey || login.Account.Identity != identity {
		t.Fatalf("login account %+v", login.Account)
	}
	// Replacing it.
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, MaxIdentityBytes))
	tr.must(204, "PUT", "/auth/identity", s.Token, map[string]any{"user": strings.ToUpper(userKey), "identity": other}, nil)
	tr.must(200, "GET", "/auth/me", s.Token, nil, &me)
	if me.User != userKey || me.Identity != other {
		t.Fatalf("me after replacing: %+v", me)
	}

	// Registering with a backup.
	var withBackup relayapi.Session
	tr.must(201, "POST", "/auth/register", "", map[string]any{"email": "bob@example.org", "password": "correct horse",
		"user": userKey, "identity": identity}, &withBackup)
	if withBackup.Account.User != userKey || withBackup.Account.Identity != identity {
		t.Fatalf("registered with backup: %+v", withBackup.Account)
	}

	tooBig := base64.StdEncoding.EncodeToString(make([]byte, MaxIdentityBytes+1))
	for name, body := range map[string]map[string]any{
		"short key":     {"user": crdt.KeyText(make([]byte, 31)), "identity": identity},
		"not base32":    {"user": "not a key!", "identity": identity},
		"not base64":    {"user": userKey, "identity": "***"},
		"url base64":    {"user": userKey, "identity": base64.RawURLEncoding.EncodeToString([]byte{0xfb, 0xff})},
		"too big":       {"user": userKey, "identity": tooBig},
		"empty box":     {"user": userKey, "identity": ""},
		"no key":        {"identity": identity},
		"missing field": {"user": userKey},
	} {
		t.Run(name, func(t *testing.T) {
			tr.t = t
			tr.mustFail(422, "invalid_identity", "PUT", "/auth/identity", s.Token, body)
			body["email"], body["password"] = "carol@example.org", "correct horse"
			tr.mustFail(422, "invalid_identity", "POST", "/auth/register", "", body)
		})
	}
	tr.t = t
	tr.must(200, "GET", "/auth/me", s.Token, nil, &me)
	if me.Identity != other {
		t.Fatal("a refused upload changed the backup")
	}
	if n := tr.accounts(); n != 2 {
		t.Fatalf("%d accounts", n)
	}
}

// TestRegisterRefused: what is refused answers the right code and stores
// nothing.
func TestRegisterRefused(t *testing.T) {
	tr := startRelay(t, Config{})
	reg := func(email, password string) map[string]any {
		return map[string]any{"email": email, "password": password}
	}
	long := strings.Repeat("a", MaxEmailBytes-len("@example.org")+1) + "@example.org"
	for _, email := range []string{"", "ada", "ada@", "@example.org", "ada@@example.org", "a@b@example.org",
		"Ada <ada@example.org>", "ada@example.org, bob@example.org", "ada example@org", long, "ada@exa mple.org", "\"a@b\"@example.org"} {
		tr.mustFail(422, "invalid_email", "POST", "/auth/register", "", reg(email, "correct horse"))
	}
	for _, password := range []string{"", "short", "1234567", "aaaaaaaaaa", "ééééééééé", "ada@example.org", "ADA@EXAMPLE.ORG",
		strings.Repeat("ab", MaxPasswordBytes/2+1)} {
		tr.mustFail(422, "weak_password", "POST", "/auth/register", "", reg("ada@example.org", password))
	}
	for _, body := range []string{"", "{", "[]", `{"email":"ada@example.org","password":"correct horse","extra":1}`,
		`{"email":"ada@example.org","password":"correct horse"}{}`, `{"email":1}`} {
		tr.mustFail(400, "bad_json", "POST", "/auth/register", "", body)
	}
	big := fmt.Sprintf(`{"email":"ada@example.org","password":"correct horse","identity":"%s"}`, strings.Repeat("A", MaxBodyBytes))
	tr.mustFail(413, "too_large", "POST", "/auth/register", "", big)
	if n := tr.accounts(); n != 0 {
		t.Fatalf("%d accounts stored", n)
	}
	// The longest email and password allowed are fine.
	longest := strings.Repeat("a", MaxEmailBytes-len("@example.org")) + "@example.org"
	tr.register(longest, strings.Repeat("ab", MaxPasswordBytes/2))
	tr.register("ada+tag@mail.example.org", "12345678")
}

func TestLoginRefusesBadBodies(t *testing.T) {
	tr := startRelay(t, Config{})
	tr.mustFail(400, "bad_json", "POST", "/auth/login", "", `{"email":"a@example.org","password":"x","remember":true}`)
	tr.mustFail(413, "too_large", "POST", "/auth/login", "", fmt.Sprintf(`{"email":"a@example.org","password":"%s"}`, strings.Repeat("x", MaxBodyBytes)))
}

func TestPasswordHashFormat(t *testing.T) {
	h := newHasher(defaultParams)
	ctx := context.Background()
	encoded, err := h.hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=65536,t=2,p=2$"
	if !strings.HasPrefix(encoded, prefix) {
		t.Fatalf("hash %q, want prefix %q", encoded, prefix)
	}
	p, salt, key, err := decodeHash(encoded)
	if err != nil || p != defaultParams || len(salt) != saltSize || len(key) != keySize {
		t.Fatalf("decoded %+v, %d-byte salt, %d-byte key, %v", p, len(salt), len(key), err)
	}
	if again, _ := h.hash(ctx, "correct horse"); again == encoded {
		t.Fatal("two hashes share a salt")
	}
	cheap := newHasher(cheapParams)
	for _, c := range []struct {
		password string
		want     bool
	}{{"correct horse", true}, {"correct horsf", false}, {"", false}} {
		// Verification reads the parameters from the hash, not the hasher.
		if ok, err := cheap.verify(ctx, c.password, encoded); err != nil || ok != c.want {
			t.Errorf("verify %q: %v, %v", c.password, ok, err)
		}
	}
	if ok, err := h.verify(ctx, "", h.dummy); err != nil || ok {
		t.Errorf("the dummy hash matched the empty password: %v, %v", ok, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=65536,t=2,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=18$m=65536,t=2,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=99999999,t=2,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=65536,t=0,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=65536,t=2,p=2$!!$a2V5a2V5a2V5a2V5a2V5aw"} {
		if _, err := cheap.verify(ctx, "x", bad); err == nil {
			t.Errorf("verify accepted hash %q", bad)
		}
	}
}

// TestHashingQueues: when every slot is busy, hashing waits, and gives up
// with its context.
func TestHashingQueues(t *testing.T) {
	h := newHasher(cheapParams)
	for range cap(h.slots) {
		h.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := h.hash(ctx, "correct horse")
		done <- err
	}()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("hash with every slot busy: %v", err)
	}
	<-h.slots
	if _, err := h.hash(context.Background(), "correct horse"); err != nil {
		t.Fatal(err)
	}
}
