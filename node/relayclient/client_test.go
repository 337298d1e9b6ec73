package relayclient

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestParseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://relay.example.org":       "http://relay.example.org",
		"https://relay.example.org/":     "https://relay.example.org",
		" http://127.0.0.1:8080/ancore/": "http://127.0.0.1:8080/ancore",
		"http://[::1]:8080":              "http://[::1]:8080",
	} {
		if got, err := ParseURL(in); err != nil || got != want {
			t.Errorf("ParseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "relay.example.org", "ftp://relay.example.org", "http://", "http://:8080",
		"http://user:pw@relay.example.org", "http://relay.example.org/?x=1", "http://relay.example.org/#top",
		"http://relay.example.org/?", "http://\x00"} {
		if got, err := ParseURL(in); !errors.Is(err, ErrBadURL) {
			t.Errorf("ParseURL(%q) = %q, %v; want ErrBadURL", in, got, err)
		}
	}
}

func testPeer(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestInfoAddrInfo(t *testing.T) {
	id, other := testPeer(t), testPeer(t)
	info := Info{Peer: id.String(), Addrs: []string{
		"/ip4/127.0.0.1/tcp/4001/p2p/" + id.String(),
		"/ip4/127.0.0.1/udp/4001/quic-v1/p2p/" + id.String(),
		"/ip4/10.0.0.1/tcp/4001/p2p/" + other.String(), // not the relay's
		"/ip4/10.0.0.1/tcp/4001",                       // no peer
		"garbage",
	}}
	pi, err := info.AddrInfo()
	if err != nil {
		t.Fatal(err)
	}
	if pi.ID != id || len(pi.Addrs) != 2 {
		t.Fatalf("AddrInfo: %v", pi)
	}
	for _, bad := range []Info{{Peer: "nope", Addrs: info.Addrs}, {Peer: id.String(), Addrs: info.Addrs[2:]}, {Peer: id.String()}} {
		if _, err := bad.AddrInfo(); !errors.Is(err, ErrBadAnswer) {
			t.Errorf("AddrInfo(%v): %v", bad, err)
		}
	}
}

func TestErrorAnswers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":{"code":"rate_limited","message":"slow down"}}`))
	})
	mux.HandleFunc("GET /auth/me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("bearer: %q", r.Header.Get("Authorization"))
		}
		w.Write([]byte(`{"email": 5}`))
	})
	mux.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := New(srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Login(ctx, "a@b.c", "x")
	var e *Error
	if !errors.As(err, &e) || e.Status != 429 || e.Code != "rate_limited" || e.Message != "slow down" || e.RetryAfter != 7*time.Second {
		t.Errorf("429: %#v", err)
	}
	if _, err := c.Me(ctx, "tok"); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("malformed answer: %v", err)
	}
	if _, err := c.Info(ctx); Status(err) != 503 || Code(err) != "http_503" {
		t.Errorf("a non-JSON error: %v", err)
	}
	srv.Close()
	if _, err := c.Info(ctx); err == nil || Status(err) != 0 {
		t.Errorf("a relay that is gone: %v", err)
	}
}
