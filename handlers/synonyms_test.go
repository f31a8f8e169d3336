package handlers

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/search"
)

// searchIDs are the ids GET /v1/search answers for q, sorted.
func searchIDs(tb testing.TB, s *testService, q string) []string {
	tb.Helper()
	rec := s.get(tb, "/v1/search?facets=&per_page=50&q="+q)
	if rec.Code != http.StatusOK {
		tb.Fatalf("search %q = %d %s", q, rec.Code, rec.Body)
	}
	res := mustDecode[struct {
		Total int `json:"total"`
		Hits  []struct {
			ID string `json:"id"`
		} `json:"hits"`
	}](tb, rec)
	ids := []string{}
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	sort.Strings(ids)
	if res.Total != len(ids) {
		tb.Fatalf("search %q: total %d, %d hits", q, res.Total, len(ids))
	}
	return ids
}

// TestSynonymAPIMakesTheNextSearchFind: "zafra" (the sugar cane harvest)
// is in no seed document; an editor's one-way set makes it find the seed
// projects about sugar, at once, and the delete takes them away again.
// "sugar" typed last also completes to "sugarcane"; an alternative is
// matched as written, so the set names both.
func TestSynonymAPIMakesTheNextSearchFind(t *testing.T) {
	s := mustSeedService(t, Config{APIKey: testKey, WriteRate: -1})
	if got := searchIDs(t, s, "zafra"); len(got) != 0 {
		t.Fatalf("zafra finds %q before any synonym; pick a word the seeds lack", got)
	}
	sugar := []string{"promoting-safe-and-healthy-workplaces-in-honduras-guatemala-and-el-salvador", "strengthening-worker-engagement-empowerment-and-trust-dr"}
	if diff := cmp.Diff(sugar, searchIDs(t, s, "sugar")); diff != "" {
		t.Fatalf("sugar finds (-want +got):\n%s", diff)
	}

	put := s.do(t, http.MethodPut, "/v1/synonyms/zafra", strings.NewReader(`{"root":"Zafra","synonyms":[" sugar ","sugarcane"]}`), authHeader(testKey))
	if put.Code != http.StatusOK || put.Body.String() != `{"id":"zafra","root":"Zafra","synonyms":["sugar","sugarcane"]}`+"\n" {
		t.Fatalf("PUT = %d %s", put.Code, put.Body)
	}
	if diff := cmp.Diff(sugar, searchIDs(t, s, "zafra")); diff != "" {
		t.Errorf("after the PUT, zafra finds (-want +got):\n%s", diff)
	}
	// One-way: sugar does not find what zafra would.
	if diff := cmp.Diff(sugar, searchIDs(t, s, "sugar")); diff != "" {
		t.Errorf("after the PUT, sugar finds (-want +got):\n%s", diff)
	}
	multi := s.do(t, http.MethodPut, "/v1/synonyms/gig", strings.NewReader(`{"synonyms":["gig","platform work"]}`), authHeader(testKey))
	if multi.Code != http.StatusOK || multi.Body.String() != `{"id":"gig","synonyms":["gig","platform work"]}`+"\n" {
		t.Fatalf("PUT gig = %d %s", multi.Code, multi.Body)
	}
	list := s.get(t, "/v1/synonyms")
	wantList := `{"synonyms":[{"id":"gig","synonyms":["gig","platform work"]},{"id":"zafra","root":"Zafra","synonyms":["sugar","sugarcane"]}],"total":2}` + "\n"
	if list.Code != http.StatusOK || list.Body.String() != wantList {
		t.Errorf("GET /v1/synonyms = %d %s, want %s", list.Code, list.Body, wantList)
	}
	one := s.get(t, "/v1/synonyms/zafra")
	if one.Code != http.StatusOK || one.Body.String() != `{"id":"zafra","root":"Zafra","synonyms":["sugar","sugarcane"]}`+"\n" {
		t.Errorf("GET /v1/synonyms/zafra = %d %s", one.Code, one.Body)
	}

	del := s.do(t, http.MethodDelete, "/v1/synonyms/zafra", nil, authHeader(testKey))
	if del.Code != http.StatusOK || del.Body.String() != `{"id":"zafra","deleted":true}`+"\n" {
		t.Fatalf("DELETE = %d %s", del.Code, del.Body)
	}
	if got := searchIDs(t, s, "zafra"); len(got) != 0 {
		t.Errorf("after the DELETE, zafra finds %q", got)
	}
	if msg := mustError(t, s.get(t, "/v1/synonyms/zafra"), http.StatusNotFound, CodeNotFound); msg != `no synonym set with id "zafra"` {
		t.Errorf("GET after DELETE: %q", msg)
	}
	mustError(t, s.do(t, http.MethodDelete, "/v1/synonyms/zafra", nil, authHeader(testKey)), http.StatusNotFound, CodeNotFound)
	if list := s.get(t, "/v1/synonyms"); list.Body.String() != `{"synonyms":[{"id":"gig","synonyms":["gig","platform work"]}],"total":1}`+"\n" {
		t.Errorf("GET /v1/synonyms after DELETE = %s", list.Body)
	}
}

func TestSynonymAPIRefusals(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey, WriteRate: -1})
	auth := authHeader(testKey)
	tests := []struct {
		name         string
		method, path string
		body         string
		header       http.Header
		status       int
		code         string
		msg          string
	}{
		{"no key", http.MethodPut, "/v1/synonyms/x", `{"synonyms":["a1","b1"]}`, nil, 401, CodeUnauthorized, "this route needs a valid API key in the header Authorization: Bearer <key>"},
		{"wrong key", http.MethodDelete, "/v1/synonyms/x", ``, authHeader("nope"), 401, CodeUnauthorized, "this route needs a valid API key in the header Authorization: Bearer <key>"},
		{"not JSON", http.MethodPut, "/v1/synonyms/x", `synonyms`, auth, 400, CodeInvalidSynonym, "the synonym set must be a JSON object"},
		{"empty body", http.MethodPut, "/v1/synonyms/x", ``, auth, 400, CodeInvalidSynonym, "the synonym set is empty; send a JSON object"},
		{"unknown field", http.MethodPut, "/v1/synonyms/x", `{"synonym":["a1","b1"]}`, auth, 400, CodeInvalidSynonym, `unknown field "synonym" (did you mean "synonyms"?); valid fields are id, root, synonyms`},
		{"synonyms not a list", http.MethodPut, "/v1/synonyms/x", `{"synonyms":"a1, b1"}`, auth, 400, CodeInvalidSynonym, "synonyms must be an array of strings"},
		{"root not a string", http.MethodPut, "/v1/synonyms/x", `{"root":["a1"],"synonyms":["b1"]}`, auth, 400, CodeInvalidSynonym, "root must be a string"},
		{"ids differ", http.MethodPut, "/v1/synonyms/x", `{"id":"y","synonyms":["a1","b1"]}`, auth, 400, CodeInvalidSynonym, `the body's id "y" differs from the path's id "x"`},
		{"bad id", http.MethodPut, "/v1/synonyms/a.b", `{"synonyms":["a1","b1"]}`, auth, 400, CodeInvalidSynonym, `synonym set id "a.b" must be 1 to 64 letters, digits, "_" or "-"`},
		{"one term", http.MethodPut, "/v1/synonyms/x", `{"synonyms":["gig"]}`, auth, 400, CodeInvalidSynonym, "a multi-way set (no root) needs at least 2 synonyms"},
		{"root alone", http.MethodPut, "/v1/synonyms/x", `{"root":"kids","synonyms":[]}`, auth, 400, CodeInvalidSynonym, "a one-way set needs at least 1 synonym besides its root"},
		{"empty term", http.MethodPut, "/v1/synonyms/x", `{"synonyms":["gig",""]}`, auth, 400, CodeInvalidSynonym, "synonym 2 is empty"},
		{"long term", http.MethodPut, "/v1/synonyms/x", `{"root":"` + strings.Repeat("a", 101) + `","synonyms":["gig"]}`, auth, 400, CodeInvalidSynonym, `root "` + strings.Repeat("a", 64) + `…" is 101 bytes long, more than 100`},
		{"too many", http.MethodPut, "/v1/synonyms/x", `{"synonyms":["` + strings.Repeat(`w","`, 32) + `w"]}`, auth, 400, CodeInvalidSynonym, "too many terms: 33, at most 32 in one set (the root included)"},
		{"stop words", http.MethodPut, "/v1/synonyms/x", `{"root":"kids","synonyms":["the"]}`, auth, 400, CodeInvalidSynonym, `synonym 1 "the" has no word a search can match (only stop words or punctuation)`},
		{"duplicate", http.MethodPut, "/v1/synonyms/x", `{"synonyms":["Gig","gig"]}`, auth, 400, CodeInvalidSynonym, `synonym 2 "gig" repeats "Gig": to a search they are the same words`},
		{"body too large", http.MethodPut, "/v1/synonyms/x", `{"synonyms":["` + strings.Repeat("a", MaxSynonymBodyBytes) + `"]}`, auth, 413, CodeTooLarge, "request body is larger than 65536 bytes"},
		{"unknown parameter", http.MethodGet, "/v1/synonyms?q=x", ``, nil, 400, CodeInvalidParameter, `unknown parameter "q"; valid parameters are min_seq`},
		{"delete missing", http.MethodDelete, "/v1/synonyms/never", ``, auth, 404, CodeNotFound, `no synonym set with id "never"`},
		{"get missing", http.MethodGet, "/v1/synonyms/never", ``, nil, 404, CodeNotFound, `no synonym set with id "never"`},
		{"no such method", http.MethodPost, "/v1/synonyms/x", `{}`, auth, 405, CodeMethodNotAllowed, "method POST is not allowed on /v1/synonyms/x"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			rec := s.do(t, test.method, test.path, strings.NewReader(test.body), test.header)
			if msg := mustError(t, rec, test.status, test.code); msg != test.msg {
				t.Errorf("message = %q\nwant      %q", msg, test.msg)
			}
		})
	}
	if list := s.get(t, "/v1/synonyms"); list.Body.String() != `{"synonyms":[],"total":0}`+"\n" {
		t.Errorf("after the refusals GET /v1/synonyms = %s", list.Body)
	}
	// Without a key configured the service is read-only.
	ro := mustService(t, Config{WriteRate: -1})
	mustError(t, ro.do(t, http.MethodPut, "/v1/synonyms/x", strings.NewReader(`{"synonyms":["a1","b1"]}`), auth), 403, CodeForbidden)
}

func TestReplicatedSynonymWritesAnswerTheirSequence(t *testing.T) {
	s, rep := mustReplicatedService(t)
	put := s.do(t, http.MethodPut, "/v1/synonyms/mines", strings.NewReader(`{"root":"quarries","synonyms":["mining"]}`),
		withHeader(authHeader(testKey), "Idempotency-Key", "syn-key-1"))
	if put.Code != http.StatusOK || put.Header().Get("Search-Seq") != "1" || put.Body.String() != `{"id":"mines","root":"quarries","synonyms":["mining"]}`+"\n" {
		t.Fatalf("PUT = %d, Search-Seq %q, %s; want 200, 1", put.Code, put.Header().Get("Search-Seq"), put.Body)
	}
	if diff := cmp.Diff([]string{"mexico-mining", "peru-mining"}, searchIDs(t, s, "quarries")); diff != "" {
		t.Errorf("quarries after the logged set is applied (-want +got):\n%s", diff)
	}
	bad := s.do(t, http.MethodPut, "/v1/synonyms/bad", strings.NewReader(`{"synonyms":["x1"]}`), authHeader(testKey))
	mustError(t, bad, http.StatusBadRequest, CodeInvalidSynonym)
	del := s.do(t, http.MethodDelete, "/v1/synonyms/mines", nil, authHeader(testKey))
	if del.Code != http.StatusOK || del.Header().Get("Search-Seq") != "2" {
		t.Fatalf("DELETE = %d, Search-Seq %q; want 200, 2", del.Code, del.Header().Get("Search-Seq"))
	}
	if got := searchIDs(t, s, "quarries"); len(got) != 0 {
		t.Errorf("quarries after the delete finds %q", got)
	}
	mustError(t, s.do(t, http.MethodDelete, "/v1/synonyms/mines", nil, authHeader(testKey)), http.StatusNotFound, CodeNotFound)
	if diff := cmp.Diff([]string{"syn-key-1", "", "", ""}, rep.keys); diff != "" {
		t.Errorf("idempotency keys passed on (-want +got):\n%s", diff)
	}
	rep.err = search.ErrUnavailable
	mustError(t, s.do(t, http.MethodPut, "/v1/synonyms/x", strings.NewReader(`{"synonyms":["a1","b1"]}`), authHeader(testKey)), http.StatusServiceUnavailable, CodeUnavailable)
}
