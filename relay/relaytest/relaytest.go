// Package relaytest holds what tests of the relay, in-process or as a
// binary, share: a member's log in memory that syncs with the relay, and
// calls to the relay's HTTP API, checked against its OpenAPI document.
package relaytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/p2p/recon"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Call makes a JSON request to the relay at base (http://host:port) and
// decodes the answer into out; it returns the status. The answer is
// checked against the relay's OpenAPI document, as by OpenAPI.Call,
// except where path is under NodeAPIPrefix: that is a node's API, which
// end-to-end tests call too.
func Call(t testing.TB, base, method, path, token string, in, out any) int {
	t.Helper()
	return new(OpenAPI).Call(t, base, method, path, token, in, out)
}

// Call is the package's Call, recording the operation in o.
func (o *OpenAPI) Call(t testing.TB, base, method, path, token string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := o.Client(t)
	if strings.HasPrefix(path, NodeAPIPrefix) {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && err != io.EOF {
			t.Fatalf("%s %s: decode answer: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// Password is what test accounts use.
const Password = "correct horse battery"

// Register makes an account and returns its session token.
func Register(t testing.TB, base, email string) string {
	t.Helper()
	var s struct{ Token string }
	if code := Call(t, base, "POST", "/auth/register", "", map[string]string{"email": email, "password": Password}, &s); code != http.StatusCreated {
		t.Fatalf("register %s: status %d", email, code)
	}
	return s.Token
}

// CarryRequest is the body of POST /communities for c, signed by signer.
func CarryRequest(c *crdttest.Community, secret []byte, signer *crdt.User) map[string]string {
	b64 := base64.StdEncoding.EncodeToString
	return map[string]string{
		"genesis":      b64(c.State[0].Encoded()),
		"topic_secret": b64(secret),
		"proof":        b64(signer.SignCarry(c.ID, secret)),
	}
}

// Log is a member's log held in memory, as the sync protocol sees it.
type Log struct {
	mu  sync.Mutex
	ops map[crdt.ID]*crdt.Op
	v   *crdt.Verifier
}

// NewLog returns a log holding ops.
func NewLog(ops ...*crdt.Op) *Log {
	l := &Log{ops: map[crdt.ID]*crdt.Op{}, v: crdt.NewVerifier()}
	for _, op := range ops {
		l.ops[op.ID] = op
	}
	return l
}

// Items implements p2p.SyncLog.
func (l *Log) Items() ([]recon.Item, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]recon.Item, 0, len(l.ops))
	for _, op := range l.ops {
		out = append(out, recon.Item{HLC: op.HLC, ID: op.ID})
	}
	slices.SortFunc(out, recon.Item.Compare)
	return out, nil
}

// Ops implements p2p.SyncLog.
func (l *Log) Ops(ids []crdt.ID) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	for _, id := range ids {
		if op := l.ops[id]; op != nil {
			out = append(out, op.Encoded())
		}
	}
	return out, nil
}

// Ingest implements p2p.SyncLog: it keeps what verifies.
func (l *Log) Ingest(_ context.Context, raws [][]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, raw := range raws {
		op, err := l.v.Decode(raw, time.Now())
		if err != nil {
			return fmt.Errorf("%w: %w", p2p.ErrSyncProtocol, err)
		}
		l.ops[op.ID] = op
	}
	return nil
}

// Get returns the op with id, or nil.
func (l *Log) Get(id crdt.ID) *crdt.Op {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops[id]
}

// Len counts the ops held.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ops)
}

// NewHost makes a loopback libp2p host with a random key, closed when t
// ends.
func NewHost(t testing.TB) host.Host {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	h, err := p2p.NewHost(p2p.HostConfig{DeviceSeed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// Client is a member's host that syncs logs with peers but serves none.
type Client struct {
	Host host.Host
	Sync *p2p.Sync
}

// NewClient makes a Client.
func NewClient(t testing.TB) *Client {
	h := NewHost(t)
	return &Client{Host: h, Sync: p2p.NewSync(h, func(peer.ID, string) (p2p.SyncLog, bool) { return nil, false })}
}
