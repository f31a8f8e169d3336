package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// TestBrowserIndexedScript indexes a document whose title and description
// are markup, through the real engine and API (not a stubbed answer), then
// searches for it on the page: nothing runs, no element is made from it,
// and the visitor reads the characters.
func TestBrowserIndexedScript(t *testing.T) {
	ix, err := index.Open("", index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	synonyms, err := seeds.Synonyms()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := search.New(ix, search.Options{Synonyms: synonyms, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	const title = `<script>alert(1)</script> Kiln workers <img src=x onerror="window.__pwned=1">`
	docs, err := seeds.Documents()
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, index.Document{
		ID: "hostile", Kind: index.KindProject, Title: title,
		Description: `Brick kiln <b onmouseover="window.__pwned=2">workers</b> <svg onload="window.__pwned=3"></svg> organise.`,
		Countries:   []string{`<i onclick="window.__pwned=4">Peru</i>`},
		Start:       "2024-01-01", End: "2027-12-31",
	})
	if err := engine.Upsert(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	h, err := handlers.New(handlers.Config{Engine: engine, Registry: prometheus.NewRegistry(), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	// An alert would open a dialog; the page would stop answering and the
	// waits below would fail.
	tb.open("/?q=kiln")
	tb.waitFor("the hostile hit", `[...document.querySelectorAll("#results .hit-title")].some(el => el.textContent.includes("alert(1)"))`)
	tb.do("hover and click the hit's text", chromedp.Click(chromedp.CSS("#results .hit-title")))
	tb.do("type a completion", chromedp.Click(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), " wor"))
	tb.waitFor("the suggestions", `document.querySelectorAll("#suggestions [role=option]").length > 0`)

	if got := evalJS[string](tb, `String(window.__pwned)`); got != "undefined" {
		t.Errorf("window.__pwned = %s: indexed text ran as script", got)
	}
	if n := evalJS[int](tb, `document.querySelectorAll("[onerror], [onload], [onclick], [onmouseover], main script, main img, main b, main i, #suggestions script, #suggestions img").length`); n != 0 {
		t.Errorf("%d elements made from the indexed text", n)
	}
	titles := evalJS[[]string](tb, `[...document.querySelectorAll("#results .hit-title")].map(el => el.textContent)`)
	found := false
	for _, got := range titles {
		if strings.Contains(got, "alert(1)") {
			found = true
			if got != title {
				t.Errorf("the title reads %q, want the characters %q", got, title)
			}
		}
	}
	if !found {
		t.Errorf("the hostile document is not among the hits: %q", titles)
	}
}
