package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/app"
	"github.com/ancore/ancore/node/relaylink"
	"github.com/ancore/ancore/node/secretstore"
	"github.com/ancore/ancore/node/store"
	"github.com/ancore/ancore/relay"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/ancore/ancore/testwait"
	"github.com/jackc/pgx/v5"
)

// wait is how long the end-to-end tests wait for nodes and the relay to
// get there.
var wait = testwait.Poll{Timeout: 30 * time.Second, Every: 10 * time.Millisecond}

// liveNode is a node running in this process.
type liveNode struct {
	*node.Node
	relay *relaylink.Link
	dir   string
	api   api.Info
	stop  func()
}

// startNode runs a node on dir: loopback only, no LAN discovery, its relay
// session in a file, so that nothing but the relay and the given peers can
// carry ops to it.
func startNode(t *testing.T, dir, relayURL string, bootstrap ...string) *liveNode {
	t.Helper()
	a, err := app.Open(app.Config{
		Node: node.Config{
			DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoLAN: true, Bootstrap: bootstrap,
			Logger: slog.New(slog.DiscardHandler),
		},
		Relay: relaylink.Config{URL: relayURL, Secrets: secretstore.File(filepath.Join(dir, relaylink.SecretsFile))},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := a.Node
	srv, err := a.Listen(api.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	l := &liveNode{Node: n, relay: a.Relay, dir: dir, api: srv.Info()}
	var stopped bool
	l.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node %s: %v", dir, err)
		}
	}
	t.Cleanup(l.stop)
	wait.For(t, "the node to run", n.Running)
	return l
}

func texts(t *testing.T, n *liveNode, channel crdt.ID) []string {
	t.Helper()
	msgs, err := n.Messages(channel, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

// TestOfflineDeliveryThroughRelay is the relay's promise end to end, with
// real nodes and the real relay: A posts while B is offline; A goes
// offline; B comes back and receives everything from the relay alone. The
// relay's tables hold no plaintext. Then A logs in on a new device, which
// restores A's identity, and a short invite code admits a third member
// exactly as many times as it allows.
func TestOfflineDeliveryThroughRelay(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DSN(t)
	rctx, rcancel := context.WithCancel(ctx)
	r, err := relay.New(rctx, relay.Config{DB: db, HTTP: "127.0.0.1:0", Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	relayDone := make(chan error, 1)
	go func() { relayDone <- r.Run(rctx) }()
	t.Cleanup(func() {
		rcancel()
		if err := <-relayDone; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	url := "http://" + r.HTTPAddr()

	dirA, dirB := t.TempDir(), t.TempDir()
	a := startNode(t, dirA, url)
	if err := a.relay.Register(ctx, "ada@example.org", relaytest.Password); err != nil {
		t.Fatal(err)
	}
	community, err := a.CreateCommunity(ctx, "Mill")
	if err != nil {
		t.Fatal(err)
	}
	channel, err := a.CreateChannel(ctx, community, "general", crdt.ChannelText)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.relay.Carry(ctx, community); err != nil {
		t.Fatal(err)
	}
	link, err := a.CreateInvite(ctx, community, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}

	b := startNode(t, dirB, url, a.Addrs()...)
	if _, err := b.Join(ctx, link); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "B to see the channel", func() bool {
		c, err := b.Community(community)
		return err == nil && c.Channels[channel] != nil
	})
	b.stop()

	// A posts while B is away, then leaves too, once the relay holds it all.
	const posts = 25
	var want []string
	for i := range posts {
		text := fmt.Sprintf("the ford is passable after noon, #%d", i)
		if _, err := a.Send(ctx, channel, crdt.Body{Text: text}); err != nil {
			t.Fatal(err)
		}
		want = append(want, text)
	}
	pg, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	wait.For(t, "the relay to hold A's posts", func() bool {
		var n int
		err := pg.QueryRow(ctx, `SELECT count(*) FROM ops WHERE log = $1 AND kind = $2`, channel[:], int(crdt.KindPost)).Scan(&n)
		return err == nil && n == posts
	})
	a.stop()

	// B comes back; only the relay is there to tell it what it missed.
	b = startNode(t, dirB, "")
	wait.For(t, "B to receive every post from the relay", func() bool {
		got := texts(t, b, channel)
		return len(got) == posts && slices.Equal(got, want)
	})
	if peers := b.Peers(); len(peers) != 1 || peers[0] != r.Host().ID() {
		t.Fatalf("B's peers %v: want only the relay %s", peers, r.Host().ID())
	}
	// What B posts now is sent once the relay has it, though B only
	// joined and never asked the relay to carry anything.
	reply, err := b.Send(ctx, channel, crdt.Body{Text: "crossing at noon then"})
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, "B's post sent with only the relay online", func() bool {
		msgs, err := b.Messages(channel, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.ID == reply.ID {
				return !b.Pending(m)
			}
		}
		return false
	})
	want = append(want, "crossing at noon then")

	var leaks int
	if err := pg.QueryRow(ctx, `SELECT count(*) FROM ops WHERE position($1::bytea in raw) > 0`, []byte("ford is passable")).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Fatalf("%d rows of the relay's ops table hold the plaintext", leaks)
	}

	// A's second device: logging in restores A's identity.
	a2 := startNode(t, t.TempDir(), url)
	if a2.Identity().User.ID() == a.Identity().User.ID() {
		t.Fatal("a fresh device already has A's identity")
	}
	if err := a2.relay.Login(ctx, "ada@example.org", "wrong password!"); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if err := a2.relay.Login(ctx, "ada@example.org", relaytest.Password); err != nil {
		t.Fatal(err)
	}
	if a2.Identity().User.ID() != a.Identity().User.ID() {
		t.Fatal("login on a second device did not restore A's identity")
	}
	if a2.Identity().Device.ID() == a.Identity().Device.ID() {
		t.Fatal("the second device took the first device's key")
	}

	// A short invite code from B (a member with a relay session).
	if err := b.relay.Register(ctx, "bea@example.org", relaytest.Password); err != nil {
		t.Fatal(err)
	}
	info := b.api
	var code struct {
		Link string
		Code *string
	}
	if status := relaytest.Call(t, info.URL, "POST", "/api/v1/communities/"+community.String()+"/invites", info.Token,
		map[string]any{"max_uses": 1}, &code); status != 201 || code.Code == nil {
		t.Fatalf("create invite with a code: status %d, code %v", status, code.Code)
	}
	codeLink := code.Link
	c := startNode(t, t.TempDir(), url)
	resolved, err := c.ResolveInviteCode(ctx, strings.ToLower(*code.Code))
	if err != nil || resolved != codeLink {
		t.Fatalf("resolve %s: %q, %v", *code.Code, resolved, err)
	}
	if _, err := c.ResolveInviteCode(ctx, *code.Code); err == nil {
		t.Fatal("a code with one use resolved twice")
	}
	if _, err := c.Join(ctx, resolved); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "C to read the history", func() bool { return slices.Equal(texts(t, c, channel), want) })

	// Revoking an invite revokes its code at the relay too.
	var revocable struct {
		ID   string
		Code *string
	}
	invites := "/api/v1/communities/" + community.String() + "/invites"
	if status := relaytest.Call(t, info.URL, "POST", invites, info.Token, map[string]any{}, &revocable); status != 201 || revocable.Code == nil {
		t.Fatalf("create invite with a code: status %d", status)
	}
	if status := relaytest.Call(t, info.URL, "DELETE", invites+"/"+revocable.ID, info.Token, nil, nil); status != 204 {
		t.Fatalf("revoke invite: status %d", status)
	}
	var gone struct{ Error struct{ Code string } }
	if status := relaytest.Call(t, url, "GET", "/invites/"+*revocable.Code, "", nil, &gone); status != 410 || gone.Error.Code != "revoked" {
		t.Fatalf("the revoked invite's code: status %d, %+v", status, gone)
	}
}
