package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/testwait"
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
	// kill(2) returns before the process has stopped: until the kernel
	// has stopped all its threads the node may still answer.
	wait := testwait.Poll{Timeout: 10 * time.Second, Every: time.Millisecond}
	wait.For(t, "the node to stop", func() bool { return stopped(h.cmd.Process.Pid) })
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

// stopped reports whether every thread of process pid has stopped.
func stopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		// The state follows the command name, which is in parentheses
		// and may itself hold spaces and parentheses.
		i := bytes.LastIndexByte(raw, ')')
		if err != nil || i < 0 || i+2 >= len(raw) || raw[i+2] != 'T' {
			return false
		}
	}
	return true
}
