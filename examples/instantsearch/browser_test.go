package main

// The example page in Debian's Chromium, as a portal would run it: the page
// on one loopback origin, the real service (handlers, engine, the seed
// documents) on another, InstantSearch and Algolia's lite client from the
// npm lockfile calling it across origins. Every check compares what the
// widgets show with what /v1/search answers for the same question.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/browsertest"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

var screenshots = flag.String("screenshots", "", "write a PNG of the example page after a query and a ticked country to this folder")

// testNow is the service's clock, so statuses do not drift.
func testNow() time.Time { return time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC) }

// stack is searchd and the example site, each on a loopback origin.
type stack struct {
	t       *testing.T
	searchd string
	site    string
}

func startStack(t *testing.T) *stack {
	t.Helper()
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	apiLn, siteLn := listen(), listen()
	siteOrigin := "http://" + siteLn.Addr().String()

	ix, err := index.Open("", index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	engine, err := seedengine.New(ix, search.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := seeds.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Upsert(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	h, err := handlers.New(handlers.Config{Engine: engine, Registry: prometheus.NewRegistry(), Now: testNow, CORSOrigins: []string{siteOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewUnstartedServer(h)
	api.Listener = apiLn
	api.Start()
	t.Cleanup(api.Close)

	s, err := newSite(api.URL, "node_modules")
	if err != nil {
		t.Skipf("the example's npm packages are not installed (%v); run npm ci in examples/instantsearch (.ci/checks.d/45-clients.sh does)", err)
	}
	site := httptest.NewUnstartedServer(s)
	site.Listener = siteLn
	site.Start()
	t.Cleanup(site.Close)
	return &stack{t: t, searchd: api.URL, site: site.URL}
}

// v1 asks /v1/search the same question.
func (s *stack) v1(query string) *search.Response {
	s.t.Helper()
	res, err := http.Get(s.searchd + "/v1/search?" + query)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var out search.Response
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		s.t.Fatalf("GET /v1/search?%s: %s", query, res.Status)
	}
	return &out
}

func ids(r *search.Response) []string {
	out := []string{}
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func counts(vals []search.FacetValue) map[string]int {
	out := map[string]int{}
	for _, v := range vals {
		out[v.Value] = v.Count
	}
	return out
}

// ui is what the widgets show.
type ui struct {
	Status    string     `json:"status"`
	Query     string     `json:"query"`
	NbHits    int        `json:"nbHits"`
	IDs       []string   `json:"ids"`
	Countries []listItem `json:"countries"`
	Sectors   []listItem `json:"sectors"`
	Page      string     `json:"page"`
	Notice    string     `json:"notice"`
	Error     string     `json:"error"`
}

type listItem struct {
	Value   string `json:"value"`
	Label   string `json:"label"`
	Count   int    `json:"count"`
	Checked bool   `json:"checked"`
}

const readUI = `(() => {
  const all = (sel, f) => [...document.querySelectorAll(sel)].map(f);
  const items = (id) => all("#" + id + " .ais-RefinementList-item", (li) => ({
    value: li.querySelector("input").value,
    label: li.querySelector(".ais-RefinementList-labelText").innerHTML,
    count: Number(li.querySelector(".ais-RefinementList-count").textContent.replace(/[^0-9]/g, "")),
    checked: li.querySelector("input").checked,
  }));
  const count = document.querySelector("#stats .count");
  return {
    status: document.body.dataset.status || "",
    query: document.querySelector("#searchbox input").value,
    nbHits: count ? Number(count.textContent) : -1,
    ids: all("#hits .hit", (el) => el.dataset.id),
    countries: items("country"),
    sectors: items("sector"),
    page: document.querySelector(".ais-Pagination-item--selected")?.textContent.trim() ?? "",
    notice: document.querySelector("#notice").textContent,
    error: document.querySelector("#error").hidden ? "" : document.querySelector("#error").textContent,
  };
})()`

// waitUI polls the page until ok holds for what it shows, InstantSearch
// being idle, and fails with the last state otherwise.
func waitUI(t *testing.T, tab *browsertest.Tab, what string, ok func(ui) bool) ui {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last ui
	for time.Now().Before(deadline) {
		last = browsertest.Eval[ui](tab, readUI)
		if last.Error != "" {
			t.Fatalf("%s: the page shows an error: %s", what, last.Error)
		}
		if last.Status == "idle" && ok(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(last, "", "  ")
	t.Fatalf("waiting for %s; the page shows:\n%s", what, b)
	return last
}

// setInput types into an input as a visitor's edit would arrive: the
// whole new value, then an input event.
func setInput(selector, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const i = document.querySelector(%q); i.value = %q; i.dispatchEvent(new Event("input", { bubbles: true })); })()`, selector, value))
}

// checkList fails unless every value the list shows has the count the
// service gives it, and the list shows as many values as it may.
func checkList(t *testing.T, what string, shown []listItem, want map[string]int, limit int) {
	t.Helper()
	nonZero := 0
	for _, n := range want {
		if n > 0 {
			nonZero++
		}
	}
	if len(shown) != min(limit, nonZero) {
		t.Errorf("%s: %d values shown, want %d (of %d with documents)", what, len(shown), min(limit, nonZero), nonZero)
	}
	for _, it := range shown {
		if it.Count != want[it.Value] {
			t.Errorf("%s: %s shows %d, the service counts %d", what, it.Value, it.Count, want[it.Value])
		}
	}
}

// TestBrowserInstantSearchExample drives the example page: a query, a
// ticked country, the searchable country list, page 2, the sort, and the
// service's spelling correction, each checked against /v1/search.
func TestBrowserInstantSearchExample(t *testing.T) {
	s := startStack(t)
	tab := browsertest.New(t, 1280, 900, 60*time.Second)
	defer tab.CheckConsole()
	const facets = "facets=country,sector&facet_size=60" // the lists' showMoreLimit: InstantSearch asks maxValuesPerFacet 60

	tab.Do("open the example", chromedp.Navigate(s.site+"/"))
	browse := s.v1("per_page=5&" + facets)
	waitUI(t, tab, "the first page of everything", func(u ui) bool { return slices.Equal(u.IDs, ids(browse)) })

	// A query: the hits are /v1's, in its order, with its total.
	mining := s.v1("q=mining&per_page=5&" + facets)
	tab.Do("type mining", chromedp.Click(chromedp.CSS("#searchbox input")), chromedp.SendKeys(chromedp.CSS("#searchbox input"), "mining"))
	got := waitUI(t, tab, "the hits for mining", func(u ui) bool { return u.Query == "mining" && slices.Equal(u.IDs, ids(mining)) })
	if got.NbHits != int(mining.Total) {
		t.Errorf("stats say %d projects for mining, /v1 %d", got.NbHits, mining.Total)
	}
	checkList(t, "countries for mining", got.Countries, counts(mining.Facets["country"]), 8)

	// The highlights are <mark> elements around the matched words, and
	// the text shows as written: no entity escaped twice.
	marks := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#hits mark.ais-Highlight-highlighted, #hits mark.ais-Snippet-highlighted")].map((m) => m.textContent.toLowerCase())`)
	if len(marks) == 0 {
		t.Error("no <mark> in the hits for mining")
	}
	for _, m := range marks {
		if !strings.HasPrefix(m, "min") {
			t.Errorf("marked %q for mining", m)
		}
	}
	text := browsertest.Eval[string](tab, `document.querySelector("#hits").innerText`)
	if !strings.Contains(text, "'") {
		t.Errorf("no apostrophe in the hits, so the escaping is not tested: %q", text)
	}
	for _, bad := range []string{"&#39;", "&amp;", "&lt;", "ais-highlight"} {
		if strings.Contains(text, bad) {
			t.Errorf("the hits show a literal %q: %q", bad, text)
		}
	}

	// Ticking Peru: the stats and hits are those of mining in Peru; the
	// other countries keep the counts they would add (disjunctive).
	peru := s.v1("q=mining&country=Peru&per_page=5&" + facets)
	tab.Do("tick Peru", chromedp.Click(chromedp.CSS(`#country input[value="Peru"]`)))
	got = waitUI(t, tab, "mining in Peru", func(u ui) bool {
		return slices.Equal(u.IDs, ids(peru)) && slices.ContainsFunc(u.Countries, func(it listItem) bool { return it.Value == "Peru" && it.Checked })
	})
	if got.NbHits != int(peru.Total) {
		t.Errorf("stats say %d projects for mining in Peru, /v1 %d", got.NbHits, peru.Total)
	}
	if peru.Total >= mining.Total {
		t.Errorf("Peru keeps %d of %d projects: the case does not narrow", peru.Total, mining.Total)
	}
	checkList(t, "countries with Peru ticked", got.Countries, counts(peru.Facets["country"]), 8)
	checkList(t, "sectors with Peru ticked", got.Sectors, counts(peru.Facets["sector"]), 8)
	if !cmp.Equal(counts(peru.Facets["country"]), counts(mining.Facets["country"])) {
		t.Error("/v1's country counts change when Peru is ticked; they should ignore the country filter")
	}
	if *screenshots != "" {
		if err := os.MkdirAll(*screenshots, 0o755); err != nil {
			t.Fatal(err)
		}
		tab.Screenshot(filepath.Join(*screenshots, "instantsearch-desktop.png"), false)
	}

	// The searchable country list offers Brazil for "bra", counted as the
	// list counts it, the typed part marked.
	// Typed in one edit: InstantSearch sends a facet search per key and
	// draws each answer as it comes, so keys typed one by one may end on
	// the answer to "br" when it arrives last.
	tab.Do("type bra in the country list", setInput("#country .ais-SearchBox-input", "bra"))
	got = waitUI(t, tab, "the countries offered for bra", func(u ui) bool {
		return len(u.Countries) > 0 && strings.Contains(u.Countries[0].Label, "Bra</mark>")
	})
	if len(got.Countries) != 1 || got.Countries[0].Value != "Brazil" || got.Countries[0].Count != counts(mining.Facets["country"])["Brazil"] {
		t.Errorf("the country list offers %+v for bra; want Brazil alone with %d, bra marked", got.Countries, counts(mining.Facets["country"])["Brazil"])
	}
	tab.Do("clear the country search", setInput("#country .ais-SearchBox-input", ""))
	waitUI(t, tab, "the country list back", func(u ui) bool { return len(u.Countries) > 1 })

	// Page 2 of a broader query shows /v1's second page.
	tab.Do("untick Peru", chromedp.Click(chromedp.CSS(`#country input[value="Peru"]`)))
	tab.Do("search workers", setInput("#searchbox input", "workers"))
	first := s.v1("q=workers&per_page=5&" + facets)
	waitUI(t, tab, "the hits for workers", func(u ui) bool { return u.Query == "workers" && slices.Equal(u.IDs, ids(first)) && u.Page == "1" })
	second := s.v1("q=workers&per_page=5&page=2&" + facets)
	if len(second.Hits) == 0 {
		t.Fatalf("workers has no second page (%d hits)", second.Total)
	}
	tab.Do("go to page 2", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll(".ais-Pagination-item--page a")].find((a) => a.textContent.trim() === "2").click()`))
	waitUI(t, tab, "page 2 of workers", func(u ui) bool { return u.Page == "2" && slices.Equal(u.IDs, ids(second)) })

	// Newest first is the projects_start_desc replica: /v1's -start sort,
	// from page 1 again.
	newest := s.v1("q=workers&sort=-start&per_page=5&" + facets)
	tab.Do("sort newest first", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#sort select"); s.value = "projects_start_desc"; s.dispatchEvent(new Event("change", { bubbles: true })); })()`))
	waitUI(t, tab, "workers newest first", func(u ui) bool { return u.Page == "1" && slices.Equal(u.IDs, ids(newest)) })
	if slices.Equal(ids(newest), ids(first)) {
		t.Error("newest first shows the relevance order; the case tests nothing")
	}

	// searchd's spelling correction reaches the page through the results
	// InstantSearch passes on.
	tab.Do("misspell", setInput("#searchbox input", "migrnat workers"))
	got = waitUI(t, tab, "the spelling suggestion", func(u ui) bool { return strings.Contains(u.Notice, "Did you mean") })
	if want := s.v1("q=migrnat+workers").DidYouMean; !strings.Contains(got.Notice, want) || want == "" {
		t.Errorf("notice %q, /v1's did_you_mean %q", got.Notice, want)
	}
	tab.Do("follow the suggestion", chromedp.Click(chromedp.CSS("#notice button")))
	waitUI(t, tab, "the corrected query", func(u ui) bool { return u.Query == "migrant workers" && u.NbHits > 0 })
}
