package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/ancore/ancore/relayapi"
	"github.com/ancore/ancore/testwait"
	"github.com/libp2p/go-libp2p/core/peer"
)

// wait is how long the relay's tests wait for it and its peers to get
// there.
var wait = testwait.Poll{Timeout: 30 * time.Second, Every: 10 * time.Millisecond}

// startRelay runs a relay on loopback over a database of its own.
func startRelay(t testing.TB) *Relay {
	t.Helper()
	return startRelayWith(t, func(*Config) {})
}

// startRelayWith is startRelay with changes to its configuration.
func startRelayWith(t testing.TB, change func(*Config)) *Relay {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{
		DB: pgtest.DSN(t), HTTP: "127.0.0.1:0", Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		TURN:   TURNConfig{Listen: "127.0.0.1:0"},
		Logger: slog.New(slog.DiscardHandler),
	}
	change(&cfg)
	r, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay run: %v", err)
		}
	})
	wait.For(t, "relay HTTP", func() bool {
		resp, err := http.Get("http://" + r.HTTPAddr() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return r
}

func base(r *Relay) string { return "http://" + r.HTTPAddr() }

// syncWith runs a sync session of log (known by its topic name under
// secret) between c and the relay.
func syncWith(c *relaytest.Client, r *Relay, secret []byte, log crdt.ID, l p2p.SyncLog) (p2p.SyncResult, error) {
	ctx := context.Background()
	if err := c.Host.Connect(ctx, peer.AddrInfo{ID: r.host.ID(), Addrs: r.host.Addrs()}); err != nil {
		return p2p.SyncResult{}, err
	}
	return c.Sync.Run(ctx, r.host.ID(), p2p.TopicName(secret, log), l, nil)
}

// TestOfflineDeliveryBlind: a member pushes a community's state and posts
// to the relay; another member, who was never online at the same time,
// fetches everything from the relay alone. The relay's tables hold no
// plaintext, and it refuses ops it cannot authorize.
func TestOfflineDeliveryBlind(t *testing.T) {
	r := startRelay(t)
	token := relaytest.Register(t, base(r), "owner@example.com")
	comm := crdttest.NewCommunity(t, 3)
	owner, member, late := comm.Members[0], comm.Members[1], comm.Members[2]
	secret := []byte("a topic secret of 32 bytes......")

	var carriedResp relayapi.CarriedCommunity
	if code := relaytest.Call(t, base(r), "POST", "/communities", token, relaytest.CarryRequest(comm, secret, member.User), nil); code != http.StatusForbidden {
		t.Fatalf("carry signed by a non-owner: %d, want 403", code)
	}
	if code := relaytest.Call(t, base(r), "POST", "/communities", "", relaytest.CarryRequest(comm, secret, owner.User), nil); code != http.StatusUnauthorized {
		t.Fatalf("carry without a session: %d, want 401", code)
	}
	if code := relaytest.Call(t, base(r), "POST", "/communities", token, relaytest.CarryRequest(comm, secret, owner.User), &carriedResp); code != http.StatusCreated {
		t.Fatalf("carry: %d", code)
	}
	if carriedResp.ID != comm.ID.String() {
		t.Fatalf("carried %q, want %s", carriedResp.ID, comm.ID)
	}

	// The member who was online pushes the state log, then the channel.
	a := relaytest.NewClient(t)
	if _, err := syncWith(a, r, secret, comm.ID, relaytest.NewLog(comm.State...)); err != nil {
		t.Fatal(err)
	}
	const plaintext = "meet at the old mill at nine"
	var posts []*crdt.Op
	for i := range 20 {
		posts = append(posts, member.Post(t, fmt.Sprintf("%s #%d", plaintext, i)).Op)
	}
	// An outsider's post, signed correctly, is refused.
	outsider := crdttest.NewAuthor(t, "x", "y")
	outsider.Community, outsider.Channel, outsider.Key = comm.ID, comm.Channel, owner.Key
	forged := outsider.Post(t, "let me in").Op
	wait.For(t, "the relay to carry the channel", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		_, ok := r.handles[p2p.TopicName(secret, comm.Channel)]
		return ok
	})
	if _, err := syncWith(a, r, secret, comm.Channel, relaytest.NewLog(append(posts, forged)...)); err != nil {
		t.Fatal(err)
	}
	a.Host.Close()

	// The late member comes back and learns everything from the relay.
	b := relaytest.NewClient(t)
	state, channel := relaytest.NewLog(), relaytest.NewLog()
	if _, err := syncWith(b, r, secret, comm.ID, state); err != nil {
		t.Fatal(err)
	}
	if _, err := syncWith(b, r, secret, comm.Channel, channel); err != nil {
		t.Fatal(err)
	}
	if state.Len() != len(comm.State) {
		t.Fatalf("state log: got %d ops, want %d", state.Len(), len(comm.State))
	}
	if channel.Len() != len(posts) || channel.Get(forged.ID) != nil {
		t.Fatalf("channel: got %d ops (forged kept: %v), want the %d posts", channel.Len(), channel.Get(forged.ID) != nil, len(posts))
	}
	for _, p := range posts {
		got := channel.Get(p.ID)
		if got == nil {
			t.Fatalf("post %s missing", p.ID)
		}
		body, err := got.Open(late.Keyring())
		if err != nil {
			t.Fatalf("open post: %v", err)
		}
		if !bytes.Contains([]byte(body.Text), []byte(plaintext)) {
			t.Fatalf("post text %q", body.Text)
		}
	}

	// The relay stores ciphertext only.
	var leaks int
	if err := r.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM ops WHERE position($1::bytea in raw) > 0`, []byte(plaintext)).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Fatalf("%d stored ops hold the plaintext", leaks)
	}

	// Syncing with the wrong handle learns nothing.
	if _, err := syncWith(b, r, []byte("guessed secret"), comm.Channel, relaytest.NewLog()); !errors.Is(err, p2p.ErrSyncRefused) {
		t.Fatalf("sync with a guessed handle: %v, want refused", err)
	}
}
