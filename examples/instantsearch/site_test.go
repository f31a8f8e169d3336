package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeModules is a node_modules folder holding the vendor files only.
func fakeModules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, rel := range vendor {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("/* "+rel+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("not served"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSiteServesThePageAndTheVendorFilesOnly(t *testing.T) {
	s, err := newSite("http://127.0.0.1:8080/search-api/", fakeModules(t))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	page := get("/")
	if page.Code != 200 || !strings.Contains(page.Body.String(), `<meta name="searchd" content="http://127.0.0.1:8080/search-api">`) {
		t.Errorf("page: %d, searchd's URL not in it:\n%s", page.Code, page.Body)
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' http://127.0.0.1:8080;") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q: want calls to searchd's origin allowed and nothing unsafe", csp)
	}
	for path, want := range map[string]int{
		"/app.js": 200, "/app.css": 200, "/vendor/instantsearch.production.min.js": 200, "/vendor/algoliasearch-lite.umd.js": 200,
		"/vendor/satellite-min.css": 200, "/secret.txt": 404, "/vendor/../secret.txt": 404, "/index.html": 404, "/node_modules/instantsearch.js/package.json": 404,
	} {
		if rec := get(path); rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", rec.Code)
	}
}

func TestSiteRefusesWhatCannotWork(t *testing.T) {
	if _, err := newSite("http://127.0.0.1:8080", t.TempDir()); err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Errorf("without node_modules: %v, want a hint to run npm ci", err)
	}
	for _, bad := range []string{"127.0.0.1:8080", "ftp://host", "http://", "http://host/?q=1"} {
		if _, err := newSite(bad, fakeModules(t)); err == nil {
			t.Errorf("-searchd %q accepted", bad)
		}
	}
}
