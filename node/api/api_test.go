package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/nodetest"
	"github.com/ancore/ancore/node/picture"
	"github.com/ancore/ancore/node/preview"
	"github.com/ancore/ancore/node/relaylink"
	"github.com/ancore/ancore/node/secretstore"
	"github.com/ancore/ancore/node/store"
	"github.com/gorilla/websocket"
)

// apiNode is a node driven only through its HTTP API, with its features.
type apiNode struct {
	*nodetest.Live
	link  *relaylink.Link
	t     *testing.T
	url   string
	token string
}

func startAPINode(t *testing.T) *apiNode {
	t.Helper()
	return startAPINodeIn(t, t.TempDir(), "")
}

// startAPINodeIn starts a node with an API on data folder dir, linked to
// the relay at relayURL (none if empty).
func startAPINodeIn(t *testing.T, dir, relayURL string) *apiNode {
	t.Helper()
	return startServed(t, dir, relayURL, Config{})
}

// testLink is a node's relay link in tests: its session in DATA/relay.json
// (never in the keyring of the machine running the tests).
func testLink(dir, relayURL string) *relaylink.Link {
	return relaylink.New(relaylink.Config{URL: relayURL, Secrets: secretstore.File(filepath.Join(dir, relaylink.SecretsFile))})
}

// openNode builds a node on dir with its relay link, as the programs do.
func openNode(t *testing.T, dir, relayURL string) (*node.Node, *relaylink.Link, error) {
	t.Helper()
	link := testLink(dir, relayURL)
	cfg := nodetest.Config(dir)
	cfg.HostOptions = link.HostOptions()
	n, err := node.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := link.Open(n, slog.New(slog.DiscardHandler)); err != nil {
		stop(t, n)
		return nil, nil, err
	}
	return n, link, nil
}

// testPreviews attaches the invite preview feature to n.
func testPreviews(t *testing.T, n *node.Node) *preview.Preview {
	t.Helper()
	p := preview.New()
	if err := p.Open(n, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return p
}

// startServed starts a node on dir with its relay link and the API
// served as api says (on loopback, whatever its Addr).
func startServed(t *testing.T, dir, relayURL string, api Config) *apiNode {
	t.Helper()
	n, link, err := openNode(t, dir, relayURL)
	if err != nil {
		t.Fatal(err)
	}
	previews := testPreviews(t, n)
	api.Addr, api.Logger = "127.0.0.1:0", slog.New(slog.DiscardHandler)
	api.Features, api.Carried, api.RelayNetwork = []Feature{link, previews}, link.Carried, func() any { return link.Network() }
	srv, err := Listen(n, api)
	if err != nil {
		t.Fatal(err)
	}
	l := nodetest.Run(t, n, srv.Serve, link.Run, previews.Run)
	raw, err := os.ReadFile(filepath.Join(dir, APIFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, APIFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v", APIFile, fi.Mode().Perm())
	}
	var info Info
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	if info != srv.Info() {
		t.Errorf("%s holds %+v, the server says %+v", APIFile, info, srv.Info())
	}
	return &apiNode{Live: l, link: link, t: t, url: info.URL, token: info.Token}
}

// stop runs n with a finished context, which closes it.
func stop(t *testing.T, n *node.Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Error(err)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	nodetest.Wait.For(t, what, cond)
}

// send makes a request as the API's user, with in as its JSON body (if
// not nil) and header's fields, and returns the answer and its body,
// validated against the document.
func (a *apiNode) send(method, path string, in any, header http.Header) (*http.Response, []byte) {
	a.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			a.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.url+"/api/v1"+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	validateResponse(a.t, req, resp, raw)
	return resp, raw
}

// call makes a request and decodes a JSON answer into out (if not nil);
// it returns the status.
func (a *apiNode) call(method, path string, in, out any) int {
	a.t.Helper()
	resp, raw := a.send(method, path, in, nil)
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" {
			a.t.Errorf("%s %s: status %d without a JSON error: %s", method, path, resp.StatusCode, raw)
		}
	}
	if out != nil && resp.StatusCode < 300 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// must makes a request that must answer want.
func (a *apiNode) must(want int, method, path string, in, out any) {
	a.t.Helper()
	if got := a.call(method, path, in, out); got != want {
		a.t.Fatalf("%s %s: status %d, want %d", method, path, got, want)
	}
}

func (a *apiNode) messages(channel, query string) []MessageJSON {
	a.t.Helper()
	var out []MessageJSON
	a.must(http.StatusOK, "GET", "/channels/"+channel+"/messages"+query, nil, &out)
	return out
}

func texts2(ms []MessageJSON) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// TestAPIFlow drives three nodes through their APIs only: profiles, a
// community with channels, an invite, joins, messages with edits,
// deletes, reactions and paging, and a kick.
func TestAPIFlow(t *testing.T) {
	a, b, c := startAPINode(t), startAPINode(t), startAPINode(t)
	var me MeJSON
	a.must(200, "PATCH", "/me", map[string]any{"name": "Alice", "status": "dnd"}, &me)
	if me.Name != "Alice" || me.Status != "dnd" {
		t.Fatalf("me: %+v", me)
	}
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Friends"}, &comm)
	if comm.Name != "Friends" || len(comm.Channels) != 1 || comm.Channels[0].Name != "general" {
		t.Fatalf("community: %+v", comm)
	}
	general := comm.Channels[0].ID
	var voice ChannelJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/channels", map[string]any{"name": "lounge", "type": "voice", "topic": "talk"}, &voice)
	if voice.Type != "voice" || voice.Topic != "talk" {
		t.Fatalf("channel: %+v", voice)
	}
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{"max_uses": 5}, &inv)
	if !strings.HasPrefix(inv.Link, "ancore://invite/") || inv.ExpiresAt == nil || inv.MaxUses != 5 {
		t.Fatalf("invite: %+v", inv)
	}

	for _, n := range []*apiNode{b, c} {
		var joined CommunityJSON
		n.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, &joined)
		if joined.ID != comm.ID {
			t.Fatalf("joined %s, want %s", joined.ID, comm.ID)
		}
	}
	b.must(200, "PATCH", "/me", map[string]any{"name": "Bob"}, nil)
	for _, n := range []*apiNode{b, c} {
		waitFor(t, "joiner sees the channels", func() bool {
			var got CommunityJSON
			return n.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && len(got.Channels) == 2 && got.Name == "Friends"
		})
	}

	// Every node's event stream sees what the others do.
	streams := map[*apiNode]*eventStream{a: a.events(0), b: b.events(0), c: c.events(0)}
	othersSee := func(from *apiNode, typ string, match func(json.RawMessage) bool) {
		t.Helper()
		for n, s := range streams {
			if n != from {
				s.await(typ, match)
			}
		}
	}

	// Messages: a post from each, an edit, a reaction, a delete.
	var m1, m2, m3 MessageJSON
	a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "hi from alice"}, &m1)
	othersSee(a, "message:new", textIs("hi from alice"))
	b.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "hi from bob", "reply_to": m1.ID}, &m2)
	othersSee(b, "message:new", textIs("hi from bob"))
	c.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "hi from carol"}, &m3)
	othersSee(c, "message:new", textIs("hi from carol"))
	a.must(200, "PATCH", "/messages/"+m1.ID, map[string]any{"text": "hi from alice (edited)"}, nil)
	othersSee(a, "message:update", textIs("hi from alice (edited)"))
	b.must(204, "PUT", "/messages/"+m1.ID+"/reactions/"+url.PathEscape("👍"), nil, nil)
	othersSee(b, "reaction:add", nil)
	c.must(204, "DELETE", "/messages/"+m3.ID, nil, nil)
	othersSee(c, "message:delete", nil)
	c.must(204, "POST", "/channels/"+general+"/typing", nil, nil)
	othersSee(c, "user:typing", nil)
	b.must(200, "PATCH", "/me", map[string]any{"status": "idle"}, nil)
	othersSee(b, "user:presence", func(d json.RawMessage) bool {
		var e node.PresenceEvent
		return json.Unmarshal(d, &e) == nil && e.Status == "idle"
	})
	if got := b.call("DELETE", "/messages/"+m1.ID, nil, nil); got != http.StatusForbidden {
		t.Fatalf("a member without manage-messages deleted another's message: %d", got)
	}
	for _, n := range []*apiNode{a, b, c} {
		waitFor(t, "everyone converges", func() bool {
			ms := n.messages(general, "")
			return len(ms) == 2 && ms[0].Text == "hi from alice (edited)" && ms[0].EditedAt != nil &&
				len(ms[0].Reactions) == 1 && ms[0].Reactions[0].Emoji == "👍" && ms[1].ReplyTo == m1.ID
		})
	}

	// Paging.
	for i := range 10 {
		a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": fmt.Sprint("n", i)}, nil)
	}
	all := a.messages(general, "?limit=100")
	if len(all) != 12 {
		t.Fatalf("%d messages", len(all))
	}
	if got := texts2(a.messages(general, "?limit=3")); fmt.Sprint(got) != "[n7 n8 n9]" {
		t.Errorf("latest 3: %v", got)
	}
	if got := texts2(a.messages(general, "?limit=2&before="+all[5].ID)); fmt.Sprint(got) != "[n1 n2]" {
		t.Errorf("before: %v", got)
	}
	if got := texts2(a.messages(general, "?limit=2&after="+all[5].ID)); fmt.Sprint(got) != "[n4 n5]" {
		t.Errorf("after: %v", got)
	}
	if got := texts2(a.messages(general, "?limit=3&around="+all[5].ID)); fmt.Sprint(got) != "[n2 n3 n4]" {
		t.Errorf("around: %v", got)
	}

	// Members, and a kick.
	var members []MemberJSON
	a.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
	if len(members) != 3 {
		t.Fatalf("%d members", len(members))
	}
	var cme MeJSON
	c.must(200, "GET", "/me", nil, &cme)
	waitFor(t, "a sees bob's name", func() bool {
		a.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
		for _, m := range members {
			if m.Name == "Bob" {
				return true
			}
		}
		return false
	})
	a.must(204, "POST", "/communities/"+comm.ID+"/members/"+cme.User+"/kick", nil, nil)
	for _, n := range []*apiNode{b, c} {
		waitFor(t, "the kick reaches everyone", func() bool {
			n.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
			for _, m := range members {
				if m.User == cme.User {
					return m.State == "kicked"
				}
			}
			return false
		})
	}
	if got := c.call("POST", "/channels/"+general+"/messages", map[string]any{"text": "still here?"}, nil); got < 400 {
		t.Fatalf("a kicked member posted: %d", got)
	}
	var network NetworkJSON
	a.must(200, "GET", "/network", nil, &network)
	if len(network.Peers) == 0 || network.PeerID == "" {
		t.Fatalf("network: %+v", network)
	}
}

// TestAPIStatusText: a custom status set before joining and one set
// after reach the other members, sealed in the profile like the name; bad
// status texts change nothing.
func TestAPIStatusText(t *testing.T) {
	a, b := startAPINode(t), startAPINode(t)
	var bme MeJSON
	b.must(200, "PATCH", "/me", map[string]any{"status_text": "new here"}, &bme)
	if bme.StatusText != "new here" || bme.Name != "" {
		t.Fatalf("me: %+v", bme)
	}
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Status"}, &comm)
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	waitFor(t, "b has the community's state", func() bool {
		var got CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && got.Member && got.Name == "Status"
	})
	statusText := func(n *apiNode, user string) string {
		var members []MemberJSON
		n.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
		for _, m := range members {
			if m.User == user {
				return m.StatusText
			}
		}
		return "(no member)"
	}
	waitFor(t, "a sees the status b set before joining", func() bool { return statusText(a, bme.User) == "new here" })

	var ame MeJSON
	a.must(200, "GET", "/me", nil, &ame)
	events := b.events(0)
	longest := strings.Repeat("é", crdt.MaxStatusTextLen)
	a.must(200, "PATCH", "/me", map[string]any{"name": "Alice", "status_text": longest}, nil)
	e := events.await("member:update", func(d json.RawMessage) bool {
		var m MemberEvent
		return json.Unmarshal(d, &m) == nil && m.Member.User == ame.User && m.Member.StatusText == longest
	})
	validateEvent(t, e)
	waitFor(t, "b sees a's status", func() bool { return statusText(b, ame.User) == longest })

	for _, bad := range []map[string]any{
		{"status_text": longest + "é"},
		{"status_text": "two\nlines"},
		{"status_text": "bell\a"},
		{"name": "Zed", "status_text": "tab\there"},
		{"status": "idle", "status_text": "del\x7f"},
	} {
		if status := a.call("PATCH", "/me", bad, nil); status != 422 {
			t.Errorf("PATCH /me %q: status %d, want 422", bad, status)
		}
	}
	a.must(400, "PATCH", "/me", map[string]any{"status_text": 5}, nil)
	a.must(200, "GET", "/me", nil, &ame)
	if ame.Name != "Alice" || ame.StatusText != longest || ame.Status != "online" {
		t.Fatalf("bad status texts changed me: %+v", ame)
	}

	a.must(200, "PATCH", "/me", map[string]any{"status_text": ""}, nil)
	waitFor(t, "b sees a's status cleared", func() bool { return statusText(b, ame.User) == "" })
	var members []MemberJSON
	b.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
	for _, m := range members {
		if m.User == ame.User && m.Name != "Alice" {
			t.Fatalf("clearing the status lost the name: %+v", m)
		}
	}
}

// TestAPISecurity: the guard and input checks of the local API.
// TestAPIMyRoles: a community shows the roles the local user holds (what
// the UI matches role mentions against), and none to a non-member.
func TestAPIMyRoles(t *testing.T) {
	a, b := startAPINode(t), startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Roles"}, &comm)
	if comm.MyRoles == nil || len(comm.MyRoles) != 0 {
		t.Fatalf("the owner holds no role yet: %#v", comm.MyRoles)
	}
	var role RoleJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/roles", map[string]any{"name": "mods", "position": 1}, &role)
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	var me MeJSON
	b.must(200, "GET", "/me", nil, &me)
	waitFor(t, "a sees b join", func() bool {
		return a.call("PUT", "/communities/"+comm.ID+"/members/"+me.User+"/roles", map[string]any{"roles": []string{role.ID}}, nil) == http.StatusNoContent
	})
	waitFor(t, "b holds the role", func() bool {
		var got CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && slices.Equal(got.MyRoles, []string{role.ID})
	})
	a.must(200, "GET", "/communities/"+comm.ID, nil, &comm)
	if len(comm.MyRoles) != 0 {
		t.Fatalf("the owner was given no role: %v", comm.MyRoles)
	}
	b.must(204, "POST", "/communities/"+comm.ID+"/leave", nil, nil)
	var left CommunityJSON
	if b.call("GET", "/communities/"+comm.ID, nil, &left) == 200 && len(left.MyRoles) != 0 {
		t.Fatalf("a former member still shows roles: %v", left.MyRoles)
	}
}

// TestAPILimits: GET /limits answers the limits the handlers check, and a
// message or name at a limit is taken while one over it is refused.
func TestAPILimits(t *testing.T) {
	a := startAPINode(t)
	var got LimitsJSON
	a.must(200, "GET", "/limits", nil, &got)
	want := LimitsJSON{MessageText: crdt.MaxTextLen, Mentions: crdt.MaxMentions, EmojiBytes: crdt.MaxEmojiBytes,
		Name: crdt.MaxNameLen, StatusText: crdt.MaxStatusTextLen, Topic: crdt.MaxTopicLen, IconBytes: crdt.MaxIconSize,
		AvatarBytes: crdt.MaxAvatarSize, PictureBytes: picture.MaxInputBytes, PicturePixels: picture.MaxPixels,
		MemberRoles: crdt.MaxRoles, Page: store.MaxPageLimit, InviteTTLSeconds: 10 * 365 * 24 * 3600, RequestBytes: MaxBody}
	if got != want {
		t.Fatalf("limits %+v, want %+v", got, want)
	}

	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": strings.Repeat("é", got.Name)}, &comm)
	a.must(422, "POST", "/communities", map[string]any{"name": strings.Repeat("é", got.Name+1)}, nil)
	general := "/channels/" + comm.Channels[0].ID + "/messages"
	a.must(201, "POST", general, map[string]any{"text": strings.Repeat("é", got.MessageText)}, nil)
	a.must(422, "POST", general, map[string]any{"text": strings.Repeat("é", got.MessageText+1)}, nil)
	a.must(200, "GET", general+fmt.Sprintf("?limit=%d", got.Page), nil, nil)
	a.must(400, "GET", general+fmt.Sprintf("?limit=%d", got.Page+1), nil, nil)
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{"ttl_seconds": got.InviteTTLSeconds}, nil)
	a.must(422, "POST", "/communities/"+comm.ID+"/invites", map[string]any{"ttl_seconds": got.InviteTTLSeconds + 1}, nil)
}

func TestAPISecurity(t *testing.T) {
	a := startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Mine"}, &comm)
	do := func(method, path, body string, edit func(*http.Request)) int {
		t.Helper()
		req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+a.token)
		if edit != nil {
			edit(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s %s: no %s header", method, path, h)
			}
		}
		return resp.StatusCode
	}
	big := `{"name":"` + strings.Repeat("x", 10<<20) + `"}`
	cases := []struct {
		name         string
		method, path string
		body         string
		edit         func(*http.Request)
		want         int
	}{
		{"no token", "GET", "/api/v1/me", "", func(r *http.Request) { r.Header.Del("Authorization") }, 401},
		{"wrong token", "GET", "/api/v1/me", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401},
		{"token in query without upgrade", "GET", "/api/v1/me?token=" + a.token, "", func(r *http.Request) { r.Header.Del("Authorization") }, 401},
		{"foreign host", "GET", "/api/v1/me", "", func(r *http.Request) { r.Host = "evil.example:80" }, 403},
		{"cross-site origin", "GET", "/api/v1/me", "", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, 403},
		{"same origin", "GET", "/api/v1/me", "", func(r *http.Request) { r.Header.Set("Origin", a.url) }, 200},
		{"10 MiB body", "POST", "/api/v1/communities", big, nil, 413},
		{"broken JSON", "POST", "/api/v1/communities", `{"name":`, nil, 400},
		{"unknown field", "POST", "/api/v1/communities", `{"name":"x","admin":true}`, nil, 400},
		{"empty name", "POST", "/api/v1/communities", `{"name":""}`, nil, 422},
		{"unknown community", "GET", "/api/v1/communities/bafireiglnrqnntofx34uhrfj5jhzymknoepm27clpimen5mugsik2gxrfu", "", nil, 404},
		{"not an id", "GET", "/api/v1/communities/nonsense", "", nil, 404},
		{"unknown channel", "GET", "/api/v1/channels/" + comm.ID + "/messages", "", nil, 404},
		{"unknown route", "GET", "/api/v1/nothing", "", nil, 404},
		{"bad limit", "GET", "/api/v1/channels/" + comm.Channels[0].ID + "/messages?limit=1000", "", nil, 400},
		{"two anchors", "GET", "/api/v1/channels/" + comm.Channels[0].ID + "/messages?before=" + comm.ID + "&after=" + comm.ID, "", nil, 400},
		{"bad invite", "POST", "/api/v1/communities/join", `{"invite":"ancore://invite/zzz"}`, nil, 422},
		{"empty message", "POST", "/api/v1/channels/" + comm.Channels[0].ID + "/messages", `{"text":""}`, nil, 422},
	}
	for _, tc := range cases {
		if got := do(tc.method, tc.path, tc.body, tc.edit); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	// Nothing bad reached the store.
	var list []CommunityJSON
	a.must(200, "GET", "/communities", nil, &list)
	if len(list) != 1 {
		t.Fatalf("%d communities after bad requests", len(list))
	}
}

// eventStream is a WebSocket client of a node's event stream.
type eventStream struct {
	t    *testing.T
	conn *websocket.Conn
	last uint64
}

func (a *apiNode) events(since uint64) *eventStream {
	a.t.Helper()
	u := strings.Replace(a.url, "http://", "ws://", 1) + "/api/v1/events?token=" + a.token + "&since=" + fmt.Sprint(since)
	conn, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {a.url}})
	if err != nil {
		a.t.Fatalf("events: %v (%v)", err, resp)
	}
	a.t.Cleanup(func() { conn.Close() })
	s := &eventStream{t: a.t, conn: conn}
	if hello := s.next(); hello.Type != "hello" {
		a.t.Fatalf("stream opened with %q", hello.Type)
	}
	return s
}

type eventJSON struct {
	Type string          `json:"type"`
	Seq  uint64          `json:"seq"`
	Data json.RawMessage `json:"data"`
}

func (s *eventStream) next() eventJSON {
	s.t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var e eventJSON
	if err := s.conn.ReadJSON(&e); err != nil {
		s.t.Fatalf("event stream: %v", err)
	}
	if e.Type != "hello" && e.Type != "resync" {
		if e.Seq != s.last+1 && s.last != 0 {
			s.t.Fatalf("event %d after %d", e.Seq, s.last)
		}
		s.last = e.Seq
	}
	return e
}

// await reads events until one of type typ satisfies match.
func (s *eventStream) await(typ string, match func(json.RawMessage) bool) eventJSON {
	s.t.Helper()
	for {
		e := s.next()
		if e.Type == typ && (match == nil || match(e.Data)) {
			return e
		}
	}
}

func textIs(text string) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var m MessageJSON
		return json.Unmarshal(d, &m) == nil && m.Text == text
	}
}

// TestAPIEvents: a second node's stream shows a joiner, messages, edits,
// reactions and deletes as they happen; a reconnect with the last seq
// gets exactly what was missed.
func TestAPIEvents(t *testing.T) {
	a, b := startAPINode(t), startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Events"}, &comm)
	general := comm.Channels[0].ID
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	sa := a.events(0)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	var bme MeJSON
	b.must(200, "GET", "/me", nil, &bme)
	sa.await("member:join", func(d json.RawMessage) bool {
		var e MemberEvent
		return json.Unmarshal(d, &e) == nil && e.Member.User == bme.User
	})
	waitFor(t, "b sees general", func() bool {
		var got CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && len(got.Channels) == 1
	})

	sb := b.events(0)
	var m MessageJSON
	a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "ping"}, &m)
	sb.await("message:new", textIs("ping"))
	a.must(200, "PATCH", "/messages/"+m.ID, map[string]any{"text": "pong"}, nil)
	sb.await("message:update", textIs("pong"))
	a.must(204, "PUT", "/messages/"+m.ID+"/reactions/"+url.PathEscape("🎉"), nil, nil)
	sb.await("reaction:add", func(d json.RawMessage) bool {
		var r node.ReactionEvent
		return json.Unmarshal(d, &r) == nil && r.Emoji == "🎉" && r.Message == m.ID
	})

	// b's client goes away; three things happen; it comes back with its
	// last seq and gets exactly those.
	last := sb.last
	sb.conn.Close()
	var m2 MessageJSON
	a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "while away"}, &m2)
	a.must(204, "DELETE", "/messages/"+m.ID+"/reactions/"+url.PathEscape("🎉"), nil, nil)
	a.must(204, "DELETE", "/messages/"+m.ID, nil, nil)
	waitFor(t, "b has the delete", func() bool {
		ms := b.messages(general, "")
		return len(ms) == 1 && ms[0].Text == "while away"
	})
	again := b.events(last)
	// In the order b's node had them: gossip and the sync a pending op
	// asks for may bring a's three ops in any order.
	want := []string{"message:delete", "message:new", "reaction:remove"}
	var got []string
	for len(got) < len(want) {
		e := again.next()
		if e.Seq != last+uint64(len(got))+1 {
			t.Fatalf("missed event %d has seq %d", len(got), e.Seq)
		}
		got = append(got, e.Type)
	}
	if slices.Sort(got); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("missed events %v, want %v in any order", got, want)
	}
	// A seq this node never issued means: refetch.
	u := strings.Replace(b.url, "http://", "ws://", 1) + "/api/v1/events?token=" + b.token + "&since=999999"
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var hello, resync eventJSON
	if conn.ReadJSON(&hello) != nil || conn.ReadJSON(&resync) != nil || resync.Type != "resync" {
		t.Fatalf("too new a seq: %+v %+v", hello, resync)
	}
	// Without the token, no stream.
	u = strings.Replace(b.url, "http://", "ws://", 1) + "/api/v1/events"
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp.StatusCode != 401 {
		t.Fatalf("a stream without token: %v", err)
	}
}

// TestAPIPresenceAndTyping: statuses and typing reach the other node's
// stream and member list; invisible shows as offline.
func TestAPIPresenceAndTyping(t *testing.T) {
	a, b := startAPINode(t), startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Presence"}, &comm)
	general := comm.Channels[0].ID
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	var ame MeJSON
	a.must(200, "GET", "/me", nil, &ame)
	statusOnB := func() string {
		var members []MemberJSON
		b.must(200, "GET", "/communities/"+comm.ID+"/members", nil, &members)
		for _, m := range members {
			if m.User == ame.User {
				return m.Status
			}
		}
		return ""
	}
	sb := b.events(0)
	waitFor(t, "b sees a online", func() bool { return statusOnB() == "online" })

	a.must(200, "PATCH", "/me", map[string]any{"status": "idle"}, nil)
	sb.await("user:presence", func(d json.RawMessage) bool {
		var e node.PresenceEvent
		return json.Unmarshal(d, &e) == nil && e.User == ame.User && e.Status == "idle"
	})
	if s := statusOnB(); s != "idle" {
		t.Fatalf("a is %q on b", s)
	}
	a.must(200, "PATCH", "/me", map[string]any{"status": "invisible"}, nil)
	sb.await("user:presence", func(d json.RawMessage) bool {
		var e node.PresenceEvent
		return json.Unmarshal(d, &e) == nil && e.User == ame.User && e.Status == "offline"
	})
	if got := a.call("PATCH", "/me", map[string]any{"status": "sleeping"}, nil); got != 422 {
		t.Fatalf("unknown status: %d", got)
	}

	waitFor(t, "b replicates general", func() bool {
		return b.call("GET", "/channels/"+general+"/messages", nil, nil) == 200
	})
	a.must(204, "POST", "/channels/"+general+"/typing", nil, nil)
	e := sb.await("user:typing", nil)
	var typing node.TypingEvent
	if err := json.Unmarshal(e.Data, &typing); err != nil || typing.User != ame.User || typing.Channel != general ||
		time.Until(typing.Until) <= 0 || time.Until(typing.Until) > node.TypingTTL+time.Second {
		t.Fatalf("typing event %+v (%v)", typing, err)
	}
}

// TestUIBesideTheAPI: the UI's page loads without the token (the page
// reads it from its URL's fragment) but with the Host, Origin and header
// checks; the API beside it still needs the token.
func TestUIBesideTheAPI(t *testing.T) {
	dir := t.TempDir()
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>ui</html>") })
	a := startServed(t, dir, "", Config{UI: ui})
	info := Info{URL: a.url, Token: a.token}
	if !strings.HasSuffix(info.OpenURL(), "/#token="+info.Token) {
		t.Fatalf("open URL %q", info.OpenURL())
	}
	get := func(path string, edit func(*http.Request)) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", info.URL+path, nil)
		if edit != nil {
			edit(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, h := get("/", nil); code != 200 || body != "<html>ui</html>" || h.Get("Content-Security-Policy") == "" {
		t.Fatalf("UI: %d %q", code, body)
	}
	if code, _, _ := get("/", func(r *http.Request) { r.Host = "evil.example" }); code != 403 {
		t.Fatalf("UI for a foreign host: %d", code)
	}
	if code, _, _ := get("/api/v1/me", nil); code != 401 {
		t.Fatalf("API without token beside the UI: %d", code)
	}
}

// TestNoRelayLink: an API wired without a relay link answers what needs
// one with no_relay, and shows no relay in GET /network.
func TestNoRelayLink(t *testing.T) {
	dir := t.TempDir()
	n, err := node.New(nodetest.Config(dir))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(n, Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	a := &apiNode{Live: nodetest.Run(t, n, srv.Serve), t: t, url: srv.Info().URL, token: srv.Info().Token}
	if got := a.call("POST", "/communities/join", map[string]any{"invite": "ABCD-EFGH"}, nil); got != http.StatusConflict {
		t.Fatalf("join by code without a relay link: %d, want 409", got)
	}
	var network struct {
		Relay struct {
			URL       *string
			Connected bool
			Peer      *string
		}
	}
	a.must(200, "GET", "/network", nil, &network)
	if network.Relay.URL != nil || network.Relay.Connected || network.Relay.Peer != nil {
		t.Fatalf("a relay without a relay link: %+v", network.Relay)
	}
}

// TestAPIDissolved: a dissolved community reads as dissolved: its routes
// answer 410 dissolved, it leaves the list, and members are told by a
// community:update that says so.
func TestAPIDissolved(t *testing.T) {
	a, b := startAPINode(t), startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Doomed"}, &comm)
	general := comm.Channels[0].ID
	var inv InviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	waitFor(t, "b sees the channel", func() bool {
		var got CommunityJSON
		return b.call("GET", "/communities/"+comm.ID, nil, &got) == 200 && len(got.Channels) == 1
	})
	events := b.events(0)
	a.must(204, "DELETE", "/communities/"+comm.ID, nil, nil)
	events.await("community:update", func(d json.RawMessage) bool {
		var c CommunityJSON
		return json.Unmarshal(d, &c) == nil && c.ID == comm.ID && c.Dissolved && c.Name == "Doomed"
	})
	for _, n := range []*apiNode{a, b} {
		waitFor(t, "the community reads as dissolved", func() bool {
			return n.call("GET", "/communities/"+comm.ID, nil, nil) == http.StatusGone
		})
		var e struct{ Error struct{ Code string } }
		if got := n.call("GET", "/communities/"+comm.ID+"/channels", nil, nil); got != http.StatusGone {
			t.Fatalf("channels of a dissolved community: %d", got)
		}
		if got := n.call("POST", "/channels/"+general+"/messages", map[string]any{"text": "anyone?"}, nil); got != http.StatusGone {
			t.Fatalf("a post to a dissolved community: %d", got)
		}
		if got := rawCall(t, n, "GET", "/communities/"+comm.ID, &e); got != http.StatusGone || e.Error.Code != "dissolved" {
			t.Fatalf("GET a dissolved community: %d %q", got, e.Error.Code)
		}
		var list []CommunityJSON
		n.must(200, "GET", "/communities", nil, &list)
		if len(list) != 0 {
			t.Fatalf("a dissolved community is still listed: %+v", list)
		}
	}
}

// rawCall makes a request and decodes any JSON answer, errors included.
func rawCall(t *testing.T, n *apiNode, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, n.url+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}
