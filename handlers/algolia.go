package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/mpower/labor-search/search"
)

// Algolia's search protocol, so that InstantSearch (instantsearch.js,
// React and Vue InstantSearch) and Algolia's own clients run against the
// service with configuration only. The browser client POSTs text/plain
// with its credentials in the query string, a CORS simple request: no
// preflight, only Access-Control-Allow-Origin, which the CORS policy
// already sets. Searches are public: the API key the client sends is not
// read (a portal must never put the write key in a page).

// algoliaPrefix starts every path of the protocol.
const algoliaPrefix = "/1/"

// algoliaRoutes are the protocol's routes: the multi-query every
// InstantSearch page sends, one query on one index, and a facet-value
// search as the v3 and v4 clients send it (v5 sends it as a multi-query of
// type "facet").
func (s *server) algoliaRoutes() []route {
	algolia := func(f apiFunc) http.Handler { return s.adapt(f, writeAlgoliaError) }
	return []route{
		{"/1/indexes/*/queries", http.MethodPost, "algoliaQueries", algolia(s.algoliaQueries)},
		{"/1/indexes/{index}/query", http.MethodPost, "algoliaQuery", algolia(s.algoliaQuery)},
		{"/1/indexes/{index}/facets/{facet}/query", http.MethodPost, "algoliaFacetValues", algolia(s.algoliaFacetValues)},
	}
}

// algoliaErrorBody is an error as Algolia's clients read it: they build
// their error from message and status (an error without message reaches
// the portal as "undefined"); the service's envelope comes beside them.
type algoliaErrorBody struct {
	Message string      `json:"message"`
	Status  int         `json:"status"`
	Error   errorDetail `json:"error"`
}

// writeAlgoliaError writes e in Algolia's shape. Overload and timeouts
// are 429 with Retry-After: the client takes any status other than 2xx and
// 4xx for a dead host, stops calling it for two minutes and tells the
// visitor "Unreachable hosts".
func writeAlgoliaError(w http.ResponseWriter, e *apiError) {
	status := e.status()
	if e.code == CodeOverloaded || e.code == CodeTimeout {
		status = http.StatusTooManyRequests
		retry := *e
		retry.retryAfter = max(e.retryAfter, defaultRetryAfterSeconds)
		e = &retry
	}
	e.writeHeaders(w.Header())
	writeJSON(w, status, algoliaErrorBody{Message: e.message, Status: status, Error: e.detail(status)})
}

// apiFor is api, with errors in Algolia's shape under algoliaPrefix: for
// the unmatched-route answers, which serve both protocols.
func (s *server) apiFor(f apiFunc) http.Handler {
	v1, algolia := s.api(f), s.adapt(f, writeAlgoliaError)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, algoliaPrefix) {
			algolia.ServeHTTP(w, r)
			return
		}
		v1.ServeHTTP(w, r)
	})
}

// algoliaResults is the answer to a multi-query: one result per request,
// in order.
type algoliaResults struct {
	Results []any `json:"results"`
}

func (s *server) algoliaQueries(r *http.Request) (*reply, error) {
	body, err := readBody(r, MaxSearchBodyBytes)
	if err != nil {
		return nil, err
	}
	queries, err := parseAlgoliaBatch(body)
	if err != nil {
		return nil, err
	}
	results, err := s.runAlgolia(r, queries)
	if err != nil {
		return nil, err
	}
	return ok(algoliaResults{Results: results}), nil
}

func (s *server) algoliaQuery(r *http.Request) (*reply, error) {
	return s.algoliaSingle(r, "")
}

func (s *server) algoliaFacetValues(r *http.Request) (*reply, error) {
	return s.algoliaSingle(r, mux.Vars(r)["facet"])
}

// algoliaSingle answers one query on the index the path names; facet,
// when set, makes it a facet-value search.
func (s *server) algoliaSingle(r *http.Request, facet string) (*reply, error) {
	body, err := readBody(r, MaxSearchBodyBytes)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(body)) == "" {
		body = []byte("{}")
	}
	q, err := parseAlgoliaRequest(body, mux.Vars(r)["index"], facet)
	if err != nil {
		return nil, err
	}
	results, err := s.runAlgolia(r, []*algoliaQuery{q})
	if err != nil {
		return nil, err
	}
	return ok(results[0]), nil
}

// runAlgolia answers queries in order under one search slot and one
// deadline: InstantSearch sends a page's queries together and shows none
// until all are answered, so they are one search to the overload limit and
// to the timeout. A counts-only query asking what an earlier query's
// facets already answer (InstantSearch's extra query per refined
// disjunctive facet) is answered from them, not searched again.
func (s *server) runAlgolia(r *http.Request, queries []*algoliaQuery) ([]any, error) {
	release, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), s.searchTimeout)
	defer cancel()

	info := infoFrom(r.Context())
	results := make([]any, len(queries))
	answers := make([]*search.Response, len(queries))
	for i, q := range queries {
		if main, total, ok := answeredBy(queries[:i], answers[:i], q); ok {
			results[i] = q.result(main, total, 0)
			continue
		}
		resp, err := s.algoliaSearch(ctx, q)
		if err != nil {
			var inv *search.InvalidError
			if len(queries) > 1 && errors.As(err, &inv) {
				return nil, search.Invalid(inv.Param, "requests[%d]: %s", i, inv.Message)
			}
			return nil, err
		}
		if q.facetSearch {
			results[i] = q.facetHits(resp, resp.TookMs)
			continue
		}
		answers[i] = resp
		res := q.result(resp, resp.Total, resp.TookMs)
		if id := s.recordAlgolia(q, resp); id != "" && q.clickAnalytics {
			res.QueryID = id
		}
		results[i] = res
		if !info.hasHits {
			info.hits, info.hasHits = resp.Total, true
		}
	}
	return results, nil
}

// algoliaSearch runs one mapped query. A query with analytics off is a
// client's own (InstantSearch's helper queries): the engine leaves it out
// of the quality metrics.
func (s *server) algoliaSearch(ctx context.Context, q *algoliaQuery) (*search.Response, error) {
	req := q.req
	req.Untracked = !q.analytics
	resp, err := timed(ctx, func(ctx context.Context) (*search.Response, error) {
		return s.engine.Search(ctx, req)
	})
	if err != nil {
		return nil, fmt.Errorf("algolia query: %w", err)
	}
	return resp, nil
}

// recordAlgolia counts a visitor's query: not InstantSearch's helper
// queries (analytics off, counts only, facet values), not a later page.
func (s *server) recordAlgolia(q *algoliaQuery, resp *search.Response) string {
	if !q.analytics || q.facetSearch || q.beyond {
		return ""
	}
	return s.record(search.Request{Query: q.req.Query, Page: q.page + 1}, resp, tracking{session: q.session})
}

// answeredBy finds an earlier query whose answer also answers q, and the
// total q would have. q must ask for counts alone; the earlier query must
// have the same text, window and facet size, and the same filters but at
// most one, whose attribute is then the only facet q asks for: the
// question InstantSearch asks for each refined disjunctive facet. The
// engine counts every facet as if its own filter were not there, so the
// earlier query's counts of that facet are the same numbers, and its
// FacetTotals the total without that filter.
func answeredBy(queries []*algoliaQuery, answers []*search.Response, q *algoliaQuery) (*search.Response, uint64, bool) {
	if q.facetSearch || q.hitsPerPage != 0 {
		return nil, 0, false
	}
	for j, m := range queries {
		if resp := answers[j]; resp != nil {
			if total, ok := sameCounts(m, resp, q); ok {
				return resp, total, true
			}
		}
	}
	return nil, 0, false
}

func sameCounts(m *algoliaQuery, resp *search.Response, q *algoliaQuery) (uint64, bool) {
	a, b := m.req, q.req
	if a.Query != b.Query || !a.From.Equal(b.From) || !a.To.Equal(b.To) || !a.AsOf.Equal(b.AsOf) || a.FacetSize != b.FacetSize {
		return 0, false
	}
	dropped := ""
	for f, vs := range a.Filters {
		ws, ok := b.Filters[f]
		switch {
		case !ok && dropped == "":
			dropped = f
		case !ok || !slices.Equal(slices.Sorted(slices.Values(vs)), slices.Sorted(slices.Values(ws))):
			return 0, false
		}
	}
	for f := range b.Filters {
		if _, ok := a.Filters[f]; !ok {
			return 0, false
		}
	}
	for _, f := range b.Facets {
		if !slices.Contains(a.Facets, f) || (dropped != "" && f != dropped) {
			return 0, false
		}
	}
	if dropped == "" {
		return resp.Total, true
	}
	total, ok := resp.FacetTotals[dropped]
	return total, ok
}
