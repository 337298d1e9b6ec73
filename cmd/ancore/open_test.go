package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ancore/ancore/node/api"
)

// TestOpen: `ancore open --print` prints an address whose token the
// running node's API takes; a node that hangs, one that was killed and a
// folder no node ever ran on are each a clear error.
func TestOpen(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	h := startHeadless(t, data)
	open := func() (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := runOpen(context.Background(), []string{"--data", data, "--print"}, &out)
		return strings.TrimSpace(out.String()), err
	}
	printed, err := open()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(printed)
	if err != nil || u.Path != "/" || !strings.HasPrefix(u.Fragment, "token=") {
		t.Fatalf("printed %q, want the UI's address with the token in its fragment", printed)
	}
	req, _ := http.NewRequest("GET", u.Scheme+"://"+u.Host+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(u.Fragment, "token="))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the printed token: GET /me answers %s", resp.Status)
	}

	// A node that does not answer: stopped, it holds its store and port.
	if err := h.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if printed, err := open(); !errors.Is(err, api.ErrNoNode) || !strings.Contains(err.Error(), "does not answer") || printed != "" {
		t.Errorf("a hung node: printed %q, error %v", printed, err)
	}
	// A killed node leaves its api.json behind; no process holds the store.
	h.cmd.Process.Kill()
	h.cmd.Wait()
	if printed, err := open(); !errors.Is(err, api.ErrNoNode) || !strings.Contains(err.Error(), "earlier run") || printed != "" {
		t.Errorf("a killed node: printed %q, error %v", printed, err)
	}
	empty := t.TempDir()
	err = runOpen(context.Background(), []string{"--data", empty}, &bytes.Buffer{})
	if !errors.Is(err, api.ErrNoNode) || !strings.Contains(err.Error(), "no api.json") || !strings.Contains(err.Error(), "ancore --data "+empty) {
		t.Errorf("no node: %v", err)
	}
}
