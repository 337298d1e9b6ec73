//go:build desktop

package desktop_test

// The desktop binary in a real window under Xvfb, driven like a person
// would: xdotool types into the first-run screen and the composer, the
// node's API confirms what the window did, ImageMagick's import takes the
// screenshots (build/smoke/). Run by `make test-smoke`, which installs
// Xvfb, xdotool and ImageMagick and builds the binary (ANCORE_BIN); without
// ANCORE_BIN the test builds it.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ancore/ancore/desktop"
	nodeapi "github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/testwait"
)

const desktopTags = "desktop,production,webkit2_41"

// smokeDir is where the screenshots and the app's logs go.
var smokeDir = filepath.Join("..", "build", "smoke")

func TestSmokeWindow(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: `make test-smoke` installs it (apt-get install xvfb xdotool imagemagick)", tool)
		}
	}
	if err := os.RemoveAll(smokeDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(smokeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &smoke{t: t, bin: buildBinary(t), data: t.TempDir(), home: t.TempDir()}
	s.display = startXvfb(t)

	// First run: the window opens on the UI's first-run screen, where the
	// user types a name.
	app := s.start("app-1")
	api := s.waitAPI()
	win := s.waitWindow()
	s.waitPainted(win)
	s.screenshot("00-first-run")
	const name = "Smokey"
	s.typeName(win, api, name)
	s.screenshot("01-named")

	// A community made through the API shows in the window, which opens
	// its #general; the message is typed into the window's composer.
	var community struct {
		Channels []struct{ ID, Name string } `json:"channels"`
	}
	api.do(t, "POST", "/api/v1/communities", `{"name":"Smoke"}`, &community)
	if len(community.Channels) == 0 {
		t.Fatal("the new community has no channel")
	}
	channel := community.Channels[0].ID
	const text = "hello from the window"
	s.sendMessage(win, api, channel, text)
	s.waitPainted(win)
	s.screenshot("02-message-sent")

	// Both themes, through the quick switcher (Ctrl+K, then its command).
	for _, theme := range []string{"dark", "light"} {
		s.setTheme(win, theme)
		s.screenshot("02-theme-" + theme)
	}

	// A second launch on the same data folder shows the first window and
	// exits at once.
	s.secondLaunch()
	api.do(t, "GET", "/api/v1/me", "", nil)

	// The window's size and place survive a restart, and so does the
	// UI's origin (the API's port).
	s.xdotool("windowmove", "--sync", win, "40", "50")
	s.xdotool("windowsize", "--sync", win, "1000", "700")
	s.stop(app)
	raw, err := os.ReadFile(filepath.Join(s.data, desktop.StateFile))
	if err != nil {
		t.Fatalf("no window state saved: %v", err)
	}
	t.Logf("%s: %s", desktop.StateFile, raw)
	app = s.start("app-2")
	restarted := s.waitAPI()
	if restarted.url != api.url {
		t.Errorf("the API moved from %s to %s: the UI's local storage is lost", api.url, restarted.url)
	}
	win = s.waitWindow()
	s.waitGeometry(win, "40,50", "1000x700")
	s.waitPainted(win)
	var msgs []struct{ Text string }
	restarted.do(t, "GET", "/api/v1/channels/"+channel+"/messages", "", &msgs)
	if len(msgs) != 1 || msgs[0].Text != text {
		t.Errorf("after the restart the channel holds %+v", msgs)
	}
	s.screenshot("03-restarted")
	s.stop(app)
}

type smoke struct {
	t       *testing.T
	bin     string
	data    string
	home    string // XDG folders, so WebKit's files stay out of the real home
	display string
}

// buildBinary returns ANCORE_BIN, or the command built with the window's
// tags.
func buildBinary(t *testing.T) string {
	if bin := os.Getenv("ANCORE_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "ancore")
	out, err := exec.Command("go", "build", "-tags", desktopTags, "-o", bin, "../cmd/ancore").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -tags %s ./cmd/ancore: %v\n%s", desktopTags, err, out)
	}
	return bin
}

// startXvfb starts an X server on a free display and returns its name.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -displayfd: Xvfb picks a free display and writes its number to fd 3.
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1600x1000x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	logf, err := os.Create(filepath.Join(smokeDir, "xvfb.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatalf("Xvfb did not start (see %s)", logf.Name())
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not report a display within 30 s")
	}
	return ""
}

func (s *smoke) env() []string {
	return append(os.Environ(), "DISPLAY="+s.display, "WAYLAND_DISPLAY=", "NO_AT_BRIDGE=1",
		"XDG_DATA_HOME="+filepath.Join(s.home, "data"), "XDG_CACHE_HOME="+filepath.Join(s.home, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(s.home, "config"))
}

// start runs the desktop binary on the test's data folder, its output in
// build/smoke/NAME.log.
func (s *smoke) start(name string) *exec.Cmd {
	s.t.Helper()
	logf, err := os.Create(filepath.Join(smokeDir, name+".log"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "--data", s.data, "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0")
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			if s.t.Failed() {
				s.screenshot("FAILED")
			}
			cmd.Process.Kill()
			cmd.Wait()
		}
		logf.Close()
	})
	return cmd
}

// stop ends the app as a session manager would, with SIGTERM; it must
// exit 0.
func (s *smoke) stop(cmd *exec.Cmd) {
	s.t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Fatalf("the app exited with %v after SIGTERM (see build/smoke/*.log)", err)
		}
	case <-time.After(30 * time.Second):
		s.t.Fatal("the app did not exit within 30 s of SIGTERM")
	}
}

// secondLaunch runs the binary again on the same data folder: it must ask
// the first to show its window and exit 0.
func (s *smoke) secondLaunch() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "--data", s.data, "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0")
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	os.WriteFile(filepath.Join(smokeDir, "second-launch.log"), out, 0o644)
	if err != nil || !strings.Contains(string(out), "already running") {
		s.t.Fatalf("second launch: %v\n%s", err, out)
	}
}

// api is a client of the node's local API.
type api struct{ url, token string }

func (a api) do(t *testing.T, method, path, body string, out any) {
	t.Helper()
	if err := a.try(method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

func (a api) try(method, path, body string, out any) error {
	req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, buf.Bytes())
	}
	if out != nil {
		return json.Unmarshal(buf.Bytes(), out)
	}
	return nil
}

// waitAPI waits for the node's api.json and its API's answer.
func (s *smoke) waitAPI() api {
	s.t.Helper()
	var a api
	var last error
	ok := waitFor(30*time.Second, func() bool {
		var info nodeapi.Info
		raw, err := os.ReadFile(filepath.Join(s.data, nodeapi.APIFile))
		if err == nil {
			err = json.Unmarshal(raw, &info)
		}
		if err == nil {
			a = api{url: info.URL, token: info.Token}
			err = a.try("GET", "/api/v1/me", "", nil)
		}
		last = err
		return err == nil
	})
	if !ok {
		s.t.Fatalf("the node's API did not answer within 30 s: %v (see build/smoke/*.log)", last)
	}
	return a
}

// waitWindow returns the id of the visible window titled Ancore.
func (s *smoke) waitWindow() string {
	s.t.Helper()
	var id string
	ok := waitFor(30*time.Second, func() bool {
		out, err := s.command("xdotool", "search", "--onlyvisible", "--name", "^"+desktop.Title+"$").Output()
		ids := strings.Fields(string(out))
		if err == nil && len(ids) == 1 {
			id = ids[0]
		}
		return id != ""
	})
	if !ok {
		s.t.Fatal("no visible window titled Ancore within 30 s")
	}
	return id
}

// waitPainted waits until the window shows a page, not a blank webview:
// until two captures in a row agree and have more colours than a blank
// page or a lone line of text.
func (s *smoke) waitPainted(win string) {
	s.t.Helper()
	var prev [sha256.Size]byte
	var colours int
	ok := waitFor(30*time.Second, func() bool {
		out, err := s.command("import", "-window", win, "png:-").Output()
		if err != nil {
			return false
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			return false
		}
		sum, n := pixels(img)
		same := sum == prev
		prev, colours = sum, n
		return same && colours > 64
	})
	if !ok {
		s.t.Fatalf("the window showed no settled page within 30 s (last capture: %d colours)", colours)
	}
}

// pixels returns a digest of img's pixels and how many colours it has.
func pixels(img image.Image) (sum [sha256.Size]byte, colours int) {
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(img.Bounds())
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	}
	seen := map[uint32]bool{}
	for i := 0; i+3 < len(rgba.Pix); i += 4 {
		p := rgba.Pix[i : i+4 : i+4]
		seen[uint32(p[0])<<24|uint32(p[1])<<16|uint32(p[2])<<8|uint32(p[3])] = true
	}
	return sha256.Sum256(rgba.Pix), len(seen)
}

type me struct {
	Name string `json:"name"`
	User string `json:"user"`
}

// typeName types name into the first-run screen (its input has the focus)
// and waits for the node to have it. Keys typed before the page took them
// are lost, so a try whose name never arrives is cleared and repeated.
func (s *smoke) typeName(win string, a api, name string) {
	s.t.Helper()
	var got me
	for try := 1; try <= 3; try++ {
		s.xdotool("windowfocus", "--sync", win)
		if try == 1 {
			// "Log in to a relay" comes first; the second button,
			// "I am new here", opens the name form, whose field
			// takes the focus.
			s.xdotool("key", "--delay", "30", "Tab", "Tab", "Return")
		} else {
			s.xdotool("key", "--window", win, "ctrl+a", "BackSpace")
		}
		s.xdotool("type", "--delay", "30", name)
		s.xdotool("key", "Return")
		if waitFor(10*time.Second, func() bool { return a.try("GET", "/api/v1/me", "", &got) == nil && got.Name != "" }) {
			break
		}
		s.t.Logf("try %d: the name did not arrive; typing it again", try)
	}
	if got.Name != name {
		s.t.Fatalf("the first-run screen set the name %q, want %q", got.Name, name)
	}
}

// sendMessage clicks the composer, types text and Enter, and waits for the
// node to have the message from this user.
func (s *smoke) sendMessage(win string, a api, channel, text string) {
	s.t.Helper()
	var self me
	a.do(s.t, "GET", "/api/v1/me", "", &self)
	// The UI opens the new community's #general by itself; wait until
	// the window shows it before clicking.
	s.waitPainted(win)
	w, h := s.windowSize(win)
	// The composer sits at the bottom of the message pane, which spans
	// from the community rail and channel list (312 px) to the member
	// list (240 px, shown on windows 1024 px wide or more).
	right := w
	if w >= 1024 {
		right = w - 240
	}
	x, y := (312+right)/2, h-58
	s.xdotool("mousemove", "--window", win, strconv.Itoa(x), strconv.Itoa(y), "click", "1")
	s.xdotool("type", "--delay", "30", text)
	s.xdotool("key", "Return")
	var msgs []struct{ Author, Text string }
	if !waitFor(15*time.Second, func() bool {
		return a.try("GET", "/api/v1/channels/"+channel+"/messages", "", &msgs) == nil &&
			len(msgs) == 1 && msgs[0].Text == text && msgs[0].Author == self.User
	}) {
		s.t.Fatalf("the message typed into the composer (clicked at %d,%d) did not arrive; the channel holds %+v", x, y, msgs)
	}
}

// setTheme picks a theme through the quick switcher and waits until the
// window shows it: mostly dark pixels for the dark theme, light for light.
func (s *smoke) setTheme(win, theme string) {
	s.t.Helper()
	s.xdotool("windowfocus", "--sync", win)
	s.xdotool("key", "--window", win, "ctrl+k")
	s.xdotool("type", "--delay", "30", "theme "+theme)
	s.xdotool("key", "Return")
	var lum float64
	if !waitFor(15*time.Second, func() bool {
		out, err := s.command("import", "-window", win, "png:-").Output()
		if err != nil {
			return false
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			return false
		}
		lum = luminance(img)
		return (theme == "dark") == (lum < 0.5)
	}) {
		s.t.Fatalf("the window did not turn %s (mean luminance %.2f)", theme, lum)
	}
	s.waitPainted(win)
}

// luminance is img's mean luminance, from 0 (black) to 1 (white).
func luminance(img image.Image) float64 {
	b := img.Bounds()
	var sum float64
	var n int
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum += (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(bl)) / 0xffff
			n++
		}
	}
	return sum / float64(n)
}

// windowSize returns the window's inner size.
func (s *smoke) windowSize(win string) (w, h int) {
	s.t.Helper()
	geo := s.geometry(win)
	w, _ = strconv.Atoi(geo["WIDTH"])
	h, _ = strconv.Atoi(geo["HEIGHT"])
	if w == 0 || h == 0 {
		s.t.Fatalf("window geometry %v", geo)
	}
	return w, h
}

func (s *smoke) geometry(win string) map[string]string {
	out, err := s.command("xdotool", "getwindowgeometry", "--shell", win).Output()
	if err != nil {
		s.t.Fatalf("xdotool getwindowgeometry: %v", err)
	}
	geo := map[string]string{}
	for _, l := range strings.Fields(string(out)) {
		if k, v, ok := strings.Cut(l, "="); ok {
			geo[k] = v
		}
	}
	return geo
}

// waitGeometry waits for the window to be at pos ("X,Y") with size ("WxH").
func (s *smoke) waitGeometry(win, pos, size string) {
	s.t.Helper()
	var got string
	if !waitFor(15*time.Second, func() bool {
		g := s.geometry(win)
		got = g["X"] + "," + g["Y"] + " " + g["WIDTH"] + "x" + g["HEIGHT"]
		return got == pos+" "+size
	}) {
		s.t.Fatalf("the restarted window is at %s, want %s %s", got, pos, size)
	}
}

func (s *smoke) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = s.env()
	return cmd
}

func (s *smoke) xdotool(args ...string) {
	s.t.Helper()
	if out, err := s.command("xdotool", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// screenshot saves the whole screen to build/smoke/NAME.png.
func (s *smoke) screenshot(name string) {
	path := filepath.Join(smokeDir, name+".png")
	if out, err := s.command("import", "-window", "root", path).CombinedOutput(); err != nil {
		s.t.Errorf("screenshot %s: %v\n%s", path, err, out)
		return
	}
	s.t.Logf("screenshot: %s", path)
}

// waitFor polls cond every 100 ms until it holds or d passes; the app
// is a separate process, and a screenshot step is slow anyway.
func waitFor(d time.Duration, cond func() bool) bool {
	return testwait.Poll{Timeout: d, Every: 100 * time.Millisecond}.Until(cond)
}
