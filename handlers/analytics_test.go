package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mpower/labor-search/analytics"
	"github.com/mpower/labor-search/internal/testkit"
)

var analyticsStart = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// analyticsService is a service with a query-analytics store in a file,
// so a test can close and reopen it as a restart does.
type analyticsService struct {
	*testService
	store *analytics.Store
}

func openAnalytics(tb testing.TB, path string, clock *testkit.Clock) *analyticsService {
	tb.Helper()
	reg := prometheus.NewRegistry()
	store, err := analytics.Open(analytics.Options{Path: path, Now: clock.Now, FlushInterval: -1, Registerer: reg})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	// The clock stands still between requests: no limit on events.
	s := mustService(tb, Config{Registry: reg, Analytics: store, APIKey: testKey, Now: clock.Now, EventRate: -1})
	return &analyticsService{testService: s, store: store}
}

func (s *analyticsService) search(tb testing.TB, query string) (queryID string, counted bool) {
	tb.Helper()
	rec := s.get(tb, "/v1/search?"+query)
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET /v1/search?%s = %d %s", query, rec.Code, rec.Body)
	}
	body := mustDecode[map[string]any](tb, rec)
	id, ok := body["query_id"].(string)
	return id, ok
}

func (s *analyticsService) postSearch(tb testing.TB, body string) (string, bool) {
	tb.Helper()
	rec := s.do(tb, http.MethodPost, "/v1/search", strings.NewReader(body), nil)
	if rec.Code != http.StatusOK {
		tb.Fatalf("POST /v1/search %s = %d %s", body, rec.Code, rec.Body)
	}
	id, ok := mustDecode[map[string]any](tb, rec)["query_id"].(string)
	return id, ok
}

// click sends a beacon as the page does: a JSON string as text/plain.
func (s *analyticsService) click(tb testing.TB, queryID, doc string, position int) eventReply {
	tb.Helper()
	b, _ := json.Marshal(map[string]any{"type": "click", "query_id": queryID, "document_id": doc, "position": position})
	rec := s.do(tb, http.MethodPost, "/v1/events", strings.NewReader(string(b)), http.Header{"Content-Type": {"text/plain;charset=UTF-8"}})
	if rec.Code != http.StatusAccepted {
		tb.Fatalf("POST /v1/events = %d %s", rec.Code, rec.Body)
	}
	return mustDecode[eventReply](tb, rec)
}

func (s *analyticsService) report(tb testing.TB, target string) string {
	tb.Helper()
	rec := s.do(tb, http.MethodGet, target, nil, authHeader(testKey))
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET %s = %d %s", target, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// jsonEqual fails unless got holds the same JSON as want.
func jsonEqual(tb testing.TB, what, want, got string) {
	tb.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("%s: the expected JSON does not parse: %v", what, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		tb.Fatalf("%s: the answer is not JSON: %v\n%s", what, err, got)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// TestQueryAnalytics is the Done-when: real searches with the
// prefixes of search-as-you-type in one session, analytics=false, a later
// page, InstantSearch's helper queries, suggestions and clicks, then every
// report checked exactly, the same after a restart, and the day dropped
// once it is older than the bound.
func TestQueryAnalytics(t *testing.T) {
	clock := testkit.NewClock(analyticsStart)
	path := filepath.Join(t.TempDir(), "analytics.db")
	s := openAnalytics(t, path, clock)
	at := func(d time.Duration) { clock.Set(analyticsStart.Add(d)) }
	const tab1, tab2, tab3 = "tab-one-123", "tab-two-456", "tab-three-789"

	// Typing "mining" in one tab: three searches, one query counted.
	idM, okM := s.search(t, "q=m&session="+tab1)
	at(200 * time.Millisecond)
	idMi, okMi := s.search(t, "q=mi&session="+tab1)
	at(400 * time.Millisecond)
	idMining, okMining := s.search(t, "q=mining&per_page=1&session="+tab1)
	if !okM || !okMi || !okMining || idM == idMi || idMi == idMining {
		t.Fatalf("query ids %q %q %q: each counted search needs its own", idM, idMi, idMining)
	}
	// Page 2 of the same search, analytics=false and an empty query are
	// not searches to count, and carry no query_id.
	at(600 * time.Millisecond)
	for _, q := range []string{"q=mining&per_page=1&page=2&session=" + tab1, "q=mining&analytics=false", "q=&session=" + tab1, "country=Peru"} {
		if id, ok := s.search(t, q); ok {
			t.Errorf("%s answered query_id %q; it must not be counted", q, id)
		}
	}
	// A click on the results of the first keystroke goes to "mining"; the
	// same document again is a repeat.
	at(800 * time.Millisecond)
	for _, c := range []struct {
		id, doc  string
		position int
		want     eventReply
	}{
		{idM, "peru-mining", 1, eventReply{Accepted: true}},
		{idMining, "peru-mining", 1, eventReply{Reason: "repeat_click"}},
		{idMining, "mexico-mining", 2, eventReply{Accepted: true}},
	} {
		if got := s.click(t, c.id, c.doc, c.position); got != c.want {
			t.Errorf("click on %s = %+v, want %+v", c.doc, got, c.want)
		}
	}

	at(5 * time.Second)
	idZero, _ := s.search(t, "q=xylophone")
	// POST with a session: the same text twice folds into one search.
	at(6 * time.Second)
	if _, ok := s.postSearch(t, `{"q":"safer mining zebra","session":"`+tab2+`"}`); !ok {
		t.Error("POST search has no query_id")
	}
	at(7 * time.Second)
	s.postSearch(t, `{"q":"Safer  Mining Zebra ","session":"`+tab2+`","page":1}`)
	if _, ok := s.postSearch(t, `{"q":"mining","analytics":false}`); ok {
		t.Error("POST with analytics false answered a query_id")
	}

	// InstantSearch: the main query counts and, with clickAnalytics,
	// carries queryID; a counts-only query, a facet-value search in the
	// batch and the facet-value route do not count.
	at(8 * time.Second)
	batch := `{"requests":[
	  {"indexName":"projects","query":"peru","hitsPerPage":5,"clickAnalytics":true,"userToken":"` + tab3 + `","facets":["country"]},
	  {"indexName":"projects","query":"peru","hitsPerPage":0,"facets":"country","analytics":false,"clickAnalytics":false},
	  {"indexName":"projects","query":"peru","hitsPerPage":0,"facets":"country"},
	  {"indexName":"projects","type":"facet","facet":"country","facetQuery":"pe","query":"peru"}]}`
	rec := s.do(t, http.MethodPost, "/1/indexes/*/queries", strings.NewReader(batch), http.Header{"Content-Type": {"text/plain"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("algolia batch = %d %s", rec.Code, rec.Body)
	}
	var results struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &results); err != nil {
		t.Fatal(err)
	}
	idAlgolia, _ := results.Results[0]["queryID"].(string)
	if idAlgolia == "" {
		t.Errorf("the main query has no queryID: %v", results.Results[0])
	}
	for i, r := range results.Results[1:] {
		if id, ok := r["queryID"]; ok {
			t.Errorf("helper query %d has queryID %v", i+1, id)
		}
	}
	rec = s.do(t, http.MethodPost, "/1/indexes/projects/query", strings.NewReader(`{"params":"query=peru&hitsPerPage=3&analytics=false&clickAnalytics=true"}`), nil)
	if strings.Contains(rec.Body.String(), "queryID") {
		t.Errorf("a query with analytics false answered a queryID: %s", rec.Body)
	}
	s.do(t, http.MethodPost, "/1/indexes/projects/facets/country/query", strings.NewReader(`{"params":"facetQuery=pe&query=peru"}`), nil)
	s.get(t, "/v1/suggest?q=min")

	at(9 * time.Second)
	if got := s.click(t, idAlgolia, "peru-mining", 1); !got.Accepted {
		t.Errorf("click on the Algolia queryID = %+v", got)
	}
	if got := s.click(t, "0123456789abcdef01234567", "peru-mining", 1); got != (eventReply{Reason: "unknown_query_id"}) {
		t.Errorf("click on an unknown id = %+v", got)
	}
	if _, ok := s.search(t, "q=Mining"); !ok {
		t.Error("a search without a session is not counted")
	}
	if idZero == "" {
		t.Error("the zero-result search has no query_id")
	}

	at(20 * time.Second)
	const allQueries = `{"from":"2026-11-27","to":"2026-12-03","filter":"all","total":4,"queries":[
	  {"query":"mining","count":2,"zero_results":0,"relaxed":0,"clicks":2,"click_through":0.5,"last_seen":"2026-12-03T10:00:09Z"},
	  {"query":"peru","count":1,"zero_results":0,"relaxed":0,"clicks":1,"click_through":1,"last_seen":"2026-12-03T10:00:08Z"},
	  {"query":"safer mining zebra","count":1,"zero_results":0,"relaxed":1,"clicks":0,"click_through":0,"last_seen":"2026-12-03T10:00:07Z"},
	  {"query":"xylophone","count":1,"zero_results":1,"relaxed":0,"clicks":0,"click_through":0,"last_seen":"2026-12-03T10:00:05Z"}]}`
	const zeroQueries = `{"from":"2026-12-03","to":"2026-12-03","filter":"zero_results","total":1,"queries":[
	  {"query":"xylophone","count":1,"zero_results":1,"relaxed":0,"clicks":0,"click_through":0,"last_seen":"2026-12-03T10:00:05Z"}]}`
	const relaxedQueries = `{"from":"2026-12-01","to":"2026-12-03","filter":"relaxed","total":1,"queries":[
	  {"query":"safer mining zebra","count":1,"zero_results":0,"relaxed":1,"clicks":0,"click_through":0,"last_seen":"2026-12-03T10:00:07Z"}]}`
	const noClickQueries = `{"from":"2026-11-27","to":"2026-12-03","filter":"no_clicks","total":1,"queries":[
	  {"query":"safer mining zebra","count":1,"zero_results":0,"relaxed":1,"clicks":0,"click_through":0,"last_seen":"2026-12-03T10:00:07Z"}]}`
	const limited = `{"from":"2026-11-27","to":"2026-12-03","filter":"all","total":4,"queries":[
	  {"query":"mining","count":2,"zero_results":0,"relaxed":0,"clicks":2,"click_through":0.5,"last_seen":"2026-12-03T10:00:09Z"}]}`
	zeroDay := func(date string) string {
		return `{"date":"` + date + `","searches":0,"zero_results":0,"relaxed":0,"clicked_searches":0,"clicks":0,"zero_result_rate":0,"relaxed_rate":0,"click_through_rate":0,"other_searches":0}`
	}
	const today = `"searches":5,"zero_results":1,"relaxed":1,"clicked_searches":2,"clicks":3,"zero_result_rate":0.2,"relaxed_rate":0.2,"click_through_rate":0.4,"other_searches":0`
	summary := `{"from":"2026-11-27","to":"2026-12-03","retention_days":90,"days":[` +
		zeroDay("2026-11-27") + "," + zeroDay("2026-11-28") + "," + zeroDay("2026-11-29") + "," + zeroDay("2026-11-30") + "," +
		zeroDay("2026-12-01") + "," + zeroDay("2026-12-02") + `,{"date":"2026-12-03",` + today + `}],"totals":{` + today + `}}`
	reports := []struct{ target, want string }{
		{"/v1/analytics/queries", allQueries},
		{"/v1/analytics/queries?filter=zero_results&from=2026-12-03&to=2026-12-03", zeroQueries},
		{"/v1/analytics/queries?filter=relaxed&from=2026-12-01", relaxedQueries},
		{"/v1/analytics/queries?filter=no_clicks", noClickQueries},
		{"/v1/analytics/queries?limit=1", limited},
		{"/v1/analytics/summary", summary},
	}
	check := func(s *analyticsService, when string) {
		t.Helper()
		for _, r := range reports {
			jsonEqual(t, when+" "+r.target, r.want, s.report(t, r.target))
		}
	}
	check(s, "before the restart")
	for outcome, want := range map[string]float64{"results": 3, "zero_results": 1, "relaxed": 1} {
		if got := testutil.ToFloat64(mustCounter(t, s.reg, "search_analytics_searches_total", outcome)); got != want {
			t.Errorf("search_analytics_searches_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	for name, want := range map[string]float64{"search_analytics_clicks_total": 3, "search_analytics_clicked_searches_total": 2, "search_analytics_folded_total": 3} {
		if got := testutil.ToFloat64(mustCounter(t, s.reg, name, "")); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, token := range []string{tab1, tab2, tab3} {
		if strings.Contains(s.log.String(), token) {
			t.Errorf("the log holds the session token %s", token)
		}
	}

	// A restart: the store closed and opened again from its file.
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAnalytics(t, path, clock)
	check(s, "after the restart")

	// The bound is 90 days, today included: on the 90th day 2026-12-03 is
	// kept, on the 91st it is gone, from the reports and the file.
	at(89 * 24 * time.Hour)
	jsonEqual(t, "on the 90th day", `{"from":"2026-12-03","to":"2026-12-03","filter":"zero_results","total":1,"queries":[
	  {"query":"xylophone","count":1,"zero_results":1,"relaxed":0,"clicks":0,"click_through":0,"last_seen":"2026-12-03T10:00:05Z"}]}`,
		s.report(t, "/v1/analytics/queries?filter=zero_results&from=2026-12-03&to=2026-12-03"))
	at(90 * 24 * time.Hour)
	jsonEqual(t, "on the 91st day", `{"from":"2026-12-03","to":"2026-12-03","filter":"all","total":0,"queries":[]}`,
		s.report(t, "/v1/analytics/queries?from=2026-12-03&to=2026-12-03"))
	jsonEqual(t, "summary on the 91st day", `{"from":"2026-12-03","to":"2026-12-03","retention_days":90,"days":[`+zeroDay("2026-12-03")+`],
	  "totals":{"searches":0,"zero_results":0,"relaxed":0,"clicked_searches":0,"clicks":0,"zero_result_rate":0,"relaxed_rate":0,"click_through_rate":0,"other_searches":0}}`,
		s.report(t, "/v1/analytics/summary?from=2026-12-03&to=2026-12-03"))
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAnalytics(t, path, clock)
	jsonEqual(t, "reopened after the 91st day", `{"from":"2026-12-03","to":"2026-12-03","filter":"all","total":0,"queries":[]}`,
		s.report(t, "/v1/analytics/queries?from=2026-12-03&to=2026-12-03"))
}

// mustCounter finds a counter on reg by name and, when given, its one
// label's value.
func mustCounter(tb testing.TB, reg *prometheus.Registry, name, label string) prometheus.Collector {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label) {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: name}, func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	tb.Fatalf("no %s{%s} on the registry", name, label)
	return nil
}

// TestAnalyticsRoutesNeedTheKey: the reports are the editors', the events
// are public.
func TestAnalyticsRoutesNeedTheKey(t *testing.T) {
	clock := testkit.NewClock(analyticsStart)
	s := openAnalytics(t, "", clock)
	for _, target := range []string{"/v1/analytics/queries", "/v1/analytics/summary"} {
		mustError(t, s.get(t, target), http.StatusUnauthorized, CodeUnauthorized)
		mustError(t, s.do(t, http.MethodGet, target, nil, authHeader("wrong")), http.StatusUnauthorized, CodeUnauthorized)
	}
	noKey := mustService(t, Config{Analytics: s.store})
	mustError(t, noKey.get(t, "/v1/analytics/queries"), http.StatusForbidden, CodeForbidden)
	// Without a store: no query_id, events not counted, reports 503.
	off := mustService(t, Config{APIKey: testKey})
	if strings.Contains(off.get(t, "/v1/search?q=mining").Body.String(), "query_id") {
		t.Error("a service without analytics answered a query_id")
	}
	rec := off.do(t, http.MethodPost, "/v1/events", strings.NewReader(`{"type":"click","query_id":"abc","document_id":"x","position":1}`), nil)
	if rec.Code != http.StatusAccepted || strings.TrimSpace(rec.Body.String()) != `{"accepted":false,"reason":"analytics_off"}` {
		t.Errorf("event without analytics = %d %s", rec.Code, rec.Body)
	}
	mustError(t, off.do(t, http.MethodGet, "/v1/analytics/summary", nil, authHeader(testKey)), http.StatusServiceUnavailable, CodeUnavailable)
}

// TestAnalyticsParams: every parameter of the reports and the search
// parameters that steer counting are checked, with a message naming the
// fault.
func TestAnalyticsParams(t *testing.T) {
	clock := testkit.NewClock(analyticsStart)
	s := openAnalytics(t, "", clock)
	tests := []struct {
		target string
		want   string // part of the message
	}{
		{"/v1/analytics/queries?from=2026-13-01", `from "2026-13-01" is not a date in the form YYYY-MM-DD (UTC)`},
		{"/v1/analytics/queries?to=yesterday", `to "yesterday" is not a date`},
		{"/v1/analytics/queries?from=2026-12-03&to=2026-12-01", "to 2026-12-01 is before from 2026-12-03"},
		{"/v1/analytics/queries?from=2025-01-01&to=2026-01-02", "from 2025-01-01 to 2026-01-02 is 367 days; a report covers at most 366"},
		{"/v1/analytics/queries?filter=zero", `filter "zero" is not one of all, zero_results, relaxed, no_clicks`},
		{"/v1/analytics/queries?filter=no_click", `(did you mean "no_clicks"?)`},
		{"/v1/analytics/queries?limit=0", "limit must be a whole number between 1 and 1000"},
		{"/v1/analytics/queries?limit=1001", "limit must be a whole number between 1 and 1000"},
		{"/v1/analytics/queries?limit=ten", `not "ten"`},
		{"/v1/analytics/queries?limit=1&limit=2", "limit is given 2 times"},
		{"/v1/analytics/queries?since=2026-12-01", `unknown parameter "since" (did you mean "from"?)`},
		{"/v1/analytics/queries?fliter=all", `unknown parameter "fliter" (did you mean "filter"?)`},
		{"/v1/analytics/summary?filter=all", `unknown parameter "filter"`},
		{"/v1/analytics/summary?from=2026-12-05&to=2026-12-04", "to 2026-12-04 is before from 2026-12-05"},
		{"/v1/analytics/summary?from=%zz", "the query string is malformed"},
		{"/v1/search?q=mining&analytics=no", `analytics must be true or false, not "no"`},
		{"/v1/search?q=mining&analytics=true&analytics=false", "analytics is given 2 times"},
		{"/v1/search?q=mining&session=short", "session must be 8 to 64 letters, digits, - or _"},
		{"/v1/search?q=mining&session=" + strings.Repeat("a", 65), "session must be 8 to 64"},
		{"/v1/search?q=mining&session=has+a+space", "session must be 8 to 64"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			msg := mustError(t, s.do(t, http.MethodGet, tt.target, nil, authHeader(testKey)), http.StatusBadRequest, CodeInvalidParameter)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not say %q", msg, tt.want)
			}
		})
	}
	// The defaults and the edges that are valid.
	for target, want := range map[string]string{
		"/v1/analytics/queries?from=2025-12-03&to=2026-12-03": `"from":"2025-12-03","to":"2026-12-03"`,
		"/v1/analytics/queries?to=2026-11-30":                 `"from":"2026-11-24","to":"2026-11-30"`,
		"/v1/analytics/queries?from=2026-12-10":               `"from":"2026-12-10","to":"2026-12-10"`,
		"/v1/analytics/queries?from=&limit=1000&filter=":      `"from":"2026-11-27","to":"2026-12-03","filter":"all"`,
	} {
		if got := s.report(t, target); !strings.Contains(got, want) {
			t.Errorf("%s = %s, want %s", target, got, want)
		}
	}
	for _, body := range []struct{ body, want string }{
		{`{"q":"mining","analytics":"no"}`, "analytics must be true or false"},
		{`{"q":"mining","session":12345678}`, "session must be a string"},
		{`{"q":"mining","session":"bad token!"}`, "session must be 8 to 64"},
	} {
		msg := mustError(t, s.do(t, http.MethodPost, "/v1/search", strings.NewReader(body.body), nil), http.StatusBadRequest, CodeInvalidParameter)
		if !strings.Contains(msg, body.want) {
			t.Errorf("POST %s: message %q does not say %q", body.body, msg, body.want)
		}
	}
}

// TestEventValidation: a malformed event is a 400 naming the fault; a
// well-formed one for an unknown search is a 202 that says why it did not
// count.
func TestEventValidation(t *testing.T) {
	clock := testkit.NewClock(analyticsStart)
	s := openAnalytics(t, "", clock)
	id, _ := s.search(t, "q=mining")
	good := func(edit func(m map[string]any)) string {
		m := map[string]any{"type": "click", "query_id": id, "document_id": "peru-mining", "position": 1}
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, body, contentType string
		status                  int
		want                    string
	}{
		{"empty", "", "", 400, "the event is empty"},
		{"not JSON", "click", "text/plain", 400, "the event must be a JSON object"},
		{"broken JSON", `{"type":`, "", 400, "not valid JSON"},
		{"array", `[1]`, "", 400, "must be a JSON object"},
		{"unknown field", good(func(m map[string]any) { m["user"] = "x" }), "", 400, `unknown field "user"`},
		{"alias", good(func(m map[string]any) { m["queryID"] = "x" }), "", 400, `(did you mean "query_id"?)`},
		{"no type", good(func(m map[string]any) { delete(m, "type") }), "", 400, "type is missing"},
		{"other type", good(func(m map[string]any) { m["type"] = "clik" }), "", 400, `type "clik" is not an event type (did you mean "click"?)`},
		{"type not a string", good(func(m map[string]any) { m["type"] = 1 }), "", 400, "type must be a string"},
		{"no query id", good(func(m map[string]any) { delete(m, "query_id") }), "", 400, "query_id is missing"},
		{"bad query id", good(func(m map[string]any) { m["query_id"] = "<script>" }), "", 400, "is not a query id"},
		{"long query id", good(func(m map[string]any) { m["query_id"] = strings.Repeat("a", 65) }), "", 400, "is not a query id"},
		{"no document", good(func(m map[string]any) { m["document_id"] = " " }), "", 400, "document_id is missing"},
		{"long document", good(func(m map[string]any) { m["document_id"] = strings.Repeat("d", 600) }), "", 400, "document_id is longer than"},
		{"no position", good(func(m map[string]any) { delete(m, "position") }), "", 400, "position is missing"},
		{"position 0", good(func(m map[string]any) { m["position"] = 0 }), "", 400, "position must be between 1 (the first hit) and 10000"},
		{"position too deep", good(func(m map[string]any) { m["position"] = 10001 }), "", 400, "position must be between 1"},
		{"position a fraction", good(func(m map[string]any) { m["position"] = 1.5 }), "", 400, "position must be a whole number"},
		{"position a string", good(func(m map[string]any) { m["position"] = "1" }), "", 400, "position must be a whole number"},
		{"form content type", good(func(map[string]any) {}), "application/x-www-form-urlencoded", 400, "Content-Type \"application/x-www-form-urlencoded\" is not accepted"},
		{"too large", `{"type":"click","query_id":"` + id + `","document_id":"` + strings.Repeat("x", 5000) + `","position":1}`, "", 413, "larger than 4096 bytes"},
		{"JSON", good(func(map[string]any) {}), "application/json", 202, `{"accepted":true}`},
		{"beacon text", good(func(m map[string]any) { m["document_id"] = "mexico-mining" }), "text/plain;charset=UTF-8", 202, `{"accepted":true}`},
		{"repeat", good(func(map[string]any) {}), "", 202, `{"accepted":false,"reason":"repeat_click"}`},
		{"unknown id", good(func(m map[string]any) { m["query_id"] = "feedfacefeedface" }), "", 202, `{"accepted":false,"reason":"unknown_query_id"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			rec := s.do(t, http.MethodPost, "/v1/events", strings.NewReader(tt.body), h)
			if tt.status != http.StatusAccepted {
				code := CodeInvalidParameter
				if tt.status == http.StatusRequestEntityTooLarge {
					code = CodeTooLarge
				}
				if msg := mustError(t, rec, tt.status, code); !strings.Contains(msg, tt.want) {
					t.Errorf("message %q does not say %q", msg, tt.want)
				}
				return
			}
			if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.want {
				t.Errorf("= %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.want)
			}
		})
	}
	mustError(t, s.do(t, http.MethodPost, "/v1/events?"+url.Values{"type": {"click"}}.Encode(), strings.NewReader(good(func(map[string]any) {})), nil), http.StatusBadRequest, CodeInvalidParameter)
}

// TestEventsRateLimit: events have a bucket of their own, so a flood of
// beacons is refused without touching the writes' bucket.
func TestEventsRateLimit(t *testing.T) {
	clock := testkit.NewClock(analyticsStart)
	store, err := analytics.Open(analytics.Options{Now: clock.Now, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s := mustService(t, Config{Analytics: store, APIKey: testKey, Now: clock.Now, EventRate: 1, EventBurst: 2, WriteRate: 1, WriteBurst: 1})
	event := `{"type":"click","query_id":"abc","document_id":"x","position":1}`
	for i := range 2 {
		if rec := s.do(t, http.MethodPost, "/v1/events", strings.NewReader(event), nil); rec.Code != http.StatusAccepted {
			t.Fatalf("event %d = %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := s.do(t, http.MethodPost, "/v1/events", strings.NewReader(event), nil)
	if msg := mustError(t, rec, http.StatusTooManyRequests, CodeRateLimited); !strings.Contains(msg, "too many events") || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("third event: %q, Retry-After %q", msg, rec.Header().Get("Retry-After"))
	}
	if rec := s.do(t, http.MethodPut, "/v1/documents/new-doc", strings.NewReader(`{"title":"New","description":"d"}`), authHeader(testKey)); rec.Code != http.StatusOK {
		t.Errorf("a write after the events' bucket is empty = %d %s", rec.Code, rec.Body)
	}
}
