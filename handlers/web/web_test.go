package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHandlerServesPageAndStatic(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	tests := []struct {
		path        string
		contentType string
		cache       string
		contains    string
	}{
		{"/", "text/html; charset=utf-8", "no-cache", `<input id="q"`},
		{"/admin", "text/html; charset=utf-8", "no-cache", `<input id="key" name="key" type="password"`},
		{"/static/admin.js", "text/javascript; charset=utf-8", "public, max-age=300, must-revalidate", "/v1/analytics/queries"},
		{"/static/admin.css", "text/css; charset=utf-8", "public, max-age=300, must-revalidate", ".segmented"},
		{"/static/app.js", "text/javascript; charset=utf-8", "public, max-age=300, must-revalidate", "/v1/suggest"},
		{"/static/dom.js", "text/javascript; charset=utf-8", "public, max-age=300, must-revalidate", "window.laborDOM"},
		{"/static/app.css", "text/css; charset=utf-8", "public, max-age=300, must-revalidate", "--accent"},
		{"/static/favicon.svg", "image/svg+xml", "public, max-age=300, must-revalidate", "<svg"},
	}
	for _, test := range tests {
		t.Run(test.path, func(t *testing.T) {
			res, err := http.Get(srv.URL + test.path)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, res)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			got := map[string]string{
				"Content-Type":  res.Header.Get("Content-Type"),
				"Cache-Control": res.Header.Get("Cache-Control"),
			}
			want := map[string]string{"Content-Type": test.contentType, "Cache-Control": test.cache}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(body, test.contains) {
				t.Errorf("body does not contain %q", test.contains)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("Content-Security-Policy = %q, want default-src 'self'", csp)
			}

			// A browser revalidating with the ETag gets 304 and no body.
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+test.path, nil)
			req.Header.Set("If-None-Match", etag)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, res); res.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("revalidation: status %d with %d bytes, want 304 and none", res.StatusCode, len(body))
			}
		})
	}
}

func TestHandlerErrors(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown static file", http.MethodGet, "/static/nope.js", http.StatusNotFound, "not_found"},
		{"page is not under static", http.MethodGet, "/static/index.html", http.StatusNotFound, "not_found"},
		{"editors' page is not under static", http.MethodGet, "/static/admin.html", http.StatusNotFound, "not_found"},
		{"editors' page has one path", http.MethodGet, "/admin/", http.StatusNotFound, "not_found"},
		{"post to editors' page", http.MethodPost, "/admin", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"directory", http.MethodGet, "/static/", http.StatusNotFound, "not_found"},
		{"other path", http.MethodGet, "/index.html", http.StatusNotFound, "not_found"},
		{"post to page", http.MethodPost, "/", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"delete static", http.MethodDelete, "/static/app.js", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			req, _ := http.NewRequest(test.method, srv.URL+test.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Error struct {
					Status  int    `json:"status"`
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(readAll(t, res)), &got); err != nil {
				t.Fatalf("body is not the JSON error envelope: %v", err)
			}
			if res.StatusCode != test.status || got.Error.Status != test.status || got.Error.Code != test.code || got.Error.Message == "" {
				t.Errorf("got %d %+v, want %d with code %q and a message", res.StatusCode, got.Error, test.status, test.code)
			}
		})
	}
}

// TestPageHasNoInlineCode guards the Content-Security-Policy: inline script,
// inline handlers and style attributes would be blocked by it, markup built
// from strings could run a document's text, and an address elsewhere would
// break the page offline.
func TestPageHasNoInlineCode(t *testing.T) {
	for _, name := range []string{"static/index.html", "static/dom.js", "static/app.js", "static/admin.html", "static/admin.js", "static/admin.css"} {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// The SVG namespace is a name, not an address the page loads.
		s := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")
		for _, bad := range []string{" style=", "<script>", " onclick=", " onload=", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "http://", "https://"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
