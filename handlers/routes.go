package handlers

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/mpower/labor-search/handlers/web"
	"github.com/mpower/labor-search/internal/input"
)

// route is one line of the API: a path template, a method, a name (the
// operationId in /openapi.json) and the handler.
type route struct {
	path    string
	method  string
	name    string
	handler http.Handler
}

// routes is the whole HTTP surface of the service. The path template is also
// the metrics' route label.
func (s *server) routes(metrics http.Handler) []route {
	page := web.Handler()
	return append([]route{
		{"/v1/search", http.MethodGet, "search", s.api(s.searchGET)},
		{"/v1/search", http.MethodPost, "searchPost", s.api(s.searchPOST)},
		{"/v1/suggest", http.MethodGet, "suggest", s.api(s.suggest)},
		{"/v1/documents/{id}", http.MethodGet, "getDocument", s.api(s.getDocument)},
		{"/v1/documents/{id}", http.MethodPut, "putDocument", s.api(s.limited(s.authorized(s.putDocument)))},
		{"/v1/documents/{id}", http.MethodDelete, "deleteDocument", s.api(s.limited(s.authorized(s.deleteDocument)))},
		{"/v1/documents", http.MethodPost, "bulkDocuments", s.api(s.limited(s.authorized(s.bulkDocuments)))},
		{"/v1/synonyms", http.MethodGet, "listSynonyms", s.api(s.listSynonyms)},
		{"/v1/synonyms/{id}", http.MethodGet, "getSynonyms", s.api(s.getSynonyms)},
		{"/v1/synonyms/{id}", http.MethodPut, "putSynonyms", s.api(s.limited(s.authorized(s.putSynonyms)))},
		{"/v1/synonyms/{id}", http.MethodDelete, "deleteSynonyms", s.api(s.limited(s.authorized(s.deleteSynonyms)))},
		{"/v1/events", http.MethodPost, "postEvent", s.api(s.eventsLimited(s.postEvent))},
		{"/v1/analytics/queries", http.MethodGet, "analyticsQueries", s.api(s.limited(s.authorized(s.analyticsQueries)))},
		{"/v1/analytics/summary", http.MethodGet, "analyticsSummary", s.api(s.limited(s.authorized(s.analyticsSummary)))},
		{"/healthz", http.MethodGet, "healthz", s.api(s.healthz)},
		{"/readyz", http.MethodGet, "readyz", s.api(s.readyz)},
		{"/metrics", http.MethodGet, "metrics", metrics},
		{"/openapi.json", http.MethodGet, "openapi", http.HandlerFunc(serveOpenAPI)},
		{"/", http.MethodGet, "page", page},
		{"/", http.MethodHead, "pageHead", page},
		{"/admin", http.MethodGet, "adminPage", page},
		{"/admin", http.MethodHead, "adminPageHead", page},
		{"/static/{file}", http.MethodGet, "static", page},
		{"/static/{file}", http.MethodHead, "staticHead", page},
	}, s.algoliaRoutes()...)
}

// router builds the mux from routes. Each route records its template for the
// log line and metrics; unknown paths and wrong methods get the JSON envelope.
func (s *server) router(routes []route) *mux.Router {
	r := mux.NewRouter()
	for _, rt := range routes {
		r.Handle(rt.path, withRoute(rt.path, rt.handler)).Methods(rt.method).Name(rt.name)
	}
	r.NotFoundHandler = s.apiFor(func(req *http.Request) (*reply, error) {
		return nil, newError(CodeNotFound, "no route for %s; see /openapi.json", input.Clip(req.URL.Path))
	})
	r.MethodNotAllowedHandler = s.apiFor(func(req *http.Request) (*reply, error) {
		allowed := allowedMethods(r, req)
		e := newError(CodeMethodNotAllowed, "method %s is not allowed on %s", input.Clip(req.Method), input.Clip(req.URL.Path))
		e.header = http.Header{"Allow": {strings.Join(allowed, ", ")}}
		return nil, e
	})
	return r
}

func withRoute(template string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		infoFrom(r.Context()).route = template
		next.ServeHTTP(w, r)
	})
}

// allowedMethods lists the methods that would have matched req's path.
func allowedMethods(router *mux.Router, req *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := req.Clone(req.Context())
		probe.Method = m
		var match mux.RouteMatch
		if router.Match(probe, &match) && match.MatchErr == nil {
			out = append(out, m)
		}
	}
	return out
}

// routeSeries lists the (route, method) pairs whose metric series are
// created up front.
func routeSeries(routes []route) []routeKey {
	keys := make([]routeKey, 0, len(routes))
	for _, rt := range routes {
		keys = append(keys, routeKey{rt.path, rt.method})
	}
	return keys
}
