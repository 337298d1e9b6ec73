//go:build desktop

package desktop

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/app"
	"github.com/ancore/ancore/node/relaylink"
	"github.com/ancore/ancore/node/secretstore"
)

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := loadState(dir)
	if err != nil || s != (state{Width: defaultWidth, Height: defaultHeight}) {
		t.Fatalf("no file: %+v, %v", s, err)
	}
	want := state{X: 40, Y: 50, Width: 1000, Height: 700, Placed: true, APIPort: 4321}
	if err := saveState(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, err := loadState(dir); err != nil || got != want {
		t.Fatalf("loaded %+v, %v; want %+v", got, err, want)
	}
}

func TestStateOutOfRangeAndBroken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, StateFile)
	os.WriteFile(path, []byte(`{"x":1,"y":2,"width":5,"height":99999,"placed":true,"api_port":70000}`), 0o600)
	s, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Width != minWidth || s.Height != maxSide || s.APIPort != 0 || !s.Placed {
		t.Fatalf("not clamped: %+v", s)
	}
	os.WriteFile(path, []byte(`{"x":`), 0o600)
	s, err = loadState(dir)
	if err == nil || s != (state{Width: defaultWidth, Height: defaultHeight}) {
		t.Fatalf("broken file: %+v, %v", s, err)
	}
}

func TestFits(t *testing.T) {
	for _, c := range []struct {
		s    state
		fits bool
	}{
		{state{X: 100, Y: 100, Width: 800, Height: 600, Placed: true}, true},
		{state{X: 100, Y: 100, Width: 800, Height: 600}, false}, // never placed
		{state{X: -700, Y: 0, Width: 800, Height: 600, Placed: true}, true},
		{state{X: -780, Y: 0, Width: 800, Height: 600, Placed: true}, false},
		{state{X: 1900, Y: 0, Width: 800, Height: 600, Placed: true}, false},
		{state{X: 0, Y: -10, Width: 800, Height: 600, Placed: true}, false}, // title bar above the screen
		{state{X: 0, Y: 1070, Width: 800, Height: 600, Placed: true}, false},
	} {
		if got := c.s.fits(1920, 1080); got != c.fits {
			t.Errorf("%+v on 1920×1080: fits %v, want %v", c.s, got, c.fits)
		}
	}
}

func TestRedirectPage(t *testing.T) {
	h := redirect(`http://127.0.0.1:1/#token=abc</script><script>alert(1)`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if strings.Count(string(body), "</script>") != 1 || !strings.Contains(string(body), `window.location.replace("http://127.0.0.1:1/#token=abc\u003c/script`) {
		t.Fatalf("page %s", body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/other", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("/other: status %d", rec.Code)
	}
}

// TestListenAPIReusesThePort: the UI's origin, and so its local storage,
// survives a restart, unless the port is taken by then.
func TestListenAPIReusesThePort(t *testing.T) {
	dir := t.TempDir()
	cfg := app.Config{
		Node:  node.Config{DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoLAN: true},
		Relay: relaylink.Config{Secrets: secretstore.File(filepath.Join(dir, relaylink.SecretsFile))},
	}
	ac := api.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}
	// run opens the node and its API after a run on lastPort, runs both
	// for a moment, and returns the API's port.
	run := func(lastPort int) int {
		t.Helper()
		a, err := app.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := listenAPI(a, ac, lastPort)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(srv.Info().URL)
		p, _ := strconv.Atoi(u.Port())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := a.Run(ctx); err != nil {
			t.Error(err)
		}
		return p
	}
	first := run(0)
	if got := run(first); got != first {
		t.Errorf("second run on port %d, want %d", got, first)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(first))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := run(first); got == first || got == 0 {
		t.Errorf("port taken: API on port %d", got)
	}
}
