package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// algoliaAnswer is the part of a result the tests read.
type algoliaAnswer struct {
	Hits []struct {
		ObjectID  string                   `json:"objectID"`
		ID        string                   `json:"id"`
		Title     string                   `json:"title"`
		Highlight map[string]algoliaMarked `json:"_highlightResult"`
		Snippet   map[string]algoliaMarked `json:"_snippetResult"`
	} `json:"hits"`
	NbHits      uint64                    `json:"nbHits"`
	Page        int                       `json:"page"`
	NbPages     int                       `json:"nbPages"`
	HitsPerPage int                       `json:"hitsPerPage"`
	Facets      map[string]map[string]int `json:"facets"`
	DidYouMean  string                    `json:"did_you_mean"`
	Relaxed     *search.Relaxed           `json:"relaxed"`
	Message     string                    `json:"message"`
	Status      int                       `json:"status"`
}

func (s *testService) algolia(t *testing.T, requests ...string) []algoliaAnswer {
	t.Helper()
	body := `{"requests":[` + strings.Join(requests, ",") + `]}`
	rec := s.do(t, http.MethodPost, "/1/indexes/*/queries", strings.NewReader(body), http.Header{"Content-Type": {"text/plain"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", body, rec.Code, rec.Body)
	}
	var out struct {
		Results []algoliaAnswer `json:"results"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Results) != len(requests) {
		t.Fatalf("POST %s: %d results (%v), want %d\n%s", body, len(out.Results), err, len(requests), rec.Body)
	}
	return out.Results
}

func (s *testService) v1(t *testing.T, query string) *search.Response {
	t.Helper()
	rec := s.get(t, "/v1/search?"+query)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/search?%s: %d %s", query, rec.Code, rec.Body)
	}
	return mustDecode[*search.Response](t, rec)
}

// nonZero is a /v1 facet as Algolia lists it: value to count, zeros left
// out but for the refined values.
func nonZero(vals []search.FacetValue, refined ...string) map[string]int {
	out := map[string]int{}
	for _, v := range vals {
		if v.Count > 0 || slices.Contains(refined, v.Value) {
			out[v.Value] = v.Count
		}
	}
	return out
}

// TestAlgoliaAnswersAsV1Does: the same question asked in Algolia's
// protocol and of /v1 gets the same hits in the same order, the same
// totals and facet counts, and the same corrections.
func TestAlgoliaAnswersAsV1Does(t *testing.T) {
	s := mustSeedService(t, Config{})
	for _, c := range []struct {
		algolia, v1 string
		refined     []string
	}{
		{`{"indexName":"projects","query":"workers","hitsPerPage":5,"page":1,"facets":["country","sector"],"facetFilters":[["country:Mexico","country:Peru"]]}`,
			"q=workers&per_page=5&page=2&facets=country,sector&country=Mexico&country=Peru", []string{"Mexico", "Peru"}},
		{`{"indexName":"projects_title_asc","hitsPerPage":4,"facets":"status","facetFilters":["status:active"]}`,
			"sort=title&per_page=4&facets=status&status=active", []string{"active"}},
		{`{"indexName":"projects_start_desc","query":"","hitsPerPage":6,"page":2,"facets":["*"]}`,
			"sort=-start&per_page=6&page=3&facets=country,region,sector,area,partner,kind,status", nil},
		{`{"indexName":"projects","query":"mining zzyzzx","hitsPerPage":10,"facets":["country"]}`, "q=mining+zzyzzx&facets=country", nil},
		{`{"indexName":"projects","query":"migrnat workers","facets":["country"]}`, "q=migrnat+workers&per_page=20&facets=country", nil},
	} {
		got := s.algolia(t, c.algolia)[0]
		want := s.v1(t, c.v1)
		var gotIDs, wantIDs []string
		for _, h := range got.Hits {
			if h.ObjectID != h.ID {
				t.Errorf("%s: objectID %q, id %q", c.algolia, h.ObjectID, h.ID)
			}
			gotIDs = append(gotIDs, h.ObjectID)
		}
		for _, h := range want.Hits {
			wantIDs = append(wantIDs, h.ID)
		}
		if len(wantIDs) == 0 {
			t.Errorf("%s: /v1 found nothing; the case tests nothing", c.v1)
		}
		if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
			t.Errorf("%s: hits (-v1 +algolia):\n%s", c.algolia, diff)
		}
		if got.NbHits != want.Total || got.DidYouMean != want.DidYouMean || !cmp.Equal(got.Relaxed, want.Relaxed) {
			t.Errorf("%s: nbHits %d, did_you_mean %q, relaxed %v; /v1 %d, %q, %v", c.algolia, got.NbHits, got.DidYouMean, got.Relaxed, want.Total, want.DidYouMean, want.Relaxed)
		}
		if pages := int((want.Total + uint64(want.PerPage) - 1) / uint64(want.PerPage)); got.NbPages != pages || got.Page != want.Page-1 || got.HitsPerPage != want.PerPage {
			t.Errorf("%s: page %d of %d at %d a page; /v1 page %d of %d at %d", c.algolia, got.Page, got.NbPages, got.HitsPerPage, want.Page, pages, want.PerPage)
		}
		wantFacets := map[string]map[string]int{}
		for f, vals := range want.Facets {
			wantFacets[f] = nonZero(vals, c.refined...)
		}
		if diff := cmp.Diff(wantFacets, got.Facets); diff != "" {
			t.Errorf("%s: facets (-v1 +algolia):\n%s", c.algolia, diff)
		}
	}
}

// TestAlgoliaParameterForms: v5's flattened fields, v4's URL-encoded
// params string and a params object map onto the same search request.
func TestAlgoliaParameterForms(t *testing.T) {
	want := search.Request{
		Query:       "mining",
		Filters:     map[string][]string{"country": {"Mexico", "Peru"}, "sector": {"Mining"}},
		Facets:      []string{"country", "sector"},
		FacetSize:   20,
		Sort:        "-start",
		Page:        3,
		PerPage:     5,
		NoHighlight: true,
		Matches:     true,
	}
	v4 := url.Values{
		"query": {"mining"}, "page": {"2"}, "hitsPerPage": {"5"}, "maxValuesPerFacet": {"20"},
		"facets":       {`["country","sectors"]`},
		"facetFilters": {`[["country:Mexico","country:Peru"],"sector:Mining"]`},
		"userToken":    {"anonymous-1"}, "clickAnalytics": {"true"},
	}.Encode()
	for _, body := range []string{
		`{"indexName":"projects_start_desc","query":"mining","page":2,"hitsPerPage":5,"maxValuesPerFacet":20,"facets":["country","sectors"],"facetFilters":[["country:Mexico","country:Peru"],["sector:Mining"]],"getRankingInfo":true}`,
		`{"indexName":"projects_start_desc","params":` + jsonString(v4) + `}`,
		`{"indexName":"projects_start_desc","params":{"query":"mining","page":"2","hitsPerPage":5,"maxValuesPerFacet":20,"facets":"country,sectors","facetFilters":[["country:Mexico","country:Peru"],"sector:Mining"]}}`,
		`{"indexName":"projects_start_desc","query":"ignored","length":5,"offset":10,"params":"query=mining&maxValuesPerFacet=20&facets=country,sectors&facetFilters=%5B%5B%22country%3AMexico%22,%22country%3APeru%22%5D,%5B%22sector%3AMining%22%5D%5D"}`,
	} {
		q, err := parseAlgoliaRequest([]byte(body), "", "")
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if diff := cmp.Diff(want, q.req); diff != "" {
			t.Errorf("%s: request (-want +got):\n%s", body, diff)
		}
		if q.names["sector"] != "sectors" || !q.analytics {
			t.Errorf("%s: sector answered as %q, analytics %v", body, q.names["sector"], q.analytics)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// countingEngine counts the searches that reach the engine.
type countingEngine struct {
	Engine
	searches atomic.Int32
}

func (c *countingEngine) Search(ctx context.Context, r search.Request) (*search.Response, error) {
	c.searches.Add(1)
	return c.Engine.Search(ctx, r)
}

// TestAlgoliaExtraFacetQueriesAreNotSearchedAgain: InstantSearch's
// counts-only query per refined facet is answered from the main query's
// disjunctive counts with one engine search for the three, and the answers
// are those /v1 gives to each question asked alone.
func TestAlgoliaExtraFacetQueriesAreNotSearchedAgain(t *testing.T) {
	reg := prometheus.NewRegistry()
	eng := &countingEngine{Engine: mustSeedEngineOn(t, reg)}
	s := mustService(t, Config{Engine: eng, Registry: reg})
	const tags = `"highlightPreTag":"__ais-highlight__","highlightPostTag":"__/ais-highlight__"`
	main := `{"indexName":"projects","query":"workers","facets":["country","sector"],"facetFilters":[["country:Mexico","country:Peru"],["sector:Mining"]],"hitsPerPage":10,"maxValuesPerFacet":20,` + tags + `}`
	country := `{"indexName":"projects","query":"workers","facets":"country","facetFilters":[["sector:Mining"]],"hitsPerPage":0,"page":0,"analytics":false,"clickAnalytics":false,"maxValuesPerFacet":20,` + tags + `}`
	sector := `{"indexName":"projects","query":"workers","facets":"sector","facetFilters":[["country:Mexico","country:Peru"]],"hitsPerPage":0,"page":0,"analytics":false,"clickAnalytics":false,"maxValuesPerFacet":20,` + tags + `}`

	before := metricValues(t, s)
	got := s.algolia(t, main, country, sector)
	if n := eng.searches.Load(); n != 1 {
		t.Errorf("three queries reached the engine as %d searches, want 1", n)
	}
	after := metricValues(t, s)
	if d := after.durations - before.durations; d != 1 {
		t.Errorf("search_duration_seconds counted %v searches, want 1", d)
	}
	if d := after.hits - before.hits; d != 1 {
		t.Errorf("search_hits counted %v searches, want 1", d)
	}

	for i, c := range []struct {
		v1      string
		facet   string
		refined []string
	}{
		{"q=workers&country=Mexico&country=Peru&sector=Mining&facets=country,sector&facet_size=20", "", nil},
		{"q=workers&sector=Mining&facets=country&facet_size=20", "country", nil},
		{"q=workers&country=Mexico&country=Peru&facets=sector&facet_size=20", "sector", nil},
	} {
		want := s.v1(t, c.v1)
		if got[i].NbHits != want.Total {
			t.Errorf("query %d: nbHits %d; /v1 %s: %d", i, got[i].NbHits, c.v1, want.Total)
		}
		if c.facet == "" {
			continue
		}
		if len(got[i].Hits) != 0 || got[i].HitsPerPage != 0 {
			t.Errorf("query %d: %d hits at %d a page, want counts only", i, len(got[i].Hits), got[i].HitsPerPage)
		}
		if diff := cmp.Diff(map[string]map[string]int{c.facet: nonZero(want.Facets[c.facet])}, got[i].Facets); diff != "" {
			t.Errorf("query %d: facets (-/v1 +answered from the main query):\n%s", i, diff)
		}
	}
	if got[1].NbHits == got[0].NbHits {
		t.Errorf("the country query's total %d equals the main query's: the case does not show the filter left out", got[1].NbHits)
	}

	// A counts-only query asking another question is searched.
	eng.searches.Store(0)
	other := strings.Replace(country, `"query":"workers"`, `"query":"mining"`, 1)
	res := s.algolia(t, main, other)
	if n := eng.searches.Load(); n != 2 {
		t.Errorf("a counts-only query with other text was answered with %d searches, want 2", n)
	}
	if want := s.v1(t, "q=mining&sector=Mining&facets=country&facet_size=20"); res[1].NbHits != want.Total {
		t.Errorf("counts-only query searched alone: nbHits %d, /v1 %d", res[1].NbHits, want.Total)
	}
}

type metricsSnapshot struct {
	durations, hits, zero float64
}

func metricValues(t *testing.T, s *testService) metricsSnapshot {
	t.Helper()
	f := scrape(t, s)
	var m metricsSnapshot
	for _, kind := range []string{"query", "browse"} {
		if h := series(f, "search_duration_seconds", map[string]string{"kind": kind}); h != nil {
			m.durations += float64(h.GetHistogram().GetSampleCount())
		}
	}
	if h := series(f, "search_hits", nil); h != nil {
		m.hits = float64(h.GetHistogram().GetSampleCount())
	}
	if c := series(f, "search_zero_results_total", nil); c != nil {
		m.zero = c.GetCounter().GetValue()
	}
	return m
}

// TestAlgoliaOnlyVisitorsSearchesCount: counts-only queries, facet-value
// searches and analytics:false never count as zero-result searches; a
// visitor's search that finds nothing does.
func TestAlgoliaOnlyVisitorsSearchesCount(t *testing.T) {
	s := mustService(t, Config{})
	for _, c := range []struct {
		requests []string
		zero     float64
	}{
		{[]string{`{"indexName":"projects","query":"zzqqxx"}`}, 1},
		{[]string{`{"indexName":"projects","query":"zzqqxx","facets":"country","hitsPerPage":0}`}, 0},
		{[]string{`{"indexName":"projects","query":"zzqqxx","analytics":false}`}, 0},
		{[]string{`{"indexName":"projects","query":"zzqqxx","type":"facet","facet":"country","facetQuery":"p"}`}, 0},
		{[]string{`{"indexName":"projects","query":"zzqqxx","facets":["country"],"facetFilters":["country:Peru"]}`, `{"indexName":"projects","query":"zzqqxx","facets":"country","hitsPerPage":0,"analytics":false}`}, 1},
	} {
		before := metricValues(t, s)
		for _, r := range s.algolia(t, c.requests...) {
			if r.NbHits != 0 {
				t.Fatalf("%v found %d documents; the case needs none", c.requests, r.NbHits)
			}
		}
		if d := metricValues(t, s).zero - before.zero; d != c.zero {
			t.Errorf("%v: search_zero_results_total rose by %v, want %v", c.requests, d, c.zero)
		}
	}
}

// TestAlgoliaHighlightsAreRawText: InstantSearch escapes what it gets and
// then turns its placeholders into <mark>, so the service must send the
// text as written with the requested tags: an apostrophe, an ampersand or
// markup escaped here would show on the page as &#39; or &amp;.
func TestAlgoliaHighlightsAreRawText(t *testing.T) {
	doc := index.Document{ID: "cocoa", Kind: index.KindProject, Title: `Workers' rights & <b>safety</b> in cocoa`,
		Description: strings.Repeat("Farmers grow food. ", 20) + `Cocoa workers' unions <mark>organise</mark> & bargain. ` + strings.Repeat("Children go to school. ", 20)}
	s := mustService(t, Config{Engine: mustEngine(t, append(testDocs(), doc)...)})
	got := s.algolia(t, `{"indexName":"projects","query":"cocoa","highlightPreTag":"__ais-highlight__","highlightPostTag":"__/ais-highlight__","attributesToSnippet":["description:10"]}`)[0]
	if len(got.Hits) != 1 {
		t.Fatalf("%d hits for cocoa, want 1", len(got.Hits))
	}
	h := got.Hits[0]
	want := algoliaMarked{Value: `Workers' rights & <b>safety</b> in __ais-highlight__cocoa__/ais-highlight__`, MatchLevel: "full", MatchedWords: []string{"cocoa"}}
	if diff := cmp.Diff(want, h.Highlight["title"]); diff != "" {
		t.Errorf("title highlight (-want +got):\n%s", diff)
	}
	if d := h.Highlight["description"].Value; !strings.HasPrefix(d, "Farmers grow food.") || !strings.Contains(d, "__ais-highlight__Cocoa__/ais-highlight__ workers' unions <mark>organise</mark> & bargain.") || !strings.HasSuffix(d, "go to school. ") {
		t.Errorf("description highlight is not the whole raw description, marked: %q", d)
	}
	if diff := cmp.Diff("…grow food. Farmers grow food. __ais-highlight__Cocoa__/ais-highlight__ workers' unions <mark>organise</mark> &…", h.Snippet["description"].Value); diff != "" {
		t.Errorf("ten-word snippet (-want +got):\n%s", diff)
	}
	for _, m := range []algoliaMarked{h.Highlight["title"], h.Highlight["description"], h.Snippet["description"], h.Snippet["title"]} {
		if strings.Contains(m.Value, "&amp;") || strings.Contains(m.Value, "&#39;") || strings.Contains(m.Value, "&lt;") {
			t.Errorf("escaped text in %q", m.Value)
		}
	}

	// Browsing marks nothing and still gives the attributes.
	browse := s.algolia(t, `{"indexName":"projects","query":"","hitsPerPage":1}`)[0].Hits[0]
	if m := browse.Highlight["title"]; m.MatchLevel != "none" || m.Value != browse.Title {
		t.Errorf("browse title highlight %+v, want the raw title unmarked", m)
	}
}

// TestAlgoliaErrorsTheClientCanRead: errors carry message and status at
// the top, as Algolia's client reads them, beside the envelope; overload
// and timeouts are 429 with Retry-After, which the client does not take
// for a dead host.
func TestAlgoliaErrorsTheClientCanRead(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	slow := &fakeEngine{search: func(ctx context.Context, r search.Request) (*search.Response, error) {
		if r.Query == "block" {
			entered.Done()
			<-release
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	s := mustService(t, Config{Engine: slow, SearchTimeout: 30 * time.Millisecond, MaxSearches: 1})
	post := func(body string) (int, http.Header, algoliaAnswer, errorBody) {
		rec := s.do(t, http.MethodPost, "/1/indexes/*/queries", strings.NewReader(body), nil)
		return rec.Code, rec.Header(), mustDecode[algoliaAnswer](t, rec), mustDecode[errorBody](t, rec)
	}

	code, h, a, env := post(`{"requests":[{"indexName":"projects","query":"slow"}]}`)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || a.Status != 429 || a.Message == "" || env.Error.Code != CodeTimeout {
		t.Errorf("timeout: %d Retry-After %q, body %+v %+v; want 429, Retry-After, message and code timeout", code, h.Get("Retry-After"), a, env)
	}

	entered.Add(1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.do(t, http.MethodPost, "/1/indexes/projects/query", strings.NewReader(`{"query":"block"}`), nil)
	}()
	entered.Wait()
	code, h, a, env = post(`{"requests":[{"indexName":"projects","query":"more"}]}`)
	close(release)
	<-done
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || a.Status != 429 || env.Error.Code != CodeOverloaded {
		t.Errorf("overload: %d Retry-After %q, body %+v %+v; want 429, Retry-After, code overloaded", code, h.Get("Retry-After"), a, env)
	}

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/1/indexes/projects/browse", http.StatusNotFound},
		{http.MethodGet, "/1/indexes/*/queries", http.StatusMethodNotAllowed},
	} {
		rec := s.do(t, c.method, c.path, nil, nil)
		a := mustDecode[algoliaAnswer](t, rec)
		if rec.Code != c.status || a.Status != c.status || a.Message == "" {
			t.Errorf("%s %s: %d %s, want %d with message and status", c.method, c.path, rec.Code, rec.Body, c.status)
		}
		mustError(t, rec, c.status, map[int]string{404: CodeNotFound, 405: CodeMethodNotAllowed}[c.status])
	}
}

// TestAlgoliaIsACORSSimpleRequest: the browser client POSTs text/plain
// with its credentials in the query string, so no preflight is sent; the
// answer must allow the page's origin.
func TestAlgoliaIsACORSSimpleRequest(t *testing.T) {
	s := mustService(t, Config{CORSOrigins: []string{"http://127.0.0.1:3000"}})
	rec := s.do(t, http.MethodPost, "/1/indexes/*/queries?x-algolia-api-key=public&x-algolia-application-id=labor-search",
		strings.NewReader(`{"requests":[{"indexName":"projects","query":"mining"}]}`),
		http.Header{"Content-Type": {"text/plain"}, "Origin": {"http://127.0.0.1:3000"}})
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "http://127.0.0.1:3000" {
		t.Errorf("simple cross-origin POST: %d, Access-Control-Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

// TestAlgoliaPagesStopAtTheDeepestServed: nbPages never links past the
// first search.MaxDepth hits, and a page past them is answered with the
// counts and no hits, as Algolia answers past its pagination limit,
// without the engine ranking a page.
func TestAlgoliaPagesStopAtTheDeepestServed(t *testing.T) {
	var got []search.Request
	eng := &fakeEngine{search: func(_ context.Context, r search.Request) (*search.Response, error) {
		got = append(got, r)
		hits := []search.Hit{}
		if !r.CountOnly {
			for i := range r.PerPage {
				hits = append(hits, search.Hit{ID: fmt.Sprint("doc-", i), Title: "t"})
			}
		}
		return &search.Response{Total: 123456, Hits: hits}, nil
	}}
	s := mustService(t, Config{Engine: eng})
	for _, c := range []struct {
		body            string
		pages, hits     int
		countOnly       bool
		enginePage, per int
	}{
		{`{"indexName":"projects","query":"a"}`, search.MaxDepth / 20, 20, false, 1, 20},
		{`{"indexName":"projects","query":"a","hitsPerPage":30,"page":332}`, search.MaxDepth / 30, 30, false, 333, 30},
		{`{"indexName":"projects","query":"a","hitsPerPage":30,"page":333}`, search.MaxDepth / 30, 0, true, 333, 30},
		{`{"indexName":"projects","query":"a","hitsPerPage":0,"page":7}`, 0, 0, true, 1, search.DefaultPerPage},
	} {
		got = nil
		a := s.algolia(t, c.body)[0]
		if a.NbPages != c.pages || len(a.Hits) != c.hits || a.NbHits != 123456 {
			t.Errorf("%s: %d pages, %d hits, nbHits %d; want %d pages, %d hits", c.body, a.NbPages, len(a.Hits), a.NbHits, c.pages, c.hits)
		}
		if len(got) != 1 || got[0].CountOnly != c.countOnly || got[0].Page != c.enginePage || got[0].PerPage != c.per {
			t.Errorf("%s: engine asked %+v; want count only %v, page %d of %d", c.body, got, c.countOnly, c.enginePage, c.per)
		}
	}
}

func TestSnippet(t *testing.T) {
	text := "one two three four five six seven eight nine ten"
	at := func(w string) index.Span {
		i := strings.Index(text, w)
		return index.Span{Start: i, End: i + len(w)}
	}
	for _, c := range []struct {
		spans []index.Span
		n     int
		want  string
	}{
		{nil, 3, "one two three…"},
		{nil, 20, text},
		{[]index.Span{at("six")}, 3, "…five [six] seven…"},
		{[]index.Span{at("one")}, 4, "[one] two three four…"},
		{[]index.Span{at("ten")}, 2, "…nine [ten]"},
		{[]index.Span{at("two"), at("eight"), at("nine")}, 4, "…seven [eight] [nine] ten"},
		{[]index.Span{at("three"), {Start: at("three").Start + 2, End: at("four").End}}, 2, "…two [three]…"},
		{[]index.Span{at("three"), {Start: at("three").Start + 2, End: at("four").End}}, 3, "…two [three four]…"},
	} {
		if got := snippet(text, c.spans, c.n, "[", "]", "…"); got != c.want {
			t.Errorf("snippet(%v, %d) = %q, want %q", c.spans, c.n, got, c.want)
		}
	}
}

func TestFacetValuePrefix(t *testing.T) {
	for _, c := range []struct {
		value, typed, want string
	}{
		{"Côte d'Ivoire", "cote", "[Côte] d'Ivoire"},
		{"Côte d'Ivoire", "ivo", "Côte d'[Ivo]ire"},
		{"Côte d'Ivoire", "côte d", "[Côte d]'Ivoire"},
		{"Brazil", "BRA", "[Bra]zil"},
		{"São Tomé and Príncipe", "princ", "São Tomé and [Prínc]ipe"},
		{"Brazil", "raz", ""},
		{"Peru", "", "Peru"},
	} {
		start, end, ok := wordPrefix(c.value, fold(c.typed).text)
		got := ""
		if ok {
			got = c.value
			if end > start {
				got = c.value[:start] + "[" + c.value[start:end] + "]" + c.value[end:]
			}
		}
		if got != c.want {
			t.Errorf("%q typed %q: %q, want %q", c.value, c.typed, got, c.want)
		}
	}
}

// TestAlgoliaFacetSearch: a searchable refinement list's values, counted
// under the query and the other facets' filters, never its own.
func TestAlgoliaFacetSearch(t *testing.T) {
	s := mustSeedService(t, Config{})
	rec := s.do(t, http.MethodPost, "/1/indexes/projects/facets/countries/query", strings.NewReader(`{"params":"facetQuery=m&query=workers&facetFilters=%5B%5B%22country%3APeru%22%5D%2C%5B%22status%3Aactive%22%5D%5D&maxFacetHits=3"}`), nil)
	got := mustDecode[algoliaFacetHits](t, rec)
	want := s.v1(t, "q=workers&status=active&country=Peru&facets=country&facet_size=500")
	var wantHits []algoliaFacetHit
	for _, v := range want.Facets["country"] {
		if strings.HasPrefix(v.Value, "M") && v.Count > 0 {
			wantHits = append(wantHits, algoliaFacetHit{Value: v.Value, Highlighted: "<em>M</em>" + v.Value[1:], Count: v.Count})
		}
	}
	if len(wantHits) < 2 {
		t.Fatalf("/v1 has %d countries starting with M; the case tests nothing", len(wantHits))
	}
	if diff := cmp.Diff(wantHits[:min(3, len(wantHits))], got.FacetHits, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("facet hits (-/v1 counts +facet search):\n%s", diff)
	}
}

// FuzzAlgoliaQueries sends any body to the multi-query route of the real
// handler over the seed documents: never a 5xx, always JSON, an error
// Algolia's client can read, and results that hold together.
func FuzzAlgoliaQueries(f *testing.F) {
	h := seedService(f)
	files, _ := filepath.Glob("testdata/algolia/*.json")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var c algoliaCase
		if json.Unmarshal(raw, &c) == nil && strings.HasPrefix(c.Path, "/1/indexes/*/queries") {
			f.Add([]byte(c.Body))
		}
	}
	f.Add([]byte(`{"requests":[{"indexName":"projects","params":"query=%FF&facetFilters=%5B%22country%3A%22%5D"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/1/indexes/*/queries", bytes.NewReader(body)))
		if rec.Code >= 500 || !json.Valid(rec.Body.Bytes()) || !utf8.Valid(rec.Body.Bytes()) {
			t.Fatalf("status %d, body %.300q", rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			var e algoliaErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Message == "" || e.Error.Status != rec.Code || e.Error.Code == "" || len(e.Message) > maxMessageBytes {
				t.Fatalf("status %d without Algolia's error shape: %s", rec.Code, rec.Body)
			}
			return
		}
		var out struct {
			Results []algoliaAnswer `json:"results"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Results) == 0 {
			t.Fatalf("200 without results: %v %.300s", err, rec.Body)
		}
		for _, r := range out.Results {
			if uint64(len(r.Hits)) > r.NbHits || len(r.Hits) > r.HitsPerPage || (r.HitsPerPage > 0 && r.NbPages > search.MaxDepth/r.HitsPerPage) {
				t.Fatalf("result with %d hits of %d, %d a page, %d pages", len(r.Hits), r.NbHits, r.HitsPerPage, r.NbPages)
			}
			for _, h := range r.Hits {
				if h.ObjectID == "" || h.ObjectID != h.ID {
					t.Fatalf("hit with objectID %q, id %q", h.ObjectID, h.ID)
				}
			}
		}
	})
}
