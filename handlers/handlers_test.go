package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

func hitIDs(resp search.Response) []string {
	var ids []string
	for _, h := range resp.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestSearchGET(t *testing.T) {
	s := mustService(t, Config{})
	rec := s.get(t, "/v1/search?q=mining&facets=country,sector")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	resp := mustDecode[search.Response](t, rec)
	if resp.Total != 2 || resp.Query != "mining" || resp.Page != 1 || resp.PerPage != 10 {
		t.Errorf("total, query, page, per_page = %d, %q, %d, %d; want 2, mining, 1, 10", resp.Total, resp.Query, resp.Page, resp.PerPage)
	}
	if diff := cmp.Diff([]string{"mexico-mining", "peru-mining"}, hitIDs(resp), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("hits mismatch (-want +got):\n%s", diff)
	}
	marked := false
	for _, h := range resp.Hits {
		for _, frags := range h.Highlights {
			for _, f := range frags {
				marked = marked || strings.Contains(f, "<mark>")
			}
		}
	}
	if !marked {
		t.Errorf("no highlight marks the matched word: %+v", resp.Hits)
	}
	if !strings.Contains(rec.Body.String(), "<mark>") {
		t.Error(`the raw body escapes <mark> as \u003cmark\u003e, unreadable in curl`)
	}
	wantFacets := map[string][]search.FacetValue{
		"country": {{Value: "Mexico", Count: 1}, {Value: "Peru", Count: 1}},
		"sector":  {{Value: "Mining", Count: 2}},
	}
	if diff := cmp.Diff(wantFacets, resp.Facets); diff != "" {
		t.Errorf("facets mismatch (-want +got):\n%s", diff)
	}
}

func TestSearchFiltersAndPaging(t *testing.T) {
	s := mustService(t, Config{})
	tests := []struct {
		query string
		want  []string
	}{
		{"country=Mexico&sort=title&facets=", []string{"mexico-agri", "mexico-mining"}},
		{"country=Mexico&country=Peru&sector=Mining&sort=-start", []string{"mexico-mining", "peru-mining"}},
		{"kind=initiative", []string{"mpower"}},
		{"status=ended&as_of=2024-01-01", []string{"peru-mining"}},
		{"from=2024-01-01&kind=project&sort=start", []string{"mexico-agri", "mexico-mining"}},
		{"sort=title&per_page=1&page=2", []string{"peru-mining"}},
	}
	for _, test := range tests {
		t.Run(test.query, func(t *testing.T) {
			rec := s.get(t, "/v1/search?"+test.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff(test.want, hitIDs(mustDecode[search.Response](t, rec))); diff != "" {
				t.Errorf("hits mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchPOSTMatchesGET(t *testing.T) {
	s := mustService(t, Config{})
	get := mustDecode[search.Response](t, s.get(t, "/v1/search?q=workers&country=Mexico&facets=sector,status&per_page=5"))
	rec := s.do(t, http.MethodPost, "/v1/search", strings.NewReader(`{"q":"workers","country":["Mexico"],"facets":["sector","status"],"per_page":5}`), nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	post := mustDecode[search.Response](t, rec)
	if get.Total == 0 {
		t.Fatal("the GET search found nothing; the comparison would prove little")
	}
	if diff := cmp.Diff(get, post, cmpopts.IgnoreFields(search.Response{}, "TookMs")); diff != "" {
		t.Errorf("POST differs from GET (-get +post):\n%s", diff)
	}
}

func TestEmptyResultsAreArrays(t *testing.T) {
	s := mustService(t, Config{})
	rec := s.get(t, "/v1/search?q=zzzzqqqq&facets=")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["hits"]) != "[]" || string(raw["facets"]) != "{}" {
		t.Errorf("hits = %s, facets = %s; want [] and {} so clients need no null checks", raw["hits"], raw["facets"])
	}
}

func TestSuggest(t *testing.T) {
	s := mustService(t, Config{})
	rec := s.get(t, "/v1/suggest?q=min&limit=5")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	resp := mustDecode[search.SuggestResponse](t, rec)
	if resp.Query != "min" || len(resp.Suggestions) == 0 || len(resp.Suggestions) > 5 {
		t.Fatalf("query %q, %d suggestions; want min and 1..5: %+v", resp.Query, len(resp.Suggestions), resp.Suggestions)
	}
	for _, sg := range resp.Suggestions {
		if !strings.Contains(strings.ToLower(sg.Text), "min") {
			t.Errorf("suggestion %q does not continue %q", sg.Text, "min")
		}
	}
	empty := mustDecode[map[string]json.RawMessage](t, s.get(t, "/v1/suggest?q="))
	if string(empty["suggestions"]) != "[]" {
		t.Errorf("suggestions for an empty q = %s, want []", empty["suggestions"])
	}
}

// TestErrors covers every error the API documents: each gets the JSON
// envelope with the right status and code, and a message that helps.
func TestErrors(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	big := `{"q":"` + strings.Repeat("a", MaxSearchBodyBytes) + `"}`
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		header  http.Header
		status  int
		code    string
		message string
	}{
		{"unknown parameter", "GET", "/v1/search?contry=Mexico", "", nil, 400, CodeInvalidParameter, `unknown parameter "contry" (did you mean "country"?)`},
		{"bad date", "GET", "/v1/search?from=2024-02-30", "", nil, 400, CodeInvalidParameter, "YYYY-MM-DD"},
		{"unknown sort", "GET", "/v1/search?sort=newest", "", nil, 400, CodeInvalidParameter, `sort "newest" is not one of`},
		{"unknown facet", "GET", "/v1/search?facets=colour", "", nil, 400, CodeInvalidParameter, `unknown facet "colour"`},
		{"q too long", "GET", "/v1/search?q=" + strings.Repeat("x", 513), "", nil, 400, CodeInvalidParameter, "the limit is 512"},
		{"per_page out of range", "GET", "/v1/search?per_page=500", "", nil, 400, CodeInvalidParameter, "per_page must be between 1 and 100"},
		{"malformed query string", "GET", "/v1/search?q=%zz", "", nil, 400, CodeInvalidParameter, "query string is malformed"},
		{"suggest unknown parameter", "GET", "/v1/suggest?q=a&size=3", "", nil, 400, CodeInvalidParameter, `(did you mean "limit"?)`},
		{"POST body over 1 MiB", "POST", "/v1/search", big, nil, 413, CodeTooLarge, "larger than 1048576 bytes"},
		{"POST unknown field", "POST", "/v1/search", `{"sector":["Mining"],"sectr":["x"]}`, nil, 400, CodeInvalidParameter, `unknown parameter "sectr"`},
		{"POST with a query string", "POST", "/v1/search?q=a", `{}`, nil, 400, CodeInvalidParameter, "JSON body"},
		{"unknown route", "GET", "/v2/search", "", nil, 404, CodeNotFound, "no route for /v2/search"},
		{"trailing slash", "GET", "/v1/search/", "", nil, 404, CodeNotFound, "no route"},
		{"wrong method", "PATCH", "/v1/search", "", nil, 405, CodeMethodNotAllowed, "method PATCH is not allowed on /v1/search"},
		{"wrong method on a document", "POST", "/v1/documents/x", "", nil, 405, CodeMethodNotAllowed, "not allowed"},
		{"missing document", "GET", "/v1/documents/nope", "", nil, 404, CodeNotFound, "document not found"},
		{"delete missing document", "DELETE", "/v1/documents/nope", "", authHeader(testKey), 404, CodeNotFound, "document not found"},
		{"write without key", "PUT", "/v1/documents/x", `{}`, nil, 401, CodeUnauthorized, "Authorization: Bearer"},
		{"write with wrong key", "DELETE", "/v1/documents/peru-mining", "", authHeader("wrong"), 401, CodeUnauthorized, "Authorization: Bearer"},
		{"bulk with basic auth", "POST", "/v1/documents", "", http.Header{"Authorization": {"Basic " + testKey}}, 401, CodeUnauthorized, "API key"},
		{"PUT id differs", "PUT", "/v1/documents/a", `{"id":"b","kind":"project","title":"T"}`, authHeader(testKey), 400, CodeInvalidParameter, `the body's id "b" differs from the path's id "a"`},
		{"PUT invalid document", "PUT", "/v1/documents/a", `{"kind":"project"}`, authHeader(testKey), 400, CodeInvalidParameter, "title is required"},
		{"PUT unknown field", "PUT", "/v1/documents/a", `{"kind":"project","title":"T","country":["Peru"]}`, authHeader(testKey), 400, CodeInvalidParameter, `unknown field "country" (did you mean "countries"?)`},
		{"PUT wrong type", "PUT", "/v1/documents/a", `{"kind":"project","title":"T","countries":"Peru"}`, authHeader(testKey), 400, CodeInvalidParameter, "countries must be an array of strings"},
		{"PUT body over 1 MiB", "PUT", "/v1/documents/a", `{"title":"` + strings.Repeat("t", MaxDocumentBodyBytes) + `"}`, authHeader(testKey), 413, CodeTooLarge, "larger than"},
		{"bulk malformed line", "POST", "/v1/documents?atomic=true", "{\"id\":\"a\",\"kind\":\"project\",\"title\":\"A\"}\n\n{\"id\":\"b\",\n", authHeader(testKey), 400, CodeInvalidParameter, "line 3: the document is not valid JSON"},
		{"bulk invalid document", "POST", "/v1/documents?atomic=true", "{\"id\":\"a\",\"kind\":\"project\",\"title\":\"A\"}\n{\"id\":\"b\",\"kind\":\"thing\",\"title\":\"B\"}\n", authHeader(testKey), 400, CodeInvalidParameter, `line 2: kind "thing" is not one of`},
		{"bulk empty", "POST", "/v1/documents", "\n\n", authHeader(testKey), 400, CodeInvalidParameter, "no documents"},
		{"bulk over 32 MiB", "POST", "/v1/documents", strings.Repeat("\n", MaxBulkBodyBytes+1), authHeader(testKey), 413, CodeTooLarge, "larger than 33554432 bytes"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var body *strings.Reader
			if test.body != "" {
				body = strings.NewReader(test.body)
			}
			var rec *httptest.ResponseRecorder
			if body == nil {
				rec = s.do(t, test.method, test.target, nil, test.header)
			} else {
				rec = s.do(t, test.method, test.target, body, test.header)
			}
			msg := mustError(t, rec, test.status, test.code)
			if !strings.Contains(msg, test.message) {
				t.Errorf("message %q does not contain %q", msg, test.message)
			}
		})
	}
}

func TestMethodNotAllowedListsMethods(t *testing.T) {
	s := mustService(t, Config{})
	rec := s.do(t, http.MethodPost, "/v1/documents/x", nil, nil)
	mustError(t, rec, 405, CodeMethodNotAllowed)
	if got, want := rec.Header().Get("Allow"), "GET, PUT, DELETE"; got != want {
		t.Errorf("Allow = %q, want %q", got, want)
	}
}

func TestBulkBodyWithoutLengthOver32MiB(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	// A chunked upload has no Content-Length; the limit must still hold.
	req := httptest.NewRequest(http.MethodPost, "/v1/documents", struct{ *strings.Reader }{strings.NewReader(strings.Repeat("\n", MaxBulkBodyBytes+10))})
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	mustError(t, rec, 413, CodeTooLarge)
}

func TestWritesNeedAConfiguredKey(t *testing.T) {
	s := mustService(t, Config{}) // no API key
	for _, test := range []struct{ method, target, body string }{
		{"PUT", "/v1/documents/x", `{"kind":"project","title":"X"}`},
		{"DELETE", "/v1/documents/peru-mining", ""},
		{"POST", "/v1/documents", `{"id":"x","kind":"project","title":"X"}`},
	} {
		rec := s.do(t, test.method, test.target, strings.NewReader(test.body), authHeader(""))
		msg := mustError(t, rec, 403, CodeForbidden)
		if !strings.Contains(msg, "without an API key") {
			t.Errorf("%s %s: message %q does not say why", test.method, test.target, msg)
		}
	}
	if rec := s.get(t, "/v1/documents/peru-mining"); rec.Code != 200 {
		t.Errorf("the document was touched: GET status %d", rec.Code)
	}
}

func TestDocumentLifecycle(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	// PUT without id and countries: the path gives the id, enrichment the country.
	put := s.do(t, http.MethodPut, "/v1/documents/cusco-brick", strings.NewReader(
		`{"kind":"project","title":"Brick kilns of Cusco","description":"Ending child labor in brick kilns near Cusco, Peru.","sectors":["Construction"],"start":"2024-01-01","end":"2025-01-01"}`),
		http.Header{"Authorization": {"bearer " + testKey}})
	if put.Code != http.StatusOK {
		t.Fatalf("PUT status %d: %s", put.Code, put.Body)
	}
	want := index.Document{ID: "cusco-brick", Kind: "project", Title: "Brick kilns of Cusco",
		Description: "Ending child labor in brick kilns near Cusco, Peru.", Countries: []string{"Peru"},
		Sectors: []string{"Construction"}, Start: "2024-01-01", End: "2025-01-01"}
	ignoreEmpty := cmpopts.EquateEmpty()
	if diff := cmp.Diff(want, mustDecode[index.Document](t, put), ignoreEmpty); diff != "" {
		t.Errorf("PUT answer mismatch (-want +got):\n%s", diff)
	}
	get := s.get(t, "/v1/documents/cusco-brick")
	if diff := cmp.Diff(want, mustDecode[index.Document](t, get), ignoreEmpty); diff != "" {
		t.Errorf("GET mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(get.Body.String(), `"partners":[]`) {
		t.Errorf("an absent list is not shown as []: %s", get.Body)
	}
	found := mustDecode[search.Response](t, s.get(t, "/v1/search?q=kilns"))
	if diff := cmp.Diff([]string{"cusco-brick"}, hitIDs(found)); diff != "" {
		t.Errorf("search after PUT mismatch (-want +got):\n%s", diff)
	}

	// Replace it with the id in the body too.
	want.Title = "Brick kilns of Cusco and Puno"
	body, _ := json.Marshal(want)
	if rec := s.do(t, http.MethodPut, "/v1/documents/cusco-brick", strings.NewReader(string(body)), authHeader(testKey)); rec.Code != 200 {
		t.Fatalf("second PUT status %d: %s", rec.Code, rec.Body)
	}
	if got := mustDecode[index.Document](t, s.get(t, "/v1/documents/cusco-brick")).Title; got != want.Title {
		t.Errorf("title after replace = %q, want %q", got, want.Title)
	}

	del := s.do(t, http.MethodDelete, "/v1/documents/cusco-brick", nil, authHeader(testKey))
	if del.Code != http.StatusNoContent || del.Body.Len() != 0 {
		t.Fatalf("DELETE status %d body %q, want 204 and nothing", del.Code, del.Body)
	}
	mustError(t, s.get(t, "/v1/documents/cusco-brick"), 404, CodeNotFound)
	if total := mustDecode[search.Response](t, s.get(t, "/v1/search?q=kilns")).Total; total != 0 {
		t.Errorf("search after DELETE found %d", total)
	}
}

func TestBulk(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	lines := `{"id":"b1","kind":"project","title":"Domestic workers in Brazil","countries":["Brazil"]}

{"id":"b2","kind":"project","title":"Brazilian sugar cane cutters","countries":["Brazil"]}
{"id":"b3","kind":"partner","title":"A Brazilian union federation","countries":["Brazil"]}
`
	rec := s.do(t, http.MethodPost, "/v1/documents", strings.NewReader(lines), authHeader(testKey))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if diff := cmp.Diff(bulkResult{Indexed: 3, RefusedLines: []refusedLine{}}, mustDecode[bulkResult](t, rec)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if total := mustDecode[search.Response](t, s.get(t, "/v1/search?country=Brazil")).Total; total != 3 {
		t.Errorf("Brazil documents = %d, want 3", total)
	}
}

// TestBulkPerLine: a bulk load indexes its good lines and names each bad
// one, as Elasticsearch's bulk API does; real catalogues have odd lines.
func TestBulkPerLine(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	long := `{"id":"huge","title":"` + strings.Repeat("x", MaxDocumentBodyBytes) + `"}`
	body := strings.Join([]string{
		`{"id":"ok-1","title":"Cocoa farms in Ghana","start":"2021-01-01"}`, // start only, no kind
		`{"id":"bad-json","title":"Cocoa",}`,
		``,
		`{"id":"bad-date","title":"Cocoa","start":"2021-13-01"}`,
		`{"id":"ok-2","kind":"project","title":"Cocoa cooperatives","end":"2019-06-30"}`, // end only
		long,
		`{"id":"bad-order","title":"Cocoa","start":"2022-01-01","end":"2021-01-01"}`,
		`{"id":"bad-field","title":"Cocoa","contry":"Ghana"}`,
		`{"title":"no id"}`,
		`{"id":"ok-3","title":"Cocoa traceability"}`,
	}, "\n")
	rec := s.do(t, http.MethodPost, "/v1/documents", strings.NewReader(body), authHeader(testKey))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := mustDecode[bulkResult](t, rec)
	type brief struct {
		Line     int
		ID, Code string
	}
	var refused []brief
	for _, l := range got.RefusedLines {
		if l.Message == "" {
			t.Errorf("line %d refused without a message", l.Line)
		}
		refused = append(refused, brief{l.Line, l.ID, l.Code})
	}
	want := []brief{
		{2, "", lineInvalid}, {4, "bad-date", lineInvalid}, {6, "", lineTooLarge},
		{7, "bad-order", lineInvalid}, {8, "bad-field", lineInvalid}, {9, "", lineInvalid},
	}
	if diff := cmp.Diff(want, refused); diff != "" {
		t.Errorf("refused lines (-want +got):\n%s", diff)
	}
	if got.Indexed != 3 || got.Refused != 6 || !got.Errors {
		t.Errorf("indexed %d refused %d errors %v, want 3, 6, true", got.Indexed, got.Refused, got.Errors)
	}
	for _, id := range []string{"ok-1", "ok-2", "ok-3"} {
		doc := mustDecode[index.Document](t, s.get(t, "/v1/documents/"+id))
		if doc.Kind != index.KindProject {
			t.Errorf("%s: kind %q, want the default project", id, doc.Kind)
		}
	}
	for _, id := range []string{"bad-json", "bad-date", "bad-order", "bad-field"} {
		mustError(t, s.get(t, "/v1/documents/"+id), 404, CodeNotFound)
	}
	metrics := s.get(t, "/metrics").Body.String()
	for _, line := range []string{`documents_refused_total{code="invalid_document"} 5`, `documents_refused_total{code="too_large"} 1`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// TestBulkAtomic: atomic=true keeps the all-or-nothing load: one bad line
// refuses the body, names the line, and nothing is written.
func TestBulkAtomic(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	for _, test := range []struct{ name, body, line string }{
		{"decoding", `{"id":"c1","kind":"project","title":"Chile"}` + "\n" + `{"id":"c2","kind":"project","title":"Chile",}`, "line 2:"},
		{"validation", `{"id":"c1","title":"Chile"}` + "\n\n" + `{"id":"c2","title":"Chile","start":"2020-02-30"}`, "line 3:"},
	} {
		t.Run(test.name, func(t *testing.T) {
			msg := mustError(t, s.do(t, http.MethodPost, "/v1/documents?atomic=true", strings.NewReader(test.body), authHeader(testKey)), 400, CodeInvalidParameter)
			if !strings.HasPrefix(msg, test.line) {
				t.Errorf("message %q does not start with %q", msg, test.line)
			}
			mustError(t, s.get(t, "/v1/documents/c1"), 404, CodeNotFound)
		})
	}
	mustError(t, s.do(t, http.MethodPost, "/v1/documents?atomic=maybe", strings.NewReader(`{"id":"x","title":"x"}`), authHeader(testKey)), 400, CodeInvalidParameter)
	mustError(t, s.do(t, http.MethodPost, "/v1/documents?atomc=true", strings.NewReader(`{"id":"x","title":"x"}`), authHeader(testKey)), 400, CodeInvalidParameter)
	mustError(t, s.do(t, http.MethodPost, "/v1/documents", strings.NewReader("\n  \n"), authHeader(testKey)), 400, CodeInvalidParameter)
}

func TestHealth(t *testing.T) {
	s := mustService(t, Config{})
	if rec := s.get(t, "/healthz"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Errorf("healthz = %d %s", rec.Code, rec.Body)
	}
	ready := s.get(t, "/readyz")
	if diff := cmp.Diff(`{"status":"ready","documents":4}`, strings.TrimSpace(ready.Body.String())); ready.Code != 200 || diff != "" {
		t.Errorf("readyz = %d, mismatch (-want +got):\n%s", ready.Code, diff)
	}

	empty := mustService(t, Config{Engine: mustEngine(t)})
	msg := mustError(t, empty.get(t, "/readyz"), 503, CodeNotReady)
	if !strings.Contains(msg, "no documents") {
		t.Errorf("message %q", msg)
	}
	if rec := empty.get(t, "/healthz"); rec.Code != 200 {
		t.Errorf("healthz on an empty index = %d, want 200 (the process is up)", rec.Code)
	}

	broken := mustService(t, Config{Engine: &fakeEngine{count: func() (uint64, error) { return 0, errors.New("disk on fire") }}})
	rec := broken.get(t, "/readyz")
	mustError(t, rec, 503, CodeNotReady)
	if strings.Contains(rec.Body.String(), "fire") {
		t.Errorf("readyz leaks the cause: %s", rec.Body)
	}
}

func TestSearchTimeout(t *testing.T) {
	eng := &fakeEngine{search: func(ctx context.Context, r search.Request) (*search.Response, error) {
		<-ctx.Done() // an engine that never finishes before the deadline
		return nil, ctx.Err()
	}}
	s := mustService(t, Config{Engine: eng, SearchTimeout: 1})
	for _, target := range []string{"/v1/search?q=slow", "/v1/suggest?q=slow"} {
		rec := s.get(t, target)
		mustError(t, rec, 503, CodeTimeout)
		if rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", target)
		}
	}
}

func TestSearchConcurrencyLimit(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	eng := &fakeEngine{search: func(ctx context.Context, r search.Request) (*search.Response, error) {
		entered <- struct{}{}
		<-release
		return &search.Response{Query: r.Query}, nil
	}}
	s := mustService(t, Config{Engine: eng, MaxSearches: 1})
	first := make(chan int)
	go func() { first <- s.get(t, "/v1/search?q=one").Code }()
	<-entered // the only slot is taken
	rec := s.get(t, "/v1/search?q=two")
	mustError(t, rec, 503, CodeOverloaded)
	if rec.Header().Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", rec.Header().Get("Retry-After"))
	}
	close(release)
	if code := <-first; code != 200 {
		t.Errorf("the search holding the slot got %d", code)
	}
	go func() { <-entered }()
	if code := s.get(t, "/v1/search?q=three").Code; code != 200 {
		t.Errorf("after the slot was freed: %d, want 200", code)
	}
}

func TestPanicBecomes500(t *testing.T) {
	eng := &fakeEngine{search: func(context.Context, search.Request) (*search.Response, error) {
		panic("index pointer /srv/secret is nil")
	}}
	s := mustService(t, Config{Engine: eng})
	rec := s.get(t, "/v1/search?q=boom")
	msg := mustError(t, rec, 500, CodeInternal)
	if msg != "internal error" {
		t.Errorf("message = %q, want the bare %q", msg, "internal error")
	}
	if !strings.Contains(s.log.String(), "panic serving request") || !strings.Contains(s.log.String(), "/srv/secret") {
		t.Errorf("the panic is not logged:\n%s", s.log)
	}
	if rec := s.get(t, "/healthz"); rec.Code != 200 {
		t.Errorf("after a panic healthz = %d", rec.Code)
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	eng := &fakeEngine{search: func(context.Context, search.Request) (*search.Response, error) {
		return nil, errors.New("open /var/lib/search/idx/store: permission denied")
	}}
	s := mustService(t, Config{Engine: eng})
	rec := s.get(t, "/v1/search?q=x")
	mustError(t, rec, 500, CodeInternal)
	if strings.Contains(rec.Body.String(), "/var/lib") {
		t.Errorf("500 leaks the cause: %s", rec.Body)
	}
	if !strings.Contains(s.log.String(), "permission denied") {
		t.Errorf("the cause is not logged:\n%s", s.log)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := mustService(t, Config{})
	for _, target := range []string{"/v1/search?q=mining", "/nope", "/v1/search?bad=1", "/healthz", "/metrics", "/openapi.json", "/"} {
		rec := s.get(t, target)
		h := rec.Header()
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: security headers missing: %v", target, h)
		}
		if strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code", target)
		}
	}
}

func TestCORS(t *testing.T) {
	const allowed = "https://portal.example.org"
	preflight := func(origin, method string) http.Header {
		return http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}, "Access-Control-Request-Headers": {"authorization,content-type"}}
	}
	tests := []struct {
		name        string
		origins     []string
		method      string
		header      http.Header
		wantStatus  int
		wantAllowed string // Access-Control-Allow-Origin
		wantMethods string
	}{
		{"preflight from an allowed origin", []string{allowed}, "OPTIONS", preflight(allowed, "PUT"), 204, allowed, "GET, POST, PUT, DELETE"},
		{"preflight, origin case differs", []string{allowed}, "OPTIONS", preflight("https://PORTAL.example.org", "GET"), 204, "https://PORTAL.example.org", "GET, POST, PUT, DELETE"},
		{"preflight from another origin", []string{allowed}, "OPTIONS", preflight("https://evil.example", "GET"), 403, "", ""},
		{"preflight with any origin allowed", []string{"*"}, "OPTIONS", preflight("https://anyone.example", "POST"), 204, "*", "GET, POST, PUT, DELETE"},
		{"preflight with CORS off", nil, "OPTIONS", preflight(allowed, "GET"), 405, "", ""},
		{"simple GET from an allowed origin", []string{allowed}, "GET", http.Header{"Origin": {allowed}}, 200, allowed, ""},
		{"simple GET from another origin", []string{allowed}, "GET", http.Header{"Origin": {"https://evil.example"}}, 200, "", ""},
		{"GET without Origin", []string{allowed}, "GET", nil, 200, "", ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			s := mustService(t, Config{CORSOrigins: test.origins})
			rec := s.do(t, test.method, "/v1/search?q=mining", nil, test.header)
			if rec.Code != test.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, test.wantStatus, rec.Body)
			}
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != test.wantAllowed {
				t.Errorf("Allow-Origin = %q, want %q", got, test.wantAllowed)
			}
			if got := h.Get("Access-Control-Allow-Methods"); got != test.wantMethods {
				t.Errorf("Allow-Methods = %q, want %q", got, test.wantMethods)
			}
			if test.wantMethods != "" {
				if got := h.Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type" {
					t.Errorf("Allow-Headers = %q", got)
				}
				if got := h.Get("Access-Control-Max-Age"); got != "600" {
					t.Errorf("Max-Age = %q", got)
				}
			}
			if test.origins != nil && !slices.Contains(h.Values("Vary"), "Origin") {
				t.Errorf("Vary = %q, want it to name Origin", h.Values("Vary"))
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials must never be allowed")
			}
		})
	}
}

func TestCORSOriginsAreChecked(t *testing.T) {
	for _, bad := range []string{"portal.example.org", "ftp://x.example", "https://x.example/path", "https://"} {
		if _, err := New(Config{Engine: &fakeEngine{}, Registry: prometheus.NewRegistry(), CORSOrigins: []string{bad}}); err == nil {
			t.Errorf("origin %q accepted", bad)
		}
	}
}

func TestLogLinePerRequest(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey})
	s.get(t, "/v1/search?q=mining")
	s.do(t, http.MethodPut, "/v1/documents/x", strings.NewReader(`{"kind":"project","title":"X"}`), authHeader(testKey))
	s.get(t, "/no/such/path")
	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s.log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want one per request:\n%s", len(lines), s.log)
	}
	pick := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for _, k := range []string{"msg", "method", "route", "status", "hits"} {
			if v, ok := m[k]; ok {
				out[k] = v
			}
		}
		for _, k := range []string{"duration_ms", "remote"} {
			if _, ok := m[k]; !ok {
				t.Errorf("log line lacks %s: %v", k, m)
			}
		}
		return out
	}
	want := []map[string]any{
		{"msg": "request", "method": "GET", "route": "/v1/search", "status": 200.0, "hits": 2.0},
		{"msg": "request", "method": "PUT", "route": "/v1/documents/{id}", "status": 200.0},
		{"msg": "request", "method": "GET", "route": "unmatched", "status": 404.0},
	}
	var got []map[string]any
	for _, l := range lines {
		got = append(got, pick(l))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(s.log.String(), testKey) {
		t.Error("the API key appears in the log")
	}
}

func TestSearchPage(t *testing.T) {
	s := mustService(t, Config{})
	rec := s.get(t, "/")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := s.get(t, "/static/app.js"); rec.Code != 200 {
		t.Errorf("GET /static/app.js = %d", rec.Code)
	}
	if rec := s.do(t, http.MethodHead, "/", nil, nil); rec.Code != 200 {
		t.Errorf("HEAD / = %d", rec.Code)
	}
}

// TestAdminPage: the editors' page is served by the router at /admin, with
// GET and HEAD, and only there.
func TestAdminPage(t *testing.T) {
	s := mustService(t, Config{})
	rec := s.get(t, "/admin")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), `src="/static/admin.js"`) {
		t.Fatalf("GET /admin = %d %q, want the editors' page", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := s.do(t, http.MethodHead, "/admin", nil, nil); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD /admin = %d with %d bytes, want 200 and none", rec.Code, rec.Body.Len())
	}
	if rec := s.get(t, "/static/admin.js"); rec.Code != 200 {
		t.Errorf("GET /static/admin.js = %d", rec.Code)
	}
	rec = s.do(t, http.MethodPost, "/admin", nil, nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /admin = %d Allow %q, want 405 with GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestQueryStringEscaping(t *testing.T) {
	// A filter value with reserved characters arrives intact.
	s := mustService(t, Config{APIKey: testKey})
	doc := `{"kind":"partner","title":"Workers & Families","partners":["Solidarity Center, Inc."]}`
	if rec := s.do(t, http.MethodPut, "/v1/documents/sc", strings.NewReader(doc), authHeader(testKey)); rec.Code != 200 {
		t.Fatalf("PUT %d: %s", rec.Code, rec.Body)
	}
	resp := mustDecode[search.Response](t, s.get(t, "/v1/search?partner="+url.QueryEscape("Solidarity Center, Inc.")))
	if diff := cmp.Diff([]string{"sc"}, hitIDs(resp)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
