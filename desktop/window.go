//go:build desktop

package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ancore/ancore/desktop/instance"
	"github.com/ancore/ancore/desktop/ui"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/app"
	"github.com/ancore/ancore/node/store"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

const hasWindow = true

// Title is the window's title.
const Title = "Ancore"

// Run runs a node from cfg.Node and shows its UI in a window until the
// window closes or ctx ends; then it stops the node. If another copy runs
// with the same data folder, Run asks it to show its window and returns
// nil. GTK wants one thread for all its calls: call Run from the main
// goroutine.
func Run(ctx context.Context, cfg Config) error {
	nc, ac := cfg.App.Node, cfg.API
	if ac.Addr == "" {
		ac.Addr = "127.0.0.1:0"
	}
	if ac.UI == nil {
		ac.UI = ui.Handler()
	}
	if nc.Logger == nil {
		nc.Logger = slog.Default()
	}
	if ac.Logger == nil {
		ac.Logger = nc.Logger
	}
	log := nc.Logger.With("subsystem", "window")
	dir := nc.DataDir

	in, err := instance.Acquire(dir)
	if errors.Is(err, instance.ErrRunning) {
		showCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := instance.Show(showCtx, dir); err != nil {
			return fmt.Errorf("already running with %s, but its window did not answer: %w", dir, err)
		}
		log.Info("Ancore is already running with this data folder; its window was brought to the front", "data", dir)
		return nil
	}
	if err != nil {
		return err
	}
	defer in.Close()

	st, stErr := loadState(dir)
	if stErr != nil {
		log.Warn("window state not restored", "err", stErr)
	}
	appCfg := cfg.App
	appCfg.Node = nc
	a, err := app.Open(appCfg)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w (is Ancore running with --headless on %s?)", err, dir)
	}
	if err != nil {
		return err
	}
	srv, err := listenAPI(a, ac, st.APIPort)
	if err != nil {
		return errors.Join(err, a.Close())
	}
	apiInfo := srv.Info()
	if cfg.Started != nil {
		cfg.Started(a, apiInfo)
	}

	nodeCtx, stopNode := context.WithCancel(ctx)
	defer stopNode()
	nodeStopped := make(chan struct{})
	var nodeErr error
	go func() {
		defer close(nodeStopped)
		nodeErr = a.Run(nodeCtx)
	}()

	if u, err := url.Parse(apiInfo.URL); err == nil {
		st.APIPort, _ = strconv.Atoi(u.Port())
	}
	w := &window{log: log, dir: dir, state: st, started: make(chan struct{}), closed: make(chan struct{})}
	// The window closes when ctx ends or the node stops on its own.
	go w.quitOn(ctx.Done(), nodeStopped)
	go w.showOn(in.ShowRequests())

	start := options.Normal
	if w.state.Maximised {
		start = options.Maximised
	}
	err = runWails(&options.App{
		Title:     Title,
		Width:     w.state.Width,
		Height:    w.state.Height,
		MinWidth:  minWidth,
		MinHeight: minHeight,
		// The page is the node's: the asset server (which has no port)
		// only sends the webview there, with the token in the fragment.
		AssetServer:              &assetserver.Options{Handler: redirect(apiInfo.OpenURL())},
		WindowStartState:         start,
		EnableDefaultContextMenu: true, // copy and paste in a chat
		Logger:                   wailsLogger{log},
		LogLevel:                 logger.WARNING,
		LogLevelProduction:       logger.WARNING,
		OnStartup:                w.startup,
		OnBeforeClose:            w.beforeClose,
		Linux: &linux.Options{
			ProgramName: "ancore",
			// What Wails picks when Linux options are absent: GPU
			// compositing shows blank windows on some drivers.
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
	close(w.closed)
	stopNode()
	<-nodeStopped
	if err != nil {
		return fmt.Errorf("desktop: window: %w (--headless runs without one)", err)
	}
	return nodeErr
}

// window is the state the Wails callbacks share.
type window struct {
	log   *slog.Logger
	dir   string
	state state

	ctx     context.Context // Wails' context, set before started closes
	started chan struct{}
	closed  chan struct{} // wails.Run returned
	closing atomic.Bool
}

// startup runs when the window exists: it moves the window to its saved
// place.
func (w *window) startup(ctx context.Context) {
	w.ctx = ctx
	defer close(w.started)
	// A round trip to GTK's thread: it returns once GTK's loop runs, so
	// after the centring that Wails queued when it showed the window,
	// which the move below must follow.
	runtime.WindowGetSize(ctx)
	if w.state.Maximised || !w.state.Placed {
		return
	}
	screens, err := runtime.ScreenGetAll(ctx)
	if err != nil {
		w.log.Warn("no screen size; the window stays centred", "err", err)
		return
	}
	// The screens' arrangement is unknown, so their sizes add up to a
	// bound that only rules out places far off every screen.
	var width, height int
	for _, s := range screens {
		width += s.Width
		height += s.Height
	}
	if !w.state.fits(width, height) {
		w.log.Info("saved window place is off the screen; centring", "x", w.state.X, "y", w.state.Y)
		return
	}
	runtime.WindowSetPosition(ctx, w.state.X, w.state.Y)
}

// beforeClose saves the window's state and lets the first close
// request through. Every close comes here: the close button, runtime.Quit
// and Wails' own SIGINT/SIGTERM handler, which races with ctx's. Later
// requests are refused, as GTK's loop may be gone by then: a second
// gtk_main_quit would fail and a call to GTK's thread never return.
func (w *window) beforeClose(ctx context.Context) (prevent bool) {
	if w.closing.Swap(true) {
		return true
	}
	s := w.state
	s.Maximised = runtime.WindowIsMaximised(ctx)
	if !s.Maximised {
		// A maximised window's size and place are the screen's; the
		// saved ones stay for when it is restored.
		s.X, s.Y = runtime.WindowGetPosition(ctx)
		s.Width, s.Height = runtime.WindowGetSize(ctx)
		s.Placed = true
	}
	if err := saveState(w.dir, s); err != nil {
		w.log.Warn("window state not saved", "err", err)
	}
	return false
}

// quitOn closes the window when either channel closes.
func (w *window) quitOn(a, b <-chan struct{}) {
	select {
	case <-a:
	case <-b:
	case <-w.closed:
		return
	}
	select {
	case <-w.started:
		runtime.Quit(w.ctx)
	case <-w.closed:
	}
}

// showOn brings the window to the front on each request of a second
// launch.
func (w *window) showOn(requests <-chan struct{}) {
	for {
		select {
		case <-requests:
		case <-w.closed:
			return
		}
		select {
		case <-w.started:
			runtime.WindowUnminimise(w.ctx) // gtk_window_present: also raises and focuses
			runtime.WindowShow(w.ctx)
		case <-w.closed:
			return
		}
	}
}

// runWails runs the window. Wails panics when GTK cannot open the display
// (CanOpen only sees that it takes connections); the panic becomes an
// error, so that the node still stops cleanly.
func runWails(app *options.App) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return wails.Run(app)
}

// listenAPI opens the node's local API. When its address leaves the port
// to the system (port 0), it first tries the port of the last run, so that
// the UI's origin, and with it the UI's local storage, stays the same.
func listenAPI(a *app.App, ac api.Config, lastPort int) (*api.Server, error) {
	host, port, err := net.SplitHostPort(ac.Addr)
	if err != nil || port != "0" || lastPort == 0 {
		return a.Listen(ac)
	}
	again := ac
	again.Addr = net.JoinHostPort(host, strconv.Itoa(lastPort))
	srv, err := a.Listen(again)
	if errors.Is(err, syscall.EADDRINUSE) {
		return a.Listen(ac)
	}
	return srv, err
}

// redirect serves the one page the window loads from Wails' asset server:
// it sends the webview on to the node's UI at url.
func redirect(url string) http.Handler {
	// json.Marshal escapes <, > and &, so the string is safe in a script.
	target, _ := json.Marshal(url)
	page := []byte(`<!doctype html><html><head><meta charset="utf-8"><title>` + Title + `</title></head>` +
		`<body><script>window.location.replace(` + string(target) + `)</script></body></html>`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/index.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(page)
	})
}

// wailsLogger sends Wails' log lines to the window's logger.
type wailsLogger struct{ log *slog.Logger }

func (l wailsLogger) Print(m string)   { l.log.Info(m) }
func (l wailsLogger) Trace(m string)   { l.log.Debug(m) }
func (l wailsLogger) Debug(m string)   { l.log.Debug(m) }
func (l wailsLogger) Info(m string)    { l.log.Info(m) }
func (l wailsLogger) Warning(m string) { l.log.Warn(m) }
func (l wailsLogger) Error(m string)   { l.log.Error(m) }
func (l wailsLogger) Fatal(m string)   { l.log.Error(m) }
