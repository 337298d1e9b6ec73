package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/store"
)

// APIFile is where a node with a local API writes its URL and token
// (mode 0600), so scripts and the UI find it.
const APIFile = "api.json"

const settingAPIToken = "api-token"

// Errors of the local API.
var (
	// ErrNotLoopback: the local API may only listen on a loopback address.
	ErrNotLoopback = errors.New("the local API listens only on a loopback address")
	// ErrNoNode: no node runs on the data folder, or its API does not
	// answer.
	ErrNoNode = errors.New("no node is running")
)

// probeTimeout bounds Running's request: a node on loopback answers in
// milliseconds.
const probeTimeout = 2 * time.Second

// eventBuffer is how many events a reconnecting client can catch up on.
const eventBuffer = 4096

// Config says how to serve a node's local API.
type Config struct {
	// Addr is the loopback address (host:port, port 0 for any).
	Addr string
	// UI, if set, is served beside the API (at every path outside /api/);
	// the page gets the API token from its URL's fragment.
	UI http.Handler
	// Logger receives the API's logs; nil means slog.Default().
	Logger *slog.Logger
	// Features are the capabilities the program wired beside the core:
	// their routes join the API's, and their errors map through them.
	Features []Feature
	// Carried reports whether the node's relay carries a community (a
	// community's carried), and RelayNetwork is the relay's part of GET
	// /network: the relay link's, nil without one.
	Carried      func(crdt.ID) bool
	RelayNetwork func() any
}

// Feature is what the API needs of a capability: its routes, and the
// mapping of its errors to statuses and codes (ok false for others).
type Feature interface {
	Routes() []node.Route
	APIError(err error) (*httpjson.StatusError, bool)
}

// Info is the content of APIFile.
type Info struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// OpenURL is the address to open the UI at: the token travels in the
// fragment, which browsers never send to a server.
func (i Info) OpenURL() string { return i.URL + "/#token=" + i.Token }

// Server is a node's local API: the REST routes, the event stream and
// the UI beside them, on a loopback listener.
type Server struct {
	node     *node.Node
	features []Feature
	carried  func(crdt.ID) bool
	network  func() any
	hub      *Hub
	ui       http.Handler
	log      *slog.Logger
	dataDir  string
	listener net.Listener
	http     *http.Server
	info     Info
}

// Listen opens node n's local API on cfg.Addr (loopback only) with the
// install's token and writes APIFile into the node's data folder. The
// node's events go to the stream from now on.
func Listen(n *node.Node, cfg Config) (*Server, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("api address %q: %w", cfg.Addr, err)
	}
	if !loopback(host) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, cfg.Addr)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	token, err := apiToken(n.Settings())
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{node: n, features: cfg.Features, carried: cfg.Carried, network: cfg.RelayNetwork,
		hub: NewHub(eventBuffer), ui: cfg.UI, log: cfg.Logger.With("subsystem", "api"),
		dataDir: n.DataDir(), listener: l, info: Info{URL: "http://" + l.Addr().String(), Token: token}}
	raw, _ := json.Marshal(s.info)
	path := filepath.Join(s.dataDir, APIFile)
	if err := os.WriteFile(path+".tmp", raw, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("api: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		l.Close()
		return nil, fmt.Errorf("api: %w", err)
	}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	n.OnEvent(s.publish)
	return s, nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// Info returns the API's URL and token.
func (s *Server) Info() Info { return s.info }

// Serve answers requests until ctx ends, then shuts the server down and
// removes APIFile. Requests live in ctx: shutting down does not end
// WebSocket streams, the end of ctx does.
func (s *Server) Serve(ctx context.Context) {
	s.http.BaseContext = func(net.Listener) context.Context { return ctx }
	served := make(chan struct{})
	go func() {
		defer close(served) // the listener is closed then, its port free
		if err := s.http.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api stopped", "err", err)
		}
	}()
	s.log.Info("local API", "url", s.info.URL)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.http.Shutdown(shutdown)
	<-served
	_ = os.Remove(filepath.Join(s.dataDir, APIFile))
}

// Running returns the local API of the node running on data folder dir,
// from its APIFile, once the node has answered there to the token. The
// token goes only to a node that holds the folder's store: an APIFile left
// by a node that crashed may name a port another program took since.
func Running(ctx context.Context, dir string) (Info, error) {
	path := filepath.Join(dir, APIFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Info{}, fmt.Errorf("%w on %s (no %s)", ErrNoNode, dir, APIFile)
	}
	if err != nil {
		return Info{}, fmt.Errorf("read %s: %w", path, err)
	}
	var info Info
	if err := json.Unmarshal(raw, &info); err != nil || info.Token == "" {
		return Info{}, fmt.Errorf("%s is not an API file", path)
	}
	if u, err := url.Parse(info.URL); err != nil || u.Scheme != "http" || !loopback(u.Hostname()) {
		return Info{}, fmt.Errorf("%s: %w: %q", path, ErrNotLoopback, info.URL)
	}
	held, err := store.Locked(filepath.Join(dir, node.StoreFile))
	if err != nil {
		return Info{}, err
	}
	if !held {
		return Info{}, fmt.Errorf("%w on %s (its %s is left from an earlier run)", ErrNoNode, dir, APIFile)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL+"/api/v1/me", nil)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+info.Token)
	client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return Info{}, fmt.Errorf("%w on %s: %s does not answer: %v", ErrNoNode, dir, info.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Info{}, fmt.Errorf("%w on %s: %s answers %s", ErrNoNode, dir, info.URL, resp.Status)
	}
	return info, nil
}

// apiToken returns the install's API token, made on first use.
func apiToken(settings node.Settings) (string, error) {
	v, err := settings.Get(settingAPIToken)
	if err != nil || v != nil {
		return string(v), err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := crdt.KeyText(b)
	return token, settings.Put(settingAPIToken, []byte(token))
}

// Run runs node n with its API srv beside it until ctx ends or the node
// stops on its own (a wipe); it returns what the node's Run returned. The
// API answers once the node is on the network (node.Ready): requests that
// come earlier wait in the listener's queue.
func Run(ctx context.Context, n *node.Node, srv *Server) error {
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() {
		defer close(served)
		select {
		case <-n.Ready():
		case <-ctx.Done():
		}
		srv.Serve(ctx)
	}()
	err := n.Run(ctx)
	cancel()
	<-served
	return err
}
