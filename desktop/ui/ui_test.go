package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/channels/abc", "/no/such/file.js"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("GET %s: %d %q", path, rec.Code, rec.Body.String()[:min(80, rec.Body.Len())])
		}
		if rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: the index may be cached", path)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
	if !Built() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if !strings.Contains(rec.Body.String(), "not built") {
			t.Error("an unbuilt UI does not say so")
		}
	}
}
