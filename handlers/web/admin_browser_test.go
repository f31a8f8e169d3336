package web_test

// End-to-end tests of the editors' page at /admin in a real browser, over
// the real service with an API key: searches made over HTTP show up in its
// lists, a zero-result query becomes a synonym from the page, and the query
// then finds a seed project.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/analytics"
	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/handlers/web"
	"github.com/mpower/labor-search/internal/browsertest"
	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
)

const editorsKey = "editors-key-0123456789"

// zeroQuery is a word no seed document holds whose meaning is in the seed
// projects: seamstresses work in garment factories, and the seeds have
// garment projects.
const (
	zeroQuery = "seamstresses"
	seedWord  = "garment"
)

// startEditorsService runs the real service over the seed documents with an
// API key and the real clock: the page asks for the last days by today's
// date in UTC, so the searches must be filed under today.
func startEditorsService(t *testing.T) *httptest.Server {
	t.Helper()
	return startEditorsServiceWith(t, true)
}

// startEditorsServiceWith runs it with query analytics on or off.
func startEditorsServiceWith(t *testing.T, withAnalytics bool) *httptest.Server {
	t.Helper()
	engine, _ := testkit.New(t, testkit.Engine{Seeded: true, SeedDocuments: true, Search: search.Options{ResponseCache: search.DefaultResponseCache}})
	reg := prometheus.NewRegistry()
	cfg := handlers.Config{Engine: engine, Registry: reg, APIKey: editorsKey, WriteRate: -1, EventRate: -1}
	if withAnalytics {
		// FlushInterval -1: the counts are written when read, so a report
		// made right after a search has it without a timer.
		store, err := analytics.Open(analytics.Options{FlushInterval: -1, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		// The server stops before the store closes, as Config.Analytics
		// asks: cleanups run last-registered first.
		t.Cleanup(func() { _ = store.Close() })
		cfg.Analytics = store
	}
	h, err := handlers.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// visit makes the searches visitors made, with no session token, so each
// counts at once and none folds into another as search-as-you-type would,
// and clicks the first hit of the searches listed in click.
func visit(t *testing.T, base string, queries []string, click map[string]bool) {
	t.Helper()
	for _, q := range queries {
		res := getJSON[struct {
			Total   int    `json:"total"`
			QueryID string `json:"query_id"`
			Hits    []struct {
				ID string `json:"id"`
			} `json:"hits"`
		}](t, base+"/v1/search?q="+url.QueryEscape(q))
		if q == zeroQuery && res.Total != 0 {
			t.Fatalf("%q finds %d results before any synonym; the test needs a query that finds nothing", q, res.Total)
		}
		if !click[q] {
			continue
		}
		if res.QueryID == "" || len(res.Hits) == 0 {
			t.Fatalf("search %q: no query_id or no hit to click (%d hits)", q, len(res.Hits))
		}
		body := fmt.Sprintf(`{"type":"click","query_id":%q,"document_id":%q,"position":1}`, res.QueryID, res.Hits[0].ID)
		r, err := http.Post(base+"/v1/events", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusAccepted || !strings.Contains(string(b), `"accepted":true`) {
			t.Fatalf("click on %q: %d %s", q, r.StatusCode, b)
		}
		delete(click, q) // one click per query
	}
}

// adminState is what an editor sees, read from the page.
type adminState struct {
	View      string   `json:"view"`
	KeyError  string   `json:"keyError"`
	Summary   string   `json:"summary"`
	Caption   string   `json:"caption"`
	Rows      []string `json:"rows"`
	Empty     string   `json:"empty"`
	Inspected string   `json:"inspected"`
	Stats     string   `json:"stats"`
	Titles    []string `json:"titles"`
	Synonyms  []string `json:"synonyms"`
	SynError  string   `json:"synError"`
	SynStatus string   `json:"synStatus"`
	Active    string   `json:"active"`
}

const readAdmin = `(() => {
  const text = (sel) => { const el = document.querySelector(sel); return el && !el.hidden ? el.textContent.trim() : ""; };
  const all = (sel, f) => [...document.querySelectorAll(sel)].map(f);
  const a = document.activeElement;
  return {
    view: document.body.dataset.view || "",
    keyError: text("#key-error"),
    summary: text("#summary"),
    caption: text("#queries-caption"),
    // The last column, when last seen, is a time of day.
    rows: all("#queries-body tr", (tr) => [...tr.children].slice(0, 5).map((c) => c.textContent.trim()).join(" | ")),
    empty: text("#queries-empty"),
    inspected: document.body.dataset.inspected ?? "",
    stats: text("#inspect-stats"),
    titles: all("#results .hit-title", (el) => el.textContent),
    synonyms: all("#syn-list .syn-item", (li) => li.dataset.id + ": " + li.querySelector(".syn-terms").textContent),
    synError: text("#syn-error"),
    synStatus: text("#syn-status"),
    active: a ? (a.id || a.tagName.toLowerCase() + (a.className ? "." + a.className.split(" ").join(".") : "")) : "",
  };
})()`

// authGet decodes the JSON answer of a GET made with the editors' key.
func authGet[T any](t *testing.T, target string) T {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+editorsKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v T
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", target, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return v
}

// screenshot writes what the tab shows into the -screenshots folder, when
// one is given.
func screenshot(tab *browsertest.Tab, name string, full bool) {
	tab.T.Helper()
	if *screenshotDir == "" {
		return
	}
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		tab.T.Fatal(err)
	}
	tab.Screenshot(filepath.Join(*screenshotDir, name), full)
}

// panelsFit fails the test when something sticks out of a panel: a table
// wider than its column would be cut off or overlap the next.
func panelsFit(tab *browsertest.Tab, when string) {
	tab.T.Helper()
	wide := browsertest.Eval[[]string](tab, `[...document.querySelectorAll(".panel")].filter((p) => p.offsetParent !== null && p.scrollWidth > p.clientWidth).map((p) => p.getAttribute("aria-labelledby") + ": " + p.scrollWidth + " > " + p.clientWidth)`)
	if len(wide) != 0 {
		tab.T.Errorf("%s: content wider than its panel: %q", when, wide)
	}
}

func adminNow(tab *browsertest.Tab) adminState {
	tab.T.Helper()
	return browsertest.Eval[adminState](tab, readAdmin)
}

// openAdmin loads /admin in a tab of its own, types the key and waits for
// the lists.
func openAdmin(t *testing.T, base string, width, height int) *browsertest.Tab {
	t.Helper()
	tab := browsertest.New(t, width, height, 40*time.Second)
	tab.Do("open /admin", chromedp.Navigate(base+"/admin"))
	tab.WaitFor("the key form", `document.body.dataset.view === "key" && document.activeElement.id === "key"`)
	tab.Do("type the key", chromedp.SendKeys(chromedp.CSS("#key"), editorsKey+kb.Enter))
	waitLists(tab, "all:7")
	return tab
}

// waitLists waits until the query list shows view:days and the synonym
// list has loaded.
func waitLists(tab *browsertest.Tab, shown string) {
	tab.T.Helper()
	tab.WaitFor("the lists for "+shown, fmt.Sprintf(`document.body.dataset.analytics === %q && document.body.dataset.synonyms !== undefined && !document.querySelector("#queries").hasAttribute("aria-busy")`, shown))
}

func pick(tab *browsertest.Tab, radio string, shown string) {
	tab.T.Helper()
	tab.Do("choose "+radio, chromedp.Click(chromedp.CSS(`label[for="`+radio+`"]`)))
	waitLists(tab, shown)
}

// TestBrowserAdminZeroResultToSynonym is the editors' loop: visitors search,
// one search finds nothing, the editor sees it on /admin, adds a synonym
// from it and sees the query find a seed project at once; deleting the set
// from the list puts things back.
func TestBrowserAdminZeroResultToSynonym(t *testing.T) {
	srv := startEditorsService(t)
	garment := getJSON[struct {
		Hits []struct{ Title string }
	}](t, srv.URL+"/v1/search?analytics=false&q="+seedWord)
	if len(garment.Hits) == 0 {
		t.Fatalf("no seed document matches %q", seedWord)
	}
	visit(t, srv.URL, []string{"mining", "mexico", zeroQuery, "mining"}, map[string]bool{"mining": true})

	tab := openAdmin(t, srv.URL, 1280, 900)
	defer tab.CheckConsole()
	s := adminNow(tab)
	want := []string{
		"mining | 2 | – | 1 | 50.0%",
		"mexico | 1 | – | 0 | 0.0%",
		zeroQuery + " | 1 | 1 | 0 | 0.0%",
	}
	if diff := cmp.Diff(want, s.Rows); diff != "" {
		t.Errorf("top queries (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile(`^4 searches from [A-Z][a-z]{2} \d{1,2} to [A-Z][a-z]{2} \d{1,2} \(UTC\) · 25\.0% found nothing · 0\.0% partly matched · 25\.0% click-through$`).MatchString(s.Summary) {
		t.Errorf("summary %q, want 4 searches, 1 finding nothing, 1 clicked", s.Summary)
	}
	if !strings.HasPrefix(s.Caption, "Top queries, ") {
		t.Errorf("caption %q", s.Caption)
	}
	fmt.Printf("PASS admin: top queries %q; summary %q\n", s.Rows, s.Summary)

	pick(tab, "view-noclicks", "no_clicks:7")
	if diff := cmp.Diff([]string{"mexico | 1 | – | 0 | 0.0%"}, adminNow(tab).Rows); diff != "" {
		t.Errorf("queries without a click (-want +got):\n%s", diff)
	}
	// Without a mouse: the period is a pair of radio buttons, so an arrow
	// key moves to the other and chooses it, with a visible focus ring.
	tab.Do("focus the 7 days", chromedp.Focus(chromedp.CSS("#period-7")))
	tab.Do("arrow right", chromedp.KeyEvent(kb.ArrowRight))
	waitLists(tab, "no_clicks:30")
	if got := adminNow(tab); got.Active != "period-30" || !strings.HasPrefix(got.Caption, "Queries without a click, ") || len(got.Rows) != 1 {
		t.Errorf("30 days without a click by keyboard: focus %q caption %q rows %q", got.Active, got.Caption, got.Rows)
	}
	if ring := browsertest.Eval[string](tab, `getComputedStyle(document.querySelector('label[for="period-30"]')).outlineStyle`); ring != "solid" {
		t.Errorf("the focused period's label has outline %q, want a visible ring", ring)
	}

	// The days, newest first, as the summary route counts them.
	type day struct {
		Date             string
		Searches         int
		ZeroResultRate   float64 `json:"zero_result_rate"`
		ClickThroughRate float64 `json:"click_through_rate"`
	}
	from, to := time.Now().UTC().AddDate(0, 0, -29).Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)
	summary := authGet[struct{ Days []day }](t, srv.URL+"/v1/analytics/summary?from="+from+"&to="+to)
	tab.Do("open the days", chromedp.Click(chromedp.CSS("#days summary")))
	days := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#days-body tr")].map((tr) => [...tr.children].map((c) => c.textContent).join(" | "))`)
	if len(summary.Days) != 30 || len(days) != 30 {
		t.Fatalf("30 days: the API lists %d, the page %d", len(summary.Days), len(days))
	}
	today := summary.Days[29]
	wantToday := fmt.Sprintf("%s | %d | %.1f%% | %.1f%%", time.Now().UTC().Format("Jan 2"), today.Searches, today.ZeroResultRate*100, today.ClickThroughRate*100)
	if days[0] != wantToday || days[29] != time.Now().UTC().AddDate(0, 0, -29).Format("Jan 2")+" | 0 | – | –" {
		t.Errorf("days table starts %q and ends %q; want today %q first and a day without searches last", days[0], days[29], wantToday)
	}
	pick(tab, "view-zero", "zero_results:30")
	s = adminNow(tab)
	if diff := cmp.Diff([]string{zeroQuery + " | 1 | 1 | 0 | 0.0%"}, s.Rows); diff != "" {
		t.Fatalf("zero-result queries (-want +got):\n%s", diff)
	}
	if got := browsertest.Eval[string](tab, `location.pathname + location.search`); got != "/admin?days=30&view=zero_results" {
		t.Errorf("the page's address is %q, want the view in it", got)
	}
	fmt.Printf("PASS admin: %q listed under zero-result queries\n", zeroQuery)

	// The query, clicked, shows what a visitor sees: nothing.
	tab.Do("click the zero-result query", chromedp.Click(chromedp.CSS(`#queries-body .query-pick[data-query="`+zeroQuery+`"]`)))
	tab.WaitFor("its results", fmt.Sprintf(`document.body.dataset.inspected === %q`, zeroQuery))
	s = adminNow(tab)
	if s.Stats != "Nothing found for “"+zeroQuery+"”." || len(s.Titles) != 0 {
		t.Errorf("inspecting %q: stats %q, titles %q; want nothing found", zeroQuery, s.Stats, s.Titles)
	}
	if s.Active != "inspect-heading" {
		t.Errorf("focus after choosing a query is on %q, want the results' heading", s.Active)
	}

	// Add synonym: the form starts from the query, the cursor waits for
	// the other terms, and Enter saves.
	tab.Do("add synonym", chromedp.Click(chromedp.CSS("#add-from-query")))
	root := browsertest.Eval[string](tab, `document.querySelector("#syn-root").value`)
	id := browsertest.Eval[string](tab, `document.querySelector("#syn-id").textContent`)
	if root != zeroQuery || id != "Saved as “"+zeroQuery+"”." || adminNow(tab).Active != "syn-terms" {
		t.Errorf("prefilled form: root %q, id line %q, focus %q; want %q, its id, focus on the other terms", root, id, adminNow(tab).Active, zeroQuery)
	}
	tab.Do("type the seed word and Enter", chromedp.SendKeys(chromedp.CSS("#syn-terms"), seedWord+kb.Enter))
	tab.WaitFor("the saved set and the new results", `/now finds/.test(document.querySelector("#syn-status").textContent) && document.querySelectorAll("#results .hit").length > 0`)
	s = adminNow(tab)
	if !slices.Contains(s.Titles, garment.Hits[0].Title) {
		t.Errorf("after the synonym %q shows %q, want the seed project %q", zeroQuery, s.Titles, garment.Hits[0].Title)
	}
	if diff := cmp.Diff([]string{zeroQuery + ": " + zeroQuery + " = " + seedWord}, s.Synonyms); diff != "" {
		t.Errorf("synonym list (-want +got):\n%s", diff)
	}
	if api := getJSON[struct{ Total int }](t, srv.URL+"/v1/search?analytics=false&q="+zeroQuery); api.Total == 0 || !strings.Contains(s.SynStatus, fmt.Sprintf("now finds %d result", api.Total)) {
		t.Errorf("status %q; the API finds %d for %q", s.SynStatus, api.Total, zeroQuery)
	}
	fmt.Printf("PASS admin: synonym %s = %s added from the page; %q now shows %q first\n", zeroQuery, seedWord, zeroQuery, s.Titles[0])
	panelsFit(tab, "desktop, with the results of the synonym")
	screenshot(tab, "admin-desktop.png", true)

	// Delete, by keyboard: Enter on Delete asks, focus waits on Cancel,
	// Escape steps back, Tab then Enter confirms.
	del := `#syn-list .syn-item[data-id="` + zeroQuery + `"] .syn-delete`
	tab.Do("focus delete", chromedp.Focus(chromedp.CSS(del)))
	tab.Do("enter", chromedp.KeyEvent(kb.Enter))
	tab.WaitFor("the question", `document.activeElement.classList.contains("syn-cancel")`)
	tab.Do("escape", chromedp.KeyEvent(kb.Escape))
	tab.WaitFor("no question", `!document.querySelector("#syn-list .syn-cancel") && document.activeElement.classList.contains("syn-delete")`)
	tab.Do("ask again", chromedp.KeyEvent(kb.Enter))
	tab.WaitFor("the question", `document.activeElement.classList.contains("syn-cancel")`)
	tab.Do("tab to delete and confirm", chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	tab.WaitFor("the set gone and the query shown again", fmt.Sprintf(`document.querySelectorAll("#syn-list .syn-item").length === 0 && document.body.dataset.synonyms === "0" && document.body.dataset.inspected === %q && document.querySelectorAll("#results .hit").length === 0`, zeroQuery))
	s = adminNow(tab)
	if len(s.Synonyms) != 0 || s.Stats != "Nothing found for “"+zeroQuery+"”." {
		t.Errorf("after deleting: synonyms %q, stats %q", s.Synonyms, s.Stats)
	}
	if got := browsertest.Eval[string](tab, `document.querySelector("#syn-list-status").textContent`); got != "Deleted “"+zeroQuery+"”." {
		t.Errorf("deletion status %q", got)
	}
	if api := getJSON[struct{ Total int }](t, srv.URL+"/v1/search?analytics=false&q="+zeroQuery); api.Total != 0 {
		t.Errorf("after deleting the set the API still finds %d for %q", api.Total, zeroQuery)
	}
	fmt.Printf("PASS admin: synonym %s deleted from the list; %q finds nothing again\n", zeroQuery, zeroQuery)

	// The editor's own looks were not counted: still one search of it.
	pick(tab, "view-all", "all:30")
	if rows := adminNow(tab).Rows; !slices.Contains(rows, zeroQuery+" | 1 | 1 | 0 | 0.0%") {
		t.Errorf("after the editor's looks the lists say %q, want %q still searched once", rows, zeroQuery)
	}

	// The dark scheme, for editors whose system asks for it.
	if *screenshotDir != "" {
		if _, err := chromedp.Call(tab.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		}); err != nil {
			t.Fatalf("emulate dark scheme: %v", err)
		}
		tab.Do("show mining", chromedp.Click(chromedp.CSS(`#queries-body .query-pick[data-query="mining"]`)))
		tab.WaitFor("its results", `document.body.dataset.inspected === "mining" && document.querySelectorAll("#results .hit").length > 0`)
		tab.Do("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		panelsFit(tab, "desktop, 30 days of all queries")
		screenshot(tab, "admin-desktop-dark.png", false)
	}
}

// TestBrowserAdminKey: a wrong key gets the 401 message and the form again;
// the right key lasts for the tab, through a reload, until forgotten.
func TestBrowserAdminKey(t *testing.T) {
	srv := startEditorsService(t)
	tab := browsertest.New(t, 1280, 900, 30*time.Second)
	defer tab.CheckConsole()
	tab.Do("open /admin", chromedp.Navigate(srv.URL+"/admin"))
	tab.WaitFor("the key form", `document.body.dataset.view === "key" && document.activeElement.id === "key"`)
	if typ := browsertest.Eval[string](tab, `document.querySelector("#key").type`); typ != "password" {
		t.Errorf("key field type %q, want password", typ)
	}

	tab.Do("type a wrong key", chromedp.SendKeys(chromedp.CSS("#key"), "not-the-key"+kb.Enter))
	tab.WaitFor("the 401 message", `document.body.dataset.view === "key" && !document.querySelector("#key-error").hidden`)
	s := adminNow(tab)
	if !strings.HasPrefix(s.KeyError, "The service did not accept this key (401: ") || !strings.HasSuffix(s.KeyError, "Type the key again.") {
		t.Errorf("401 message %q", s.KeyError)
	}
	if s.Active != "key" || browsertest.Eval[string](tab, `document.querySelector("#key").value`) != "" {
		t.Errorf("after a 401 focus is on %q; want the emptied key field", s.Active)
	}
	if got := browsertest.Eval[bool](tab, `document.querySelector("#workspace").hidden && sessionStorage.length === 0`); !got {
		t.Error("after a 401 the lists still show or the wrong key is kept")
	}
	fmt.Printf("PASS admin: a wrong key shows %q\n", s.KeyError)

	tab.Do("type the key", chromedp.SendKeys(chromedp.CSS("#key"), editorsKey+kb.Enter))
	waitLists(tab, "all:7")
	// The key lives in this tab's sessionStorage and nowhere the server
	// or a URL would see it.
	if got := browsertest.Eval[string](tab, `Object.keys(sessionStorage).map((k) => k + "=" + sessionStorage.getItem(k)).join(";") + "|" + localStorage.length + "|" + document.cookie + "|" + location.href`); got != "labor-search.admin-key="+editorsKey+"|0||"+srv.URL+"/admin" {
		t.Errorf("storage, cookies and address: %q", got)
	}
	tab.Do("reload", chromedp.Reload())
	waitLists(tab, "all:7")
	tab.Do("forget the key", chromedp.Click(chromedp.CSS("#forget-key")))
	tab.WaitFor("the key form", `document.body.dataset.view === "key" && sessionStorage.length === 0 && document.querySelector("#key-error").hidden`)
	fmt.Println("PASS admin: the key lasts for the tab, through a reload, until forgotten")
}

// TestBrowserAdminPhone: at 375 px wide nothing scrolls sideways, with the
// lists, a query's results and the form on show.
func TestBrowserAdminPhone(t *testing.T) {
	srv := startEditorsService(t)
	visit(t, srv.URL, []string{"workers rights in the garment and textile industry", zeroQuery, "mexico"}, nil)
	tab := browsertest.New(t, 375, 812, 40*time.Second)
	defer tab.CheckConsole()
	tab.Do("phone viewport", chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	tab.Do("open /admin", chromedp.Navigate(srv.URL+"/admin"))
	tab.WaitFor("the key form", `document.body.dataset.view === "key"`)
	noSideScroll := func(when string) {
		t.Helper()
		w := browsertest.Eval[[]int](tab, `[document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]`)
		if w[0] > w[1] || w[1] != 375 {
			t.Errorf("%s: page %d px wide in a %d px viewport (window %d): it scrolls sideways", when, w[0], w[1], w[2])
		}
	}
	noSideScroll("key form")
	screenshot(tab, "admin-phone-key.png", false)
	tab.Do("type the key", chromedp.SendKeys(chromedp.CSS("#key"), editorsKey+kb.Enter))
	waitLists(tab, "all:7")
	noSideScroll("lists")
	screenshot(tab, "admin-phone-lists.png", false)
	if n := len(adminNow(tab).Rows); n != 3 {
		t.Errorf("%d queries listed, want 3", n)
	}
	// Each query is a card there: the query, then its numbers by name.
	shown := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#queries-body tr:first-child td")].filter((td) => getComputedStyle(td).display !== "none").map((td) => getComputedStyle(td, "::before").content)`)
	if diff := cmp.Diff([]string{`"Searches"`, `"Zero results"`, `"Click-through"`}, shown); diff != "" {
		t.Errorf("numbers shown for a query on a phone (-want +got):\n%s", diff)
	}
	long := "workers rights in the garment and textile industry"
	tab.Do("inspect the long query", chromedp.Click(chromedp.CSS(`#queries-body .query-pick[data-query="`+long+`"]`)))
	tab.WaitFor("its results", fmt.Sprintf(`document.body.dataset.inspected === %q && document.querySelectorAll("#results .hit").length > 0`, long))
	tab.Do("add synonym", chromedp.Click(chromedp.CSS("#add-from-query")))
	noSideScroll("results and the form")
	panelsFit(tab, "phone, results and the form")
	// Buttons and links are big enough to hit with a thumb.
	small := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#workspace button, #workspace label[for], header a, header button")].filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 24).map((el) => el.textContent.trim())`)
	if len(small) != 0 {
		t.Errorf("controls under 24 px high on a phone: %q", small)
	}
	// Focus is in the form's terms field, which the browser scrolled to.
	screenshot(tab, "admin-phone-form.png", false)
	fmt.Println("PASS admin: no sideways scroll at 375 px with the lists, results and form")
}

// TestBrowserAdminHostileText: queries, synonym sets and hits whose text
// would run script if the page put it in as markup. Nothing runs and the
// editor sees the characters.
func TestBrowserAdminHostileText(t *testing.T) {
	const hostile = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`
	page := web.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body any
		switch r.URL.Path {
		case "/admin", "/static/app.css", "/static/admin.css", "/static/dom.js", "/static/admin.js", "/static/favicon.svg":
			page.ServeHTTP(w, r)
			return
		case "/v1/analytics/summary":
			body = map[string]any{"from": "2026-01-01", "to": "2026-01-07", "days": []any{}, "totals": map[string]any{"searches": 1}}
		case "/v1/analytics/queries":
			body = map[string]any{"queries": []map[string]any{
				{"query": hostile, "count": 1, "zero_results": 1, "last_seen": hostile},
				{"query": strings.Repeat("long", 80), "count": 1, "zero_results": 1},
			}, "total": 2}
		case "/v1/synonyms":
			body = map[string]any{"synonyms": []map[string]any{{"id": "x", "root": hostile, "synonyms": []string{hostile}}}, "total": 1}
		case "/v1/search":
			body = map[string]any{"total": 1, "did_you_mean": hostile, "hits": []map[string]any{{
				"id": hostile, "kind": hostile, "title": hostile, "description": hostile,
				"highlights": map[string][]string{"title": {"<mark>T</mark>" + hostile}, "description": {hostile}},
			}}}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	tab := browsertest.New(t, 1280, 900, 30*time.Second)
	defer tab.CheckConsole()
	tab.Do("open /admin", chromedp.Navigate(srv.URL+"/admin"))
	tab.WaitFor("the key form", `document.body.dataset.view === "key"`)
	tab.Do("type a key", chromedp.SendKeys(chromedp.CSS("#key"), "k"+kb.Enter))
	waitLists(tab, "all:7")
	tab.Do("inspect", chromedp.Click(chromedp.CSS("#queries-body .query-pick")))
	tab.WaitFor("results", `document.querySelectorAll("#results .hit").length === 1`)
	tab.Do("add synonym", chromedp.Click(chromedp.CSS("#add-from-query")))
	if got := browsertest.Eval[string](tab, `String(window.__pwned)`); got != "undefined" {
		t.Errorf("window.__pwned = %s: text from the API ran as script", got)
	}
	if n := browsertest.Eval[int](tab, `document.querySelectorAll("main script, main img").length`); n != 0 {
		t.Errorf("%d script or img elements made from API text", n)
	}
	s := adminNow(tab)
	panelsFit(tab, "a long query")
	if len(s.Rows) != 2 || !strings.HasPrefix(s.Rows[0], hostile+" | ") || s.Titles[0] != "T"+hostile || !strings.Contains(s.Synonyms[0], hostile+" → "+hostile) {
		t.Errorf("the page does not show the characters: rows %q titles %q synonyms %q", s.Rows, s.Titles, s.Synonyms)
	}
	if got := browsertest.Eval[string](tab, `document.querySelector("#syn-root").value`); got != hostile {
		t.Errorf("form prefilled with %q", got)
	}
	fmt.Println("PASS admin: markup in queries, hits and synonyms shows as text and runs nothing")
}

// TestBrowserAdminSynonymErrors: the form says what is missing before it
// sends anything, and shows the API's own message when the API refuses a
// set.
func TestBrowserAdminSynonymErrors(t *testing.T) {
	srv := startEditorsService(t)
	// A term longer than any bound on a term the API could set.
	long := strings.Repeat("overlong", 40)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/synonyms/workers", strings.NewReader(fmt.Sprintf(`{"synonyms":["workers",%q]}`, long)))
	req.Header.Set("Authorization", "Bearer "+editorsKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var refused struct {
		Error struct {
			Status  int
			Code    string
			Message string
		}
	}
	err = json.NewDecoder(res.Body).Decode(&refused)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusBadRequest || refused.Error.Message == "" {
		t.Fatalf("PUT of a %d-byte term: %d %+v (%v), want a 400 envelope", len(long), res.StatusCode, refused, err)
	}

	tab := openAdmin(t, srv.URL, 1280, 900)
	defer tab.CheckConsole()
	tab.Do("type a first term and Enter", chromedp.SendKeys(chromedp.CSS("#syn-root"), "workers"+kb.Enter))
	tab.WaitFor("the form's own message", `!document.querySelector("#syn-error").hidden`)
	if s := adminNow(tab); s.SynError != "Type at least one other term." || s.Active != "syn-terms" {
		t.Errorf("no other term: message %q, focus %q; want the message and focus on the terms", s.SynError, s.Active)
	}
	tab.Do("type an overlong term and Enter", chromedp.SendKeys(chromedp.CSS("#syn-terms"), long+kb.Enter))
	want := fmt.Sprintf("%s (%d %s)", refused.Error.Message, refused.Error.Status, refused.Error.Code)
	tab.WaitFor("the API's message", fmt.Sprintf(`document.querySelector("#syn-error").textContent === %q && !document.body.dataset.saving`, want))
	if s := adminNow(tab); len(s.Synonyms) != 0 || s.SynStatus != "" {
		t.Errorf("after a refused set: synonyms %q, status %q", s.Synonyms, s.SynStatus)
	}
	if got := browsertest.Eval[string](tab, `document.querySelector("#syn-terms").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("terms field aria-invalid = %q after the API refused a term", got)
	}
	fmt.Printf("PASS admin: a refused set shows the API's message %q\n", want)
}

// TestBrowserAdminReadsItsWrites: in replicated mode a write answers with
// its Search-Seq, and the page's next reads ask for it (min_seq), so a
// replica behind a load balancer that has not applied the new set yet waits
// for it rather than showing the old results. The key travels in the
// Authorization header only, never in an address.
func TestBrowserAdminReadsItsWrites(t *testing.T) {
	page := web.Handler()
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/static/") {
			page.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		var body any
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/analytics/"):
			body = map[string]any{"queries": []any{}, "total": 0, "days": []any{}, "totals": map[string]any{}}
		case r.URL.Path == "/v1/synonyms":
			body = map[string]any{"synonyms": []any{}, "total": 0}
		case r.URL.Path == "/v1/synonyms/gig" && r.Method == http.MethodPut:
			w.Header().Set("Search-Seq", "42")
			body = map[string]any{"id": "gig", "synonyms": []string{"gig", "platform work"}}
		case r.URL.Path == "/v1/search":
			body = map[string]any{"total": 1, "hits": []map[string]any{{"id": "p", "kind": "project", "title": "Platform work"}}}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)

	tab := browsertest.New(t, 1280, 900, 30*time.Second)
	defer tab.CheckConsole()
	tab.Do("open /admin", chromedp.Navigate(srv.URL+"/admin"))
	tab.WaitFor("the key form", `document.body.dataset.view === "key"`)
	tab.Do("type a key", chromedp.SendKeys(chromedp.CSS("#key"), "k-123"+kb.Enter))
	waitLists(tab, "all:7")
	// The id a set is saved under comes from its first term.
	for _, test := range []struct{ term, id string }{
		{"Forced Labour", "forced-labour"},
		{"  trabajo infantil / niñez ", "trabajo-infantil-ninez"},
		{"C-189", "c-189"},
		{strings.Repeat("ab ", 40), strings.TrimSuffix(strings.Repeat("ab-", 21), "-")},
		{strings.Repeat("x", 70), strings.Repeat("x", 64)},
		{"工作", "set-"},
	} {
		tab.Do("type "+test.term, chromedp.SetValue(chromedp.CSS("#syn-root"), test.term), chromedp.Evaluate[chromedp.Void](`document.querySelector("#syn-root").dispatchEvent(new Event("input"))`))
		line := browsertest.Eval[string](tab, `document.querySelector("#syn-id").textContent`)
		if !strings.HasPrefix(line, "Saved as “"+test.id) || test.id != "set-" && line != "Saved as “"+test.id+"”." {
			t.Errorf("first term %q: %q, want the id %q", test.term, line, test.id)
		}
	}
	tab.Do("clear", chromedp.Click(chromedp.CSS("#syn-clear")))
	tab.Do("fill the form and Enter",
		chromedp.SendKeys(chromedp.CSS("#syn-root"), "gig"),
		chromedp.SendKeys(chromedp.CSS("#syn-terms"), "platform work"+kb.Enter))
	tab.WaitFor("the new results", `/now finds 1 result\./.test(document.querySelector("#syn-status").textContent) && document.body.dataset.synonyms !== undefined`)

	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET /v1/analytics/") {
			got = append(got, c)
		}
	}
	want := []string{
		"GET /v1/synonyms Bearer k-123",
		"PUT /v1/synonyms/gig Bearer k-123",
		"GET /v1/synonyms?min_seq=42 Bearer k-123",
		"GET /v1/search?q=gig&analytics=false&min_seq=42 Bearer k-123",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests after the write (-want +got):\n%s", diff)
	}
	for _, c := range calls {
		if strings.Contains(strings.Fields(c)[1], "k-123") {
			t.Errorf("the key is in an address: %s", c)
		}
	}
	fmt.Println("PASS admin: the reads after a write name its Search-Seq; the key only in the Authorization header")
}

// TestBrowserAdminAnalyticsOff: on a service without query analytics the
// lists say so, in the service's words, and synonyms still work.
func TestBrowserAdminAnalyticsOff(t *testing.T) {
	srv := startEditorsServiceWith(t, false)
	tab := openAdmin(t, srv.URL, 1280, 900)
	defer tab.CheckConsole()
	got := browsertest.Eval[string](tab, `document.querySelector("#queries-error").hidden ? "" : document.querySelector("#queries-error").textContent`)
	if !strings.Contains(got, "(503 ") || len(adminNow(tab).Rows) != 0 {
		t.Errorf("analytics off: the lists say %q, want the service's 503 message", got)
	}
	tab.Do("a one-way set",
		chromedp.Click(chromedp.CSS(`label[for="kind-oneway"]`)),
		chromedp.SendKeys(chromedp.CSS("#syn-root"), zeroQuery),
		chromedp.SendKeys(chromedp.CSS("#syn-terms"), seedWord+", tailors"+kb.Enter))
	tab.WaitFor("the set listed and its results", `document.querySelectorAll("#syn-list .syn-item").length === 1 && document.querySelectorAll("#results .hit").length > 0`)
	if s := adminNow(tab); !slices.Equal(s.Synonyms, []string{zeroQuery + ": " + zeroQuery + " → " + seedWord + ", tailors"}) {
		t.Errorf("synonym list %q, want the one-way set", s.Synonyms)
	}
	fmt.Printf("PASS admin: with analytics off the lists say %q and a one-way set still works\n", got)
}
