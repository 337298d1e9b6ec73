package node

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ancore/ancore/node/store"
)

// APIFile is where a node with a local API writes its URL and token
// (mode 0600), so scripts and the UI find it.
const APIFile = "api.json"

const settingAPIToken = "api-token"

// Errors of the local API.
var (
	// ErrAPINotLoopback: the local API may only listen on a loopback address.
	ErrAPINotLoopback = errors.New("the local API listens only on a loopback address")
	// ErrNoNode: no node runs on the data folder, or its API does not
	// answer.
	ErrNoNode = errors.New("no node is running")
)

// apiProbeTimeout bounds RunningAPI's request: a node on loopback answers
// in milliseconds.
const apiProbeTimeout = 2 * time.Second

// apiServer is the local API's listener and server.
type apiServer struct {
	listener net.Listener
	server   *http.Server
	url      string
	token    string
}

// APIInfo is the content of APIFile.
type APIInfo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// OpenURL is the address to open the UI at: the token travels in the
// fragment, which browsers never send to a server.
func (i APIInfo) OpenURL() string { return i.URL + "/#token=" + i.Token }

// openAPI listens on addr (loopback only) with the install's token and
// writes APIFile.
func (n *Node) openAPI(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("api address %q: %w", addr, err)
	}
	if !loopback(host) {
		return fmt.Errorf("%w: %q", ErrAPINotLoopback, addr)
	}
	token, err := n.apiToken()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	url := "http://" + l.Addr().String()
	raw, _ := json.Marshal(APIInfo{URL: url, Token: token})
	path := filepath.Join(n.cfg.DataDir, APIFile)
	if err := os.WriteFile(path+".tmp", raw, 0o600); err != nil {
		l.Close()
		return fmt.Errorf("api: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		l.Close()
		return fmt.Errorf("api: %w", err)
	}
	n.api = &apiServer{listener: l, url: url, token: token, server: &http.Server{
		Handler:           n.Handler(token),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}}
	return nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// RunningAPI returns the local API of the node running on data folder
// dir, from its APIFile, once the node has answered there to the token.
// The token goes only to a node that holds the folder's store: an APIFile
// left by a node that crashed may name a port another program took since.
func RunningAPI(ctx context.Context, dir string) (APIInfo, error) {
	path := filepath.Join(dir, APIFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return APIInfo{}, fmt.Errorf("%w on %s (no %s)", ErrNoNode, dir, APIFile)
	}
	if err != nil {
		return APIInfo{}, fmt.Errorf("read %s: %w", path, err)
	}
	var info APIInfo
	if err := json.Unmarshal(raw, &info); err != nil || info.Token == "" {
		return APIInfo{}, fmt.Errorf("%s is not an API file", path)
	}
	if u, err := url.Parse(info.URL); err != nil || u.Scheme != "http" || !loopback(u.Hostname()) {
		return APIInfo{}, fmt.Errorf("%s: %w: %q", path, ErrAPINotLoopback, info.URL)
	}
	held, err := store.Locked(filepath.Join(dir, StoreFile))
	if err != nil {
		return APIInfo{}, err
	}
	if !held {
		return APIInfo{}, fmt.Errorf("%w on %s (its %s is left from an earlier run)", ErrNoNode, dir, APIFile)
	}
	ctx, cancel := context.WithTimeout(ctx, apiProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL+"/api/v1/me", nil)
	if err != nil {
		return APIInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+info.Token)
	client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return APIInfo{}, fmt.Errorf("%w on %s: %s does not answer: %v", ErrNoNode, dir, info.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return APIInfo{}, fmt.Errorf("%w on %s: %s answers %s", ErrNoNode, dir, info.URL, resp.Status)
	}
	return info, nil
}

// apiToken returns the install's API token, made on first use.
func (n *Node) apiToken() (string, error) {
	v, err := n.store.Setting(settingAPIToken)
	if err != nil || v != nil {
		return string(v), err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := KeyText(b)
	return token, n.store.PutSetting(settingAPIToken, []byte(token))
}

// API returns the local API's URL and token, if the node serves one.
func (n *Node) API() (APIInfo, bool) {
	if n.api == nil {
		return APIInfo{}, false
	}
	return APIInfo{URL: n.api.url, Token: n.api.token}, true
}

// runAPI serves the API until ctx ends.
func (n *Node) runAPI(ctx context.Context) {
	if n.api == nil {
		return
	}
	// Requests live in the node's context: Shutdown does not end
	// WebSocket streams, the end of ctx does.
	n.api.server.BaseContext = func(net.Listener) context.Context { return ctx }
	go func() {
		if err := n.api.server.Serve(n.api.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("api stopped", "err", err)
		}
	}()
	n.log.Info("local API", "url", n.api.url)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.api.server.Shutdown(shutdown)
	_ = os.Remove(filepath.Join(n.cfg.DataDir, APIFile))
}
