package handlers

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mpower/labor-search/search"
)

// TestHostileDocumentIsEscaped indexes a document whose text is markup and
// checks every place the API shows it: highlights and suggestions are
// escaped HTML with only <mark> added, and the raw text travels only as
// JSON strings served as application/json with nosniff, which no browser
// renders as a page.
func TestHostileDocumentIsEscaped(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	doc := `{"kind":"project","title":"<script>alert(1)</script> Brick kilns","description":"<img src=x onerror=alert(1)> kiln workers & \"families\" <b>organise</b>","countries":["<svg onload=alert(1)>"]}`
	if rec := s.do(t, http.MethodPut, "/v1/documents/hostile", strings.NewReader(doc), authHeader(testKey)); rec.Code != 200 {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	for _, target := range []string{"/v1/search?q=kilns", "/v1/search?q=script+alert", "/v1/search?q=organise+families", "/v1/search?q=img+onerror"} {
		rec := s.get(t, target)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		resp := mustDecode[search.Response](t, rec)
		i := slices.IndexFunc(resp.Hits, func(h search.Hit) bool { return h.ID == "hostile" })
		if i < 0 {
			t.Fatalf("%s: the document is not found: %s", target, rec.Body)
		}
		h := resp.Hits[i]
		if len(h.Highlights) == 0 {
			t.Fatalf("%s: no highlights", target)
		}
		for field, frags := range h.Highlights {
			for _, f := range frags {
				bare := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(f)
				if strings.ContainsAny(bare, `<>"`) {
					t.Errorf("%s: %s highlight holds markup: %q", target, field, f)
				}
			}
		}
		if title := strings.Join(h.Highlights["title"], ""); strings.Contains(target, "kilns") && !strings.Contains(title, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: title highlight %q does not show the script tag as text", target, title)
		}
		assertNotHTML(t, target, rec.Header())
	}
	rec := s.get(t, "/v1/suggest?q=kil")
	resp := mustDecode[search.SuggestResponse](t, rec)
	shown := false
	for _, sg := range resp.Suggestions {
		if strings.Contains(sg.Text, "<script>") {
			shown = true
			if !strings.Contains(sg.Highlight, "&lt;script&gt;") || strings.Contains(sg.Highlight, "<script") {
				t.Errorf("suggestion highlight %q is not escaped", sg.Highlight)
			}
		}
	}
	if !shown {
		t.Errorf("the hostile title is not among the suggestions for kil: %s", rec.Body)
	}
	assertNotHTML(t, "suggest", rec.Header())
	assertNotHTML(t, "document", s.get(t, "/v1/documents/hostile").Header())
	assertNotHTML(t, "error", s.get(t, "/v1/search?q=<script>&bad=<script>").Header())
}

func assertNotHTML(t *testing.T, what string, h http.Header) {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s: Content-Type %q, want JSON", what, ct)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: no nosniff", what)
	}
}

// TestStrictSecurityHeaders checks the headers' values, not only their
// presence, on the page, its files, the API, errors and CORS preflights.
func TestStrictSecurityHeaders(t *testing.T) {
	s := mustService(t, Config{CORSOrigins: []string{"https://portal.example.org"}})
	wantCSP := map[string]string{
		"default-src":     "'self'",
		"img-src":         "'self' data:",
		"object-src":      "'none'",
		"base-uri":        "'none'",
		"form-action":     "'self'",
		"frame-ancestors": "'none'",
	}
	requests := []struct {
		method, target string
		header         http.Header
	}{
		{"GET", "/", nil},
		{"HEAD", "/", nil},
		{"GET", "/admin", nil},
		{"HEAD", "/admin", nil},
		{"GET", "/static/admin.js", nil},
		{"GET", "/static/app.js", nil},
		{"GET", "/static/dom.js", nil},
		{"GET", "/static/app.css", nil},
		{"GET", "/static/nope.js", nil},
		{"GET", "/v1/search?q=mining", nil},
		{"GET", "/v1/suggest?q=min", nil},
		{"GET", "/v1/search?nope=1", nil},
		{"DELETE", "/v1/search", nil},
		{"PUT", "/v1/documents/x", nil},
		{"GET", "/no/such/page", nil},
		{"GET", "/metrics", nil},
		{"GET", "/openapi.json", nil},
		{"OPTIONS", "/v1/search", http.Header{"Origin": {"https://portal.example.org"}, "Access-Control-Request-Method": {"GET"}}},
	}
	for _, r := range requests {
		rec := s.do(t, r.method, r.target, nil, r.header)
		h := rec.Header()
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options %q", r.method, r.target, got)
		}
		if got := h.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s %s: Referrer-Policy %q", r.method, r.target, got)
		}
		got := map[string]string{}
		for d := range strings.SplitSeq(h.Get("Content-Security-Policy"), ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			if name != "" {
				got[name] = value
			}
		}
		for name, want := range wantCSP {
			if got[name] != want {
				t.Errorf("%s %s: CSP %s = %q, want %q (policy %q)", r.method, r.target, name, got[name], want, h.Get("Content-Security-Policy"))
			}
		}
		for name := range got {
			if _, ok := wantCSP[name]; !ok {
				t.Errorf("%s %s: unexpected CSP directive %q", r.method, r.target, name)
			}
		}
		if p := h.Get("Content-Security-Policy"); strings.Contains(p, "unsafe") || strings.Contains(p, "*") {
			t.Errorf("%s %s: CSP %q allows unsafe sources", r.method, r.target, p)
		}
	}
}
