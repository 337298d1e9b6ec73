// Package ui holds Ancore's web UI, built from desktop/frontend into
// static/app and embedded in the binary, and serves it. When the UI was
// not built (a fresh clone, `go build` alone), it serves a page that says
// so, so the Go build never depends on Node.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:static
var static embed.FS

// Built reports whether the embedded UI is the real one.
func Built() bool {
	_, err := fs.Stat(static, "static/app/index.html")
	return err == nil
}

// Handler serves the UI: files of the built app, and its index.html for
// every other path (the app routes on the client). Hashed assets are
// cached for good; the index never is, so a new binary's UI loads at once.
func Handler() http.Handler {
	root, _ := fs.Sub(static, "static")
	if Built() {
		root, _ = fs.Sub(static, "static/app")
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if fi, err := fs.Stat(root, name); name == "" || err != nil || fi.IsDir() {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, root, "index.html")
			return
		}
		if strings.HasPrefix(name, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}
