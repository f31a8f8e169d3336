package handlers

// Fuzz targets for everything that reads what a client sends. The seed
// corpora are in testdata/fuzz/<target>/ and run with the unit tests; CI
// fuzzes each target for a bounded time (.ci/checks.d/60-fuzz.sh):
//
//	go test -run '^$' -fuzz '^FuzzSearchHandler$' -fuzztime 30s ./handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// maxMessageBytes bounds an error message: values are clipped when echoed,
// so a 10 KB parameter never comes back as a 10 KB error.
const maxMessageBytes = 1024

// checkInvalid fails unless err is a *search.InvalidError with a short,
// non-empty message: a client error the caller can read.
func checkInvalid(t *testing.T, err error) {
	t.Helper()
	var inv *search.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %T %q is not a *search.InvalidError", err, err)
	}
	if inv.Message == "" || len(inv.Message) > maxMessageBytes {
		t.Fatalf("error message is empty or %d bytes long: %.200q", len(inv.Message), inv.Message)
	}
	if !utf8.ValidString(inv.Message) {
		t.Fatalf("error message is not valid UTF-8: %q", inv.Message)
	}
}

// checkRequest fails unless r is within every documented limit, so the
// engine never receives a request the API promised to refuse.
func checkRequest(t *testing.T, r search.Request) {
	t.Helper()
	switch {
	case !utf8.ValidString(r.Query) || utf8.RuneCountInString(r.Query) > search.MaxQueryLength:
		t.Fatalf("query %.80q passed: invalid UTF-8 or longer than %d", r.Query, search.MaxQueryLength)
	case r.PerPage < 1 || r.PerPage > search.MaxPerPage:
		t.Fatalf("per_page %d passed", r.PerPage)
	case r.Page < 1 || r.Page*r.PerPage > search.MaxDepth:
		t.Fatalf("page %d × per_page %d passed", r.Page, r.PerPage)
	case r.FacetSize < 1 || r.FacetSize > search.MaxFacetSize:
		t.Fatalf("facet_size %d passed", r.FacetSize)
	case !slices.Contains(search.SortOrders(), string(r.Sort)):
		t.Fatalf("sort %q passed", r.Sort)
	case r.AsOf.IsZero():
		t.Fatal("as_of left empty")
	case !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From):
		t.Fatalf("to %v before from %v passed", r.To, r.From)
	}
	for _, f := range r.Facets {
		if !slices.Contains(search.FilterFields(), f) {
			t.Fatalf("facet %q passed", f)
		}
	}
	for f, vs := range r.Filters {
		if !slices.Contains(search.FilterFields(), f) || len(vs) == 0 || len(vs) > search.MaxFilterValues {
			t.Fatalf("filter %q with %d values passed", f, len(vs))
		}
		for _, v := range vs {
			if v == "" || !utf8.ValidString(v) || utf8.RuneCountInString(v) > search.MaxQueryLength {
				t.Fatalf("filter %s value %.80q passed", f, v)
			}
		}
	}
}

func FuzzParseSearchQuery(f *testing.F) {
	f.Add("q=mining+safety&country=Peru&facets=country,sector&page=2&per_page=5")
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			// The handler refuses a malformed query string before parsing.
			return
		}
		req, err := ParseSearchQuery(values, testNow)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		checkRequest(t, req)
	})
}

func FuzzParseSearchJSON(f *testing.F) {
	f.Add([]byte(`{"q":"gender","country":["Mexico","Honduras"],"facets":["country"],"facet_size":3}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseSearchJSON(body, testNow)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		checkRequest(t, req)
	})
}

func FuzzParseSuggestQuery(f *testing.F) {
	f.Add("q=migr&limit=5")
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, err := ParseSuggestQuery(values)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		if req.Limit < 1 || req.Limit > search.MaxSuggestLimit || utf8.RuneCountInString(req.Query) > search.MaxQueryLength || !utf8.ValidString(req.Query) {
			t.Fatalf("suggest request %+v passed", req)
		}
	})
}

func FuzzDecodeDocumentLines(f *testing.F) {
	f.Add([]byte("{\"id\":\"a\",\"kind\":\"project\",\"title\":\"A\"}\n{\"id\":\"b\",\"kind\":\"partner\",\"title\":\"B\"}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, err := index.ReadDocumentLines(bytes.NewReader(body))
		count := bytes.Count(body, []byte("\n")) + 1
		if err != nil {
			checkInvalid(t, err)
			if len(bytes.TrimSpace(body)) != 0 {
				t.Fatalf("a body with text was called empty: %q (%v)", body, err)
			}
			return
		}
		if len(lines) == 0 || len(lines) > count {
			t.Fatalf("%d lines from a %d-line body", len(lines), count)
		}
		last := 0
		for _, l := range lines {
			if l.Number <= last || l.Number > count {
				t.Fatalf("line numbers out of order or range: %d after %d of %d", l.Number, last, count)
			}
			last = l.Number
			if l.Err != nil {
				checkInvalid(t, l.Err)
				if l.Message() == "" {
					t.Fatalf("line %d refused without a message", l.Number)
				}
			}
		}
	})
}

// seedService is the real handler over an in-memory index of the seed
// documents, with the seeds' synonyms and enrichment, as searchd serves it.
func seedService(tb testing.TB) http.Handler {
	tb.Helper()
	eng := mustSeedEngine(tb)
	// A generous deadline: on 18 documents any search that needs it is a
	// bug the fuzzer should report, not a timeout to accept.
	h, err := New(Config{Engine: eng, Registry: prometheus.NewRegistry(), SearchTimeout: 20 * time.Second, Now: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// checkResponse fails unless rec is a well-formed answer: no 5xx, JSON,
// and either a consistent result or the error envelope of a client error.
func checkResponse(t *testing.T, what string, rec *httptest.ResponseRecorder, check func(body []byte) error) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s: body is not JSON: %.300q", what, rec.Body)
	}
	if rec.Code != http.StatusOK {
		var e errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Status != rec.Code || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s: status %d without a proper error envelope: %s", what, rec.Code, rec.Body)
		}
		if rec.Code < 400 || len(e.Error.Message) > maxMessageBytes {
			t.Fatalf("%s: status %d, %d-byte message", what, rec.Code, len(e.Error.Message))
		}
		return
	}
	if err := check(rec.Body.Bytes()); err != nil {
		t.Fatalf("%s: %v\n%.500s", what, err, rec.Body)
	}
}

func checkSearchBody(body []byte) error {
	var resp search.Response
	if err := json.Unmarshal(body, &resp); err != nil {
		return err
	}
	switch {
	case resp.Total < uint64(len(resp.Hits)):
		return errors.New("total < len(hits)")
	case len(resp.Hits) > resp.PerPage:
		return errors.New("more hits than per_page")
	}
	for _, h := range resp.Hits {
		if h.ID == "" || h.Title == "" {
			return errors.New("a hit without id or title")
		}
		for field, frags := range h.Highlights {
			for _, fr := range frags {
				if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(fr, "<mark>", ""), "</mark>", ""), "<") {
					return errors.New("highlight of " + field + " holds unescaped markup: " + fr)
				}
			}
		}
	}
	return nil
}

func checkSuggestBody(body []byte) error {
	var resp search.SuggestResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return err
	}
	if len(resp.Suggestions) > search.MaxSuggestLimit {
		return errors.New("more suggestions than the limit")
	}
	for _, s := range resp.Suggestions {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(s.Highlight, "<mark>", ""), "</mark>", ""), "<") {
			return errors.New("suggestion highlight holds unescaped markup: " + s.Highlight)
		}
	}
	return nil
}

// FuzzSearchHandler sends any text as q, through GET and POST search and
// suggest, to the real handler over the seed documents; extra is appended
// to the GET query string as it is, so other parameters get fuzzed too.
func FuzzSearchHandler(f *testing.F) {
	h := seedService(f)
	f.Add("mining", "")
	f.Fuzz(func(t *testing.T, q, extra string) {
		if len(q) > 12<<10 || len(extra) > 12<<10 {
			return
		}
		get := "/v1/search?q=" + url.QueryEscape(q)
		if extra != "" {
			get += "&" + extra
		}
		req := httptest.NewRequest(http.MethodGet, "/v1/search", nil)
		req.URL.RawQuery = strings.TrimPrefix(get, "/v1/search?")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, "GET "+get, rec, checkSearchBody)

		body, _ := json.Marshal(map[string]any{"q": q, "facets": search.FilterFields()})
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/search", bytes.NewReader(body)))
		checkResponse(t, "POST "+string(body), rec, checkSearchBody)

		sreq := httptest.NewRequest(http.MethodGet, "/v1/suggest", nil)
		sreq.URL.RawQuery = "q=" + url.QueryEscape(q)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, sreq)
		checkResponse(t, "GET /v1/suggest?"+sreq.URL.RawQuery, rec, checkSuggestBody)
	})
}
