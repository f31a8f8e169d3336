package web_test

// End-to-end tests of the search page in a real browser: Debian's Chromium,
// headless, driven with chromedp against the real service (handlers, engine,
// in-memory index with the seed documents) on a loopback port. They skip with
// a message when no Chromium is installed; .ci/install.sh installs it.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mpower/labor-search/analytics"
)

var screenshotDir = flag.String("screenshots", "", "write PNG screenshots of the search page (desktop and phone width) to this folder")

const (
	// testTimeout bounds each browser test, start-up included, so a page
	// that never reaches the state a test waits for fails fast in CI.
	testTimeout = 20 * time.Second
	waitTimeout = 8 * time.Second
)

const migrantTitle = "Protecting Rights of Migrant Workers through Empowerment and Advocacy"

// The four projects of the seed page that work in Mexico.
var mexicoProjects = []string{
	"Building an Independent and Democratic Labor Movement to Protect Worker Rights in Mexico",
	"Improving Gender Equity in the Mexican Workplace",
	"Observation and Engagement for Freedom of Association and Collective Bargaining Rights Realization",
	"Strengthening Workers' Ability to Exercise their Labor Rights in Mexico",
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed: no chromium, chromium-browser or google-chrome on PATH; install Debian's chromium package (.ci/install.sh does) to run the browser tests")
	return ""
}

// tab is one browser tab on the page under test.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newTab starts a headless Chromium of its own with a window of the given
// size; it is closed when the test ends.
func newTab(t *testing.T, base string, width, height int) *tab {
	t.Helper()
	path := chromiumPath(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-registered first: the browser exits before the
	// allocator, and both before t.TempDir removes the profile.
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelBrowser)
	// The first Do starts the browser; it gets the browser's own context so
	// the test's timeout below ends the test, not the browser mid-cleanup.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(browserCtx, testTimeout)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(browserCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("set viewport: %v", err)
	}
	return tb
}

// do runs actions and fails the test, with what the page shows, on an error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v\npage: %s", what, err, tb.snapshot())
	}
}

// open loads a page path such as "/?q=mining" and waits for its first answer.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.base+path))
	tb.waitShown(path)
}

// waitShown waits until the page shows the answer for a page URL such as
// "/?country=Mexico" and no other search is on its way.
func (tb *tab) waitShown(url string) {
	tb.t.Helper()
	tb.waitFor("the answer for "+url, fmt.Sprintf(`document.body.dataset.shown === %q && !document.querySelector("#results").hasAttribute("aria-busy") && location.pathname + location.search === %q`, url, url))
}

// waitFor polls a JavaScript expression until it is true.
func (tb *tab) waitFor(what, expr string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool]("Boolean("+expr+")", chromedp.WithPollingTimeout(waitTimeout))); err != nil {
		tb.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, expr, err, tb.snapshot())
	}
}

func evalJS[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v\npage: %s", expr, err, tb.snapshot())
	}
	return v
}

// pageState is what a visitor sees, read from the page for assertions and
// failure messages.
type pageState struct {
	Search   string   `json:"search"`
	Stats    string   `json:"stats"`
	Error    string   `json:"error"`
	Titles   []string `json:"titles"`
	Kinds    []string `json:"kinds"`
	Notice   string   `json:"notice"`
	Empty    string   `json:"empty"`
	Checked  []string `json:"checked"`
	Input    string   `json:"input"`
	Expanded string   `json:"expanded"`
}

const readState = `(() => {
  const text = (sel) => { const el = document.querySelector(sel); return el && !el.hidden ? el.textContent.trim() : ""; };
  const all = (sel, f) => [...document.querySelectorAll(sel)].map(f);
  return {
    search: location.search,
    stats: text("#stats").replace(/ in [0-9.]+ ms$/, " in … ms"), // the time taken varies
    error: text("#error"),
    titles: all("#results .hit-title", (el) => el.textContent),
    kinds: all("#results .hit-meta .kind", (el) => el.textContent),
    notice: text("#notice"),
    empty: text("#empty"),
    checked: all("#facets input:checked", (el) => el.dataset.field + "=" + el.dataset.value),
    input: document.querySelector("#q").value,
    expanded: document.querySelector("#q").getAttribute("aria-expanded"),
  };
})()`

func (tb *tab) state() pageState {
	tb.t.Helper()
	return evalJS[pageState](tb, readState)
}

// snapshot describes the page for a failure message; it never fails.
func (tb *tab) snapshot() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.ctx), 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](readState))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	return string(b)
}

// checkConsole fails the test on an uncaught exception or a
// Content-Security-Policy violation, which would mean part of the page does
// not work. Failed requests the test caused on purpose are logged too, so
// only these two kinds are errors.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			tb.t.Errorf("browser console: %s (%s:%d)", m, m.URL, m.Line+1)
		}
	}
}

// TestBrowserSuggestAndSearch types into the search box, checks the
// suggestion list and its keyboard behaviour, then runs the search with Enter.
func TestBrowserSuggestAndSearch(t *testing.T) {
	srv := startService(t, nil)
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/")

	tb.do("type migr", chromedp.Click(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), "migr"))
	tb.waitFor("the suggestion list", `!document.querySelector("#suggestions").hidden && document.querySelectorAll("#suggestions [role=option]").length > 0`)
	options := evalJS[[]string](tb, `[...document.querySelectorAll("#suggestions [role=option] .sug-text")].map((el) => el.textContent)`)
	if !slices.ContainsFunc(options, func(s string) bool { return strings.Contains(strings.ToLower(s), "migr") }) {
		t.Errorf("suggestions %q: none contains what was typed", options)
	}
	if got := tb.state().Expanded; got != "true" {
		t.Errorf("aria-expanded with the list open = %q, want true", got)
	}
	if n := evalJS[int](tb, `document.querySelectorAll("#suggestions mark").length`); n == 0 {
		t.Errorf("no <mark> in the suggestions %q", options)
	}

	// Arrow keys move the active option, announced through
	// aria-activedescendant; Escape closes the list and keeps the text.
	tb.do("arrow down", chromedp.SendKeys(chromedp.CSS("#q"), kb.ArrowDown))
	active := evalJS[string](tb, `(() => { const id = document.querySelector("#q").getAttribute("aria-activedescendant"); const el = id && document.getElementById(id); return el ? el.getAttribute("aria-selected") + ":" + el.id : ""; })()`)
	if active != "true:sug-0" {
		t.Errorf("after ArrowDown the active option is %q, want the first, selected", active)
	}
	tb.do("escape", chromedp.SendKeys(chromedp.CSS("#q"), kb.Escape))
	tb.waitFor("the list to close", `document.querySelector("#suggestions").hidden && document.querySelector("#q").getAttribute("aria-expanded") === "false"`)
	if got := tb.state().Input; got != "migr" {
		t.Errorf("after Escape the search box holds %q, want migr", got)
	}

	tb.do("press enter", chromedp.SendKeys(chromedp.CSS("#q"), kb.Enter))
	tb.waitFor("the migrant-workers project first", fmt.Sprintf(`location.search === "?q=migr" && document.querySelector("#results .hit-title")?.textContent === %q`, migrantTitle))
	titleHTML := evalJS[string](tb, `document.querySelector("#results .hit-title").innerHTML`)
	if !strings.Contains(titleHTML, "<mark>") {
		t.Errorf("first title %q has no <mark>", titleHTML)
	}
	if s := evalJS[string](tb, `document.querySelector("#stats").textContent`); !regexp.MustCompile(`^\d+ results? in [0-9.]+ ms$`).MatchString(s) {
		t.Errorf("stats line %q does not give the total and the time taken", s)
	}
	if tb.state().Expanded != "false" {
		t.Error("the suggestion list is still open after Enter")
	}

	// A mouse click on a suggestion searches for it.
	tb.do("type another query",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#q").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#q"), "mexic"))
	tb.waitFor("new suggestions", `document.querySelectorAll("#suggestions [role=option]").length > 0 && [...document.querySelectorAll("#suggestions .sug-text")].some((el) => /mexic/i.test(el.textContent))`)
	picked := evalJS[string](tb, `document.querySelector("#sug-0 .sug-text").textContent`)
	tb.do("click the first suggestion", chromedp.Click(chromedp.CSS("#sug-0")))
	tb.waitFor("the picked suggestion's results", fmt.Sprintf(`new URLSearchParams(location.search).get("q") === %q && document.querySelector("#suggestions").hidden && document.querySelectorAll("#results .hit").length > 0`, picked))
	if got := tb.state().Input; got != picked {
		t.Errorf("search box holds %q after the click, want the suggestion %q", got, picked)
	}
}

// TestBrowserFacetsAndHistory ticks a country, checks the results and the
// disjunctive counts, then walks Back and Forward.
func TestBrowserFacetsAndHistory(t *testing.T) {
	srv := startService(t, nil)
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/")
	tb.waitFor("results and the country facet", `document.querySelectorAll("#results .hit").length > 0 && document.querySelector('#facet-country input[data-value="Mexico"]')`)
	// Countries beyond the first few are behind "Show all"; open it so
	// every country and its count is on screen.
	tb.do("show all countries", chromedp.Click(chromedp.CSS(`#facet-country .facet-more`)))
	tb.waitFor("every country", `document.querySelector("#facet-country .facet-more").getAttribute("aria-expanded") === "true"`)
	before := tb.state()

	tb.do("tick Mexico", chromedp.Click(chromedp.CSS(`#facet-country input[data-value="Mexico"]`)))
	tb.waitShown("/?country=Mexico")
	after := tb.state()
	var projects []string
	for i, title := range after.Titles {
		if after.Kinds[i] == "Project" {
			projects = append(projects, title)
		}
	}
	slices.Sort(projects)
	if diff := cmp.Diff(mexicoProjects, projects); diff != "" {
		t.Errorf("projects with Mexico ticked mismatch (-want +got):\n%s", diff)
	}
	// Counts within the country facet ignore the country filter, so Peru
	// is still offered, with its own count, to widen the search.
	peru := evalJS[string](tb, `document.querySelector('#facet-country input[data-value="Peru"]')?.closest("li").querySelector(".facet-count").textContent ?? ""`)
	if peru == "" || strings.HasPrefix(peru, "0 ") {
		t.Errorf("Peru count with Mexico ticked = %q, want it still shown", peru)
	}
	chips := evalJS[[]string](tb, `[...document.querySelectorAll("#refinements .chip")].map((el) => el.textContent)`)
	if len(chips) != 1 || !strings.Contains(chips[0], "Country: Mexico") {
		t.Errorf("active filter chips %q, want one for Country: Mexico", chips)
	}

	// Back restores the unfiltered results; Forward brings Mexico back.
	tb.do("back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	tb.waitShown("/")
	if diff := cmp.Diff(before, tb.state()); diff != "" {
		t.Errorf("page after Back differs from before ticking Mexico (-before +after):\n%s", diff)
	}
	tb.do("forward", chromedp.Evaluate[chromedp.Void](`history.forward()`))
	tb.waitShown("/?country=Mexico")
	if diff := cmp.Diff(after, tb.state()); diff != "" {
		t.Errorf("page after Forward differs (-want +got):\n%s", diff)
	}

	// Without a mouse: Space on a focused checkbox ticks it, and focus
	// stays on it when the facets are drawn again.
	tb.do("focus Peru", chromedp.Focus(chromedp.CSS(`#facet-country input[data-value="Peru"]`)))
	tb.do("press space", chromedp.KeyEvent(" "))
	tb.waitShown("/?country=Mexico&country=Peru")
	if got := evalJS[string](tb, `document.activeElement.dataset.value ?? document.activeElement.tagName`); got != "Peru" {
		t.Errorf("focus after ticking with Space is on %q, want the Peru checkbox", got)
	}
	both := tb.state()
	if len(both.Titles) <= len(after.Titles) {
		t.Errorf("Mexico or Peru shows %d results, Mexico alone %d: values of one facet should widen (OR)", len(both.Titles), len(after.Titles))
	}

	// A facet of another field narrows (AND): on the test's day one of the
	// four Mexico projects has ended.
	tb.open("/?country=Mexico&status=active")
	if s := tb.state(); len(s.Titles) != 3 {
		t.Errorf("Mexico and active shows %d results %q, want 3", len(s.Titles), s.Titles)
	}
	badges := evalJS[[]string](tb, `[...document.querySelectorAll("#results .badge")].map((el) => el.textContent)`)
	for _, b := range badges {
		if b != "Active" {
			t.Errorf("status filter active shows a %q badge", b)
		}
	}
}

// TestBrowserPagingSortAndDates pages through everything, sorts by title and
// sets a date window, each a history entry of its own.
func TestBrowserPagingSortAndDates(t *testing.T) {
	srv := startService(t, nil)
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/")
	first := tb.state()
	if !strings.HasPrefix(first.Stats, "Page 1 of 2 · ") {
		t.Errorf("stats %q, want page 1 of 2 for the seed documents at 10 a page", first.Stats)
	}

	tb.do("next page", chromedp.Click(chromedp.CSS("#pagination .page-next")))
	tb.waitShown("/?page=2")
	second := tb.state()
	for _, title := range second.Titles {
		if slices.Contains(first.Titles, title) {
			t.Errorf("%q is on page 1 and page 2", title)
		}
	}
	if got := evalJS[string](tb, `document.querySelector('#pagination [aria-current="page"]').textContent`); got != "2" {
		t.Errorf("current page marked %q, want 2", got)
	}
	if got := evalJS[string](tb, `document.activeElement.id`); got != "results-heading" {
		t.Errorf("focus after paging is on %q, want the results heading", got)
	}
	tb.do("back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	tb.waitShown("/")

	tb.do("sort by title", chromedp.Evaluate[chromedp.Void](`const s = document.querySelector("#sort"); s.value = "title"; s.dispatchEvent(new Event("change"))`))
	tb.waitShown("/?sort=title")
	titles := tb.state().Titles
	if !slices.IsSortedFunc(titles, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Errorf("titles sorted by title are not in order: %q", titles)
	}

	tb.do("set a date window", chromedp.Evaluate[chromedp.Void](`const f = document.querySelector("#from"); f.value = "2026-09-01"; f.dispatchEvent(new Event("change"))`))
	tb.waitShown("/?from=2026-09-01&sort=title")
	ends := evalJS[[]string](tb, `[...document.querySelectorAll("#results .hit-dates time:last-child")].map((el) => el.getAttribute("datetime"))`)
	if len(ends) == 0 {
		t.Fatalf("no dated results from 2026-09-01: %s", tb.snapshot())
	}
	for _, end := range ends {
		if end < "2026-09-01" {
			t.Errorf("a project ending %s is shown for the window from 2026-09-01", end)
		}
	}
	chips := evalJS[[]string](tb, `[...document.querySelectorAll("#refinements .chip")].map((el) => el.textContent)`)
	if !slices.ContainsFunc(chips, func(c string) bool { return strings.HasPrefix(c, "From Sep 1, 2026") }) {
		t.Errorf("active filter chips %q, want one for the start of the window", chips)
	}
}

// TestBrowserDidYouMean follows the spelling suggestion for a misspelled
// country.
func TestBrowserDidYouMean(t *testing.T) {
	srv := startService(t, nil)
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/?q=Guatamala")
	tb.waitFor("the did-you-mean link", `document.querySelector("#did-you-mean a")`)
	fix := evalJS[string](tb, `document.querySelector("#did-you-mean a").textContent`)
	if !strings.EqualFold(fix, "guatemala") {
		t.Errorf("did you mean %q, want guatemala", fix)
	}
	tb.do("follow it", chromedp.Click(chromedp.CSS("#did-you-mean a")))
	tb.waitFor("results for the corrected query", fmt.Sprintf(`new URLSearchParams(location.search).get("q") === %q && document.querySelectorAll("#results .hit").length > 0 && !document.querySelector("#did-you-mean")`, fix))
	s := tb.state()
	if s.Input != fix {
		t.Errorf("search box holds %q, want %q", s.Input, fix)
	}
	if !slices.ContainsFunc(s.Titles, func(title string) bool { return strings.Contains(title, "Guatemala") }) {
		t.Errorf("results %q: none has Guatemala in its title", s.Titles)
	}
	tb.do("back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	tb.waitFor("the misspelled query again", `new URLSearchParams(location.search).get("q") === "Guatamala" && document.querySelector("#q").value === "Guatamala" && document.querySelector("#did-you-mean a")`)
}

// getJSON decodes the JSON answer of a GET.
func getJSON[T any](t *testing.T, target string) T {
	t.Helper()
	var v T
	res, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", target, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return v
}

// TestBrowserRelaxedBanner: a search that few documents fully match shows
// its partial matches after the full ones, and the banner says so truly:
// how many hits match every word, then what the others match.
func TestBrowserRelaxedBanner(t *testing.T) {
	srv := startService(t, nil)
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	for _, test := range []struct {
		q      string
		banner *regexp.Regexp
	}{
		// Some hits match every word, the rest the rarer word.
		{"mexico union", regexp.MustCompile(`^(\d+) results? match(es)? every word; then results matching “([^”]+)”\.$`)},
		// None matches both.
		{"sugarcane cocoa", regexp.MustCompile(`^No result matches every word; showing results matching (“[^”]+”|some of .+)\.$`)},
	} {
		api := getJSON[struct {
			Total   int
			Hits    []struct{ Title string }
			Relaxed struct {
				AllWords int `json:"all_words"`
				Kept     string
			}
		}](t, srv.URL+"/v1/search?q="+url.QueryEscape(test.q))
		tb.open("/?q=" + url.QueryEscape(test.q))
		tb.waitFor("the results and the banner", `document.querySelectorAll("#results .hit").length > 0 && document.querySelector("#relaxed")`)
		s := tb.state()
		m := test.banner.FindStringSubmatch(s.Notice)
		if m == nil {
			t.Errorf("%q: banner %q does not say what happened", test.q, s.Notice)
			continue
		}
		if strings.HasPrefix(s.Notice, "No result") != (api.Relaxed.AllWords == 0) {
			t.Errorf("%q: banner %q, but the API says %d hits match every word", test.q, s.Notice, api.Relaxed.AllWords)
		}
		if api.Relaxed.AllWords > 0 {
			if n, _ := strconv.Atoi(m[1]); n != api.Relaxed.AllWords || m[3] != api.Relaxed.Kept {
				t.Errorf("%q: banner %q, API all_words %d kept %q", test.q, s.Notice, api.Relaxed.AllWords, api.Relaxed.Kept)
			}
			if len(s.Titles) <= api.Relaxed.AllWords {
				t.Errorf("%q: %d hits shown, want partial matches after the %d full ones", test.q, len(s.Titles), api.Relaxed.AllWords)
			}
		}
		if len(s.Titles) != min(api.Total, 10) {
			t.Errorf("%q: %d hits shown, the API has %d", test.q, len(s.Titles), api.Total)
		}
	}
}

// TestBrowserEmptyState asks for something nothing matches under a filter
// and clears the filters from the empty state.
func TestBrowserEmptyState(t *testing.T) {
	srv := startService(t, nil)
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/?q=mexico&status=upcoming")
	tb.waitFor("the empty state", `!document.querySelector("#empty").hidden`)
	s := tb.state()
	if len(s.Titles) != 0 || !strings.Contains(s.Empty, "Nothing matched") || !strings.Contains(s.Stats, "0 results") {
		t.Errorf("empty state: %+v", s)
	}
	tb.do("clear filters", chromedp.Click(chromedp.CSS("#empty-clear")))
	tb.waitFor("results without filters", `location.search === "?q=mexico" && document.querySelectorAll("#results .hit").length > 0`)
}

// TestBrowserAPIError shows the API's own error message, then the message
// for a service that cannot be reached.
func TestBrowserAPIError(t *testing.T) {
	const message = "the index is being rebuilt; try again in a minute"
	srv := startService(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/search" && r.URL.Query().Get("q") == "broken" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, `{"error":{"status":503,"code":"not_ready","message":%q}}`, message)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/?q=broken")
	tb.waitFor("the error message", `!document.querySelector("#error").hidden`)
	s := tb.state()
	if !strings.Contains(s.Error, message) || len(s.Titles) != 0 {
		t.Errorf("error box %q with %d results, want the API's message and no results", s.Error, len(s.Titles))
	}
	if role := evalJS[string](tb, `document.querySelector("#error").getAttribute("role")`); role != "alert" {
		t.Errorf("error box role = %q, want alert", role)
	}

	// The API's own validation message reaches the visitor too.
	tb.open("/?q=mining&from=2024-13-45")
	tb.waitFor("the validation message", `!document.querySelector("#error").hidden`)
	if s := tb.state(); !strings.Contains(s.Error, "from") {
		t.Errorf("error box %q does not name the bad parameter", s.Error)
	}

	tb.open("/?q=mining")
	tb.waitFor("results", `document.querySelectorAll("#results .hit").length > 0`)
	srv.CloseClientConnections()
	srv.Close()
	tb.do("search with the service gone", chromedp.Evaluate[chromedp.Void](`document.querySelector("#sort").value = "title"; document.querySelector("#sort").dispatchEvent(new Event("change"))`))
	tb.waitFor("the unreachable message", `!document.querySelector("#error").hidden`)
	if s := tb.state(); !strings.Contains(s.Error, "Cannot reach the search service") {
		t.Errorf("error box %q, want the cannot-reach message", s.Error)
	}
}

// TestBrowserHostileText answers with text that would run script if the page
// put it in as markup: in titles, descriptions, countries, highlight
// fragments (as the API would never send them) and suggestions. Nothing may
// run, and the visitor sees the characters.
func TestBrowserHostileText(t *testing.T) {
	const hostile = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`
	srv := startService(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body any
			switch r.URL.Path {
			case "/v1/search":
				body = map[string]any{
					"query": "x", "total": 1, "page": 1, "per_page": 10, "took_ms": 1.5,
					"hits": []map[string]any{{
						"id": "x", "kind": "project", "title": "Title " + hostile, "description": "Description " + hostile,
						"countries": []string{"Country " + hostile}, "regions": []string{}, "sectors": []string{hostile},
						"areas": []string{}, "partners": []string{hostile}, "start": "2020-01-01", "end": "2030-01-01",
						"status": "active", "score": 1,
						"highlights": map[string][]string{
							"title":       {"<mark>Title</mark> " + hostile},
							"description": {"<mark>Description</mark> " + hostile},
						},
					}},
					"facets":       map[string][]map[string]any{"country": {{"value": "Country " + hostile, "count": 1}}},
					"did_you_mean": hostile,
				}
			case "/v1/suggest":
				body = map[string]any{"query": "x", "took_ms": 0.5, "suggestions": []map[string]any{
					{"text": hostile, "kind": "query", "highlight": "<mark>x</mark>" + hostile, "count": 1},
				}}
			default:
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		})
	})
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/?q=x")
	tb.do("type", chromedp.Click(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), "y"))
	tb.waitFor("the suggestion", `document.querySelectorAll("#suggestions [role=option]").length > 0`)

	if got := evalJS[string](tb, `String(window.__pwned)`); got != "undefined" {
		t.Errorf("window.__pwned = %s: text from the API ran as script", got)
	}
	if n := evalJS[int](tb, `document.querySelectorAll("main script, main img, #suggestions script, #suggestions img").length`); n != 0 {
		t.Errorf("%d script or img elements made from API text", n)
	}
	title := evalJS[string](tb, `document.querySelector("#results .hit-title").textContent`)
	if title != "Title "+hostile {
		t.Errorf("title shows %q, want the characters %q", title, "Title "+hostile)
	}
	if n := evalJS[int](tb, `document.querySelectorAll("#results .hit-title mark").length`); n != 1 {
		t.Errorf("title has %d <mark>, want the one highlight", n)
	}
	for _, sel := range []string{"#results .chips-country", "#facet-country", "#did-you-mean a"} {
		text := evalJS[string](tb, fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
		if !strings.Contains(text, "<script>") {
			t.Errorf("%s shows %q, want the characters of the script tag", sel, text)
		}
	}
}

// TestBrowserScreenshots writes what a person should look at: the page with
// results and facets at desktop and phone width, and the suggestion list.
func TestBrowserScreenshots(t *testing.T) {
	if *screenshotDir == "" {
		t.Skip("no -screenshots DIR given")
	}
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startService(t, nil)
	save := func(tb *tab, name string, full bool) {
		t.Helper()
		shot := chromedp.CaptureScreenshot()
		if full {
			shot = chromedp.FullScreenshot(100)
		}
		png, err := chromedp.Run(tb.ctx, shot)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		file := filepath.Join(*screenshotDir, name)
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", file)
	}
	settle := func(tb *tab) {
		t.Helper()
		tb.waitFor("a settled page", `document.body.dataset.shown === location.pathname + location.search && !document.querySelector("#results").hasAttribute("aria-busy")`)
	}

	t.Run("desktop", func(t *testing.T) {
		tb := newTab(t, srv.URL, 1280, 900)
		defer tb.checkConsole()
		tb.open("/?q=workers+rights&country=Mexico&country=Peru")
		settle(tb)
		save(tb, "desktop-results.png", true)

		tb.open("/")
		tb.do("type", chromedp.Click(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), "min"))
		tb.waitFor("suggestions", `document.querySelectorAll("#suggestions [role=option]").length > 0`)
		tb.do("arrow down", chromedp.SendKeys(chromedp.CSS("#q"), kb.ArrowDown+kb.ArrowDown))
		settle(tb)
		save(tb, "desktop-suggestions.png", false)

		tb.open("/?q=Guatamala")
		settle(tb)
		save(tb, "desktop-did-you-mean.png", false)

		tb.open("/?q=mexico&status=upcoming")
		settle(tb)
		save(tb, "desktop-empty.png", false)

		// The dark scheme, for visitors whose system asks for it.
		if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		}); err != nil {
			t.Fatalf("emulate dark scheme: %v", err)
		}
		tb.open("/?q=workers+rights&country=Mexico&country=Peru")
		settle(tb)
		save(tb, "desktop-dark.png", false)
	})
	t.Run("phone", func(t *testing.T) {
		tb := newTab(t, srv.URL, 390, 844)
		defer tb.checkConsole()
		tb.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		tb.open("/?q=mining")
		settle(tb)
		save(tb, "phone-results.png", false)
		tb.do("open filters", chromedp.Click(chromedp.CSS("#filters-toggle")))
		tb.waitFor("the filter panel", `document.querySelector("#filters-toggle").getAttribute("aria-expanded") === "true"`)
		save(tb, "phone-filters.png", false)
	})
}

// TestBrowserClickCounted: the page sends its tab's session token with
// each search and, when a visitor opens a hit, a beacon that query
// analytics count as a click on that search.
func TestBrowserClickCounted(t *testing.T) {
	srv, store, clock := startAnalyticsService(t)
	tb := newTab(t, srv.URL, 1280, 900)
	defer tb.checkConsole()
	tb.open("/?q=mining")
	token := evalJS[string](tb, `sessionStorage.getItem("labor-search-session") ?? ""`)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(token) {
		t.Errorf("session token %q, want 32 hex digits in sessionStorage", token)
	}
	if api := evalJS[string](tb, `document.querySelector("#api-call").textContent`); strings.Contains(api, "session") {
		t.Errorf("the API call shown to the visitor carries the session: %q", api)
	}
	second := evalJS[string](tb, `document.querySelectorAll("#results .hit-link")[1].getAttribute("href")`)
	if !strings.HasPrefix(second, "/v1/documents/") {
		t.Fatalf("the second hit's link is %q, want its document", second)
	}
	// The click leaves the page for the document; the beacon goes anyway.
	tb.do("open the second hit", chromedp.Click(chromedp.CSS(`#results .hit:nth-child(2) .hit-link`)))

	// The search folds for the window; once it has passed, the search and
	// the beacon's click are counted.
	clock.Advance(analytics.DefaultFoldWindow)
	day := store.Today()
	var got []analytics.QueryStats
	deadline := time.Now().Add(waitTimeout)
	for {
		var err error
		if got, _, err = store.Queries(day, day, analytics.FilterAll, 10); err != nil {
			t.Fatal(err)
		}
		// The beacon may still be on its way.
		if len(got) > 0 && got[0].Clicks > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := []analytics.QueryStats{{Query: "mining", Counts: analytics.Counts{Searches: 1, ClickedSearches: 1, Clicks: 1}}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(analytics.Counts{}, "LastSeen")); diff != "" {
		t.Errorf("analytics after the click mismatch (-want +got):\n%s", diff)
	}
}
