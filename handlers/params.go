package handlers

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/input"
	"github.com/mpower/labor-search/search"
)

// Search parameter names: the query parameters of GET /v1/search and the
// JSON fields of POST /v1/search. The filter fields (search.FilterFields)
// are accepted too.
const (
	paramQuery     = "q"
	paramFrom      = "from"
	paramTo        = "to"
	paramAsOf      = "as_of"
	paramFacets    = "facets"
	paramFacetSize = "facet_size"
	paramSort      = "sort"
	paramPage      = "page"
	paramPerPage   = "per_page"
	paramHighlight = "highlight"
	paramLimit     = "limit"
)

// SearchParams lists every parameter GET /v1/search accepts, in the order the
// documentation gives them.
func SearchParams() []string {
	return append(append([]string{paramQuery}, search.FilterFields()...),
		paramFrom, paramTo, paramAsOf, paramFacets, paramFacetSize, paramSort, paramPage, paramPerPage, paramHighlight, paramAnalytics, paramSession, paramMinSeq)
}

// SuggestParams lists every parameter GET /v1/suggest accepts.
func SuggestParams() []string { return []string{paramQuery, paramLimit, paramMinSeq} }

// searchInput is a search request as the client spelt it, before checking:
// both GET's query parameters and POST's JSON object arrive here, so the two
// forms are validated by the same code. Nil pointers are "not given".
type searchInput struct {
	q         string
	filters   map[string][]string
	from      string
	to        string
	asOf      string
	facets    []string // nil = default, empty = none
	facetSize *int
	sort      string
	page      *int
	perPage   *int
	highlight *bool
}

// ParseSearchQuery turns the query parameters of GET /v1/search into a
// search request, checking every one. An empty value counts as not given
// (an HTML form sends empty fields), except facets, where an empty value asks
// for no facets. now gives the default as_of day. Every error is a
// *search.InvalidError naming the parameter and saying how to fix it.
func ParseSearchQuery(values url.Values, now time.Time) (search.Request, error) {
	if err := input.CheckNames(values, SearchParams(), searchAliases, "parameter"); err != nil {
		return search.Request{}, err
	}
	in := searchInput{filters: map[string][]string{}}
	for name, vs := range values {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return search.Request{}, search.Invalid(name, "%s is not valid UTF-8", name)
			}
		}
		switch {
		case slices.Contains(search.FilterFields(), name):
			for _, v := range vs {
				if v = strings.TrimSpace(v); v != "" {
					in.filters[name] = append(in.filters[name], v)
				}
			}
		case name == paramFacets:
			in.facets = []string{}
			for _, v := range vs {
				for f := range strings.SplitSeq(v, ",") {
					if f = strings.TrimSpace(f); f != "" {
						in.facets = append(in.facets, f)
					}
				}
			}
		default:
			if len(vs) > 1 {
				return search.Request{}, search.Invalid(name, "%s is given %d times; give it once", name, len(vs))
			}
			if err := in.setScalar(name, strings.TrimSpace(vs[0])); err != nil {
				return search.Request{}, err
			}
		}
	}
	return in.request(now)
}

func (in *searchInput) setScalar(name, v string) error {
	if v == "" {
		return nil
	}
	var err error
	switch name {
	case paramQuery:
		in.q = v
	case paramFrom:
		in.from = v
	case paramTo:
		in.to = v
	case paramAsOf:
		in.asOf = v
	case paramSort:
		in.sort = v
	case paramFacetSize:
		in.facetSize, err = parseInt(name, v)
	case paramPage:
		in.page, err = parseInt(name, v)
	case paramPerPage:
		in.perPage, err = parseInt(name, v)
	case paramHighlight:
		var b bool
		switch strings.ToLower(v) {
		case "true":
			b = true
		case "false":
		default:
			return search.Invalid(name, "highlight must be true or false, not %q", input.Clip(v))
		}
		in.highlight = &b
	}
	return err
}

func parseInt(name, v string) (*int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, search.Invalid(name, "%s must be a whole number, not %q", name, input.Clip(v))
	}
	return &n, nil
}

// searchJSON is the body of POST /v1/search: the GET parameters as one JSON
// object, with arrays for the filters and the facets.
type searchJSON struct {
	// The filters (search.FilterFields) are decoded one by one from the
	// object's fields, so a new filter field needs no change here.
	Q         string   `json:"q"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	AsOf      string   `json:"as_of"`
	Facets    []string `json:"facets"`
	FacetSize *int     `json:"facet_size"`
	Sort      string   `json:"sort"`
	Page      *int     `json:"page"`
	PerPage   *int     `json:"per_page"`
	Highlight *bool    `json:"highlight"`
}

// ParseSearchJSON turns the body of POST /v1/search into a search request,
// with the same checks as ParseSearchQuery. Unknown fields are rejected; a
// null field counts as not given.
func ParseSearchJSON(body []byte, now time.Time) (search.Request, error) {
	fields, err := input.Object(body, "the request body")
	if err != nil {
		return search.Request{}, err
	}
	if err := input.CheckNames(fields, SearchParams(), searchAliases, "parameter"); err != nil {
		return search.Request{}, err
	}
	var j searchJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return search.Request{}, input.DecodeError(err, "the request body", searchFieldKind)
	}
	// A JSON array of facets holds names only; commas are not split, so a
	// "country,sector" element is reported as an unknown facet.
	in := searchInput{
		q: j.Q, from: j.From, to: j.To, asOf: j.AsOf, sort: j.Sort,
		facetSize: j.FacetSize, page: j.Page, perPage: j.PerPage, highlight: j.Highlight,
		filters: map[string][]string{},
	}
	if raw, ok := fields[paramFacets]; ok && !isNull(raw) {
		in.facets = []string{}
		for _, f := range j.Facets {
			if f = strings.TrimSpace(f); f != "" {
				in.facets = append(in.facets, f)
			}
		}
	}
	for _, field := range search.FilterFields() {
		raw, ok := fields[field]
		if !ok {
			continue
		}
		var vs []string
		if err := json.Unmarshal(raw, &vs); err != nil {
			return search.Request{}, search.Invalid(field, "%s must be an array of strings", field)
		}
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				in.filters[field] = append(in.filters[field], v)
			}
		}
	}
	in.q = strings.TrimSpace(in.q)
	in.from, in.to, in.asOf, in.sort = strings.TrimSpace(in.from), strings.TrimSpace(in.to), strings.TrimSpace(in.asOf), strings.TrimSpace(in.sort)
	return in.request(now)
}

// searchFieldKind says what a JSON field must hold, for type errors.
func searchFieldKind(field string) string {
	switch {
	case slices.Contains(search.FilterFields(), field), field == paramFacets:
		return "an array of strings"
	case field == paramFacetSize, field == paramPage, field == paramPerPage:
		return "a whole number"
	case field == paramHighlight:
		return "true or false"
	}
	return "a string"
}

// request decodes the input into the engine's request, which
// search.Request.Normalize then checks and completes: the one place a
// search is validated, for GET, POST and the Algolia routes alike.
func (in *searchInput) request(now time.Time) (search.Request, error) {
	r := search.Request{Query: in.q, Filters: in.filters, Facets: in.facets, Sort: search.Sort(in.sort)}
	var err error
	if r.From, err = parseDay(paramFrom, in.from); err != nil {
		return r, err
	}
	if r.To, err = parseDay(paramTo, in.to); err != nil {
		return r, err
	}
	if r.AsOf, err = parseDay(paramAsOf, in.asOf); err != nil {
		return r, err
	}
	if r.AsOf.IsZero() {
		y, m, d := now.UTC().Date()
		r.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	// A number given as 0 is out of range, not "not given", which is what a
	// zero means to Normalize.
	for _, n := range []struct {
		name  string
		given *int
		into  *int
	}{{paramFacetSize, in.facetSize, &r.FacetSize}, {paramPerPage, in.perPage, &r.PerPage}, {paramPage, in.page, &r.Page}} {
		if n.given == nil {
			continue
		}
		if *n.given == 0 {
			*n.given = -1
		}
		*n.into = *n.given
	}
	if in.highlight != nil {
		r.NoHighlight = !*in.highlight
	}
	return r, r.Normalize()
}

func parseDay(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(index.DateLayout, v)
	if err != nil {
		return time.Time{}, search.Invalid(name, "%s %q is not a date in the form YYYY-MM-DD", name, input.Clip(v))
	}
	return t, nil
}

// ParseSuggestQuery turns the query parameters of GET /v1/suggest into a
// suggestion request. An empty q is allowed and suggests nothing.
func ParseSuggestQuery(values url.Values) (search.SuggestRequest, error) {
	r := search.SuggestRequest{Limit: search.DefaultSuggestLimit}
	if err := input.CheckNames(values, SuggestParams(), suggestAliases, "parameter"); err != nil {
		return r, err
	}
	for name, vs := range values {
		if len(vs) > 1 {
			return r, search.Invalid(name, "%s is given %d times; give it once", name, len(vs))
		}
	}
	r.Query = strings.TrimLeftFunc(values.Get(paramQuery), unicode.IsSpace)
	if v := strings.TrimSpace(values.Get(paramLimit)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 {
			n = -1 // out of range: Normalize says what limit must be
		}
		r.Limit = n
	}
	return r, r.Normalize()
}

// Names people reach for that the API spells differently.
var (
	searchAliases = map[string]string{
		"query": paramQuery, "text": paramQuery, "search": paramQuery, "limit": paramPerPage, "size": paramPerPage,
		"offset": paramPage, "order": paramSort, "sort_by": paramSort, "orderby": paramSort, "date": paramAsOf,
		"start": paramFrom, "end": paramTo, "type": search.FieldKind,
	}
	suggestAliases = map[string]string{"query": paramQuery, "text": paramQuery, "prefix": paramQuery, "size": paramLimit, "per_page": paramLimit}
)

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
