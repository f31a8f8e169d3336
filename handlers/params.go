package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mpower/labor-search/index"
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
	return append(append([]string{paramQuery}, search.FilterFields...),
		paramFrom, paramTo, paramAsOf, paramFacets, paramFacetSize, paramSort, paramPage, paramPerPage, paramHighlight, paramMinSeq)
}

// SuggestParams lists every parameter GET /v1/suggest accepts.
func SuggestParams() []string { return []string{paramQuery, paramLimit, paramMinSeq} }

// closedValues are the filter fields whose values come from a fixed set, so
// a typo is caught here instead of silently matching nothing.
var closedValues = map[string][]string{
	search.FieldKind:   {index.KindProject, index.KindInitiative, index.KindPartner},
	search.FieldStatus: {search.StatusActive, search.StatusEnded, search.StatusUpcoming},
}

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
	if err := checkNames(values, SearchParams(), searchAliases, "parameter"); err != nil {
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
		case slices.Contains(search.FilterFields, name):
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
			return search.Invalid(name, "highlight must be true or false, not %q", clip(v))
		}
		in.highlight = &b
	}
	return err
}

func parseInt(name, v string) (*int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, search.Invalid(name, "%s must be a whole number, not %q", name, clip(v))
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
	fields, err := jsonObject(body, "the request body")
	if err != nil {
		return search.Request{}, err
	}
	if err := checkNames(fields, SearchParams(), searchAliases, "parameter"); err != nil {
		return search.Request{}, err
	}
	var j searchJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return search.Request{}, jsonError(err, "the request body", searchFieldKind)
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
	for _, field := range search.FilterFields {
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
	case slices.Contains(search.FilterFields, field), field == paramFacets:
		return "an array of strings"
	case field == paramFacetSize, field == paramPage, field == paramPerPage:
		return "a whole number"
	case field == paramHighlight:
		return "true or false"
	}
	return "a string"
}

// request checks the input and builds the engine's request with every
// default filled, so the response echoes what was actually run.
func (in *searchInput) request(now time.Time) (search.Request, error) {
	r := search.Request{
		Query:     in.q,
		FacetSize: search.DefaultFacetSize,
		Sort:      search.SortOrders[0],
		Page:      1,
		PerPage:   search.DefaultPerPage,
	}
	if !utf8.ValidString(r.Query) {
		return r, search.Invalid(paramQuery, "q is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(r.Query); n > search.MaxQueryLength {
		return r, search.Invalid(paramQuery, "q is %d characters long; the limit is %d", n, search.MaxQueryLength)
	}

	fields := make([]string, 0, len(in.filters))
	for f := range in.filters {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, field := range fields {
		vs := in.filters[field]
		if len(vs) == 0 {
			continue
		}
		if len(vs) > search.MaxFilterValues {
			return r, search.Invalid(field, "%s has %d values; the limit is %d", field, len(vs), search.MaxFilterValues)
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return r, search.Invalid(field, "%s is not valid UTF-8", field)
			}
			if utf8.RuneCountInString(v) > search.MaxQueryLength {
				return r, search.Invalid(field, "a %s value is longer than %d characters", field, search.MaxQueryLength)
			}
			if allowed, ok := closedValues[field]; ok && !slices.Contains(allowed, v) {
				return r, search.Invalid(field, "%s %q is not one of %s%s", field, clip(v), strings.Join(allowed, ", "), didYouMean(v, allowed))
			}
		}
		if r.Filters == nil {
			r.Filters = map[string][]string{}
		}
		r.Filters[field] = slices.Compact(slices.Sorted(slices.Values(vs)))
	}

	var err error
	if r.From, err = parseDay(paramFrom, in.from); err != nil {
		return r, err
	}
	if r.To, err = parseDay(paramTo, in.to); err != nil {
		return r, err
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		return r, search.Invalid(paramTo, "to %s is before from %s", in.to, in.from)
	}
	if r.AsOf, err = parseDay(paramAsOf, in.asOf); err != nil {
		return r, err
	}
	if r.AsOf.IsZero() {
		y, m, d := now.UTC().Date()
		r.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}

	if in.facets != nil {
		r.Facets = []string{}
		for _, f := range in.facets {
			if !slices.Contains(search.FilterFields, f) {
				return r, search.Invalid(paramFacets, "unknown facet %q%s; facets are %s", clip(f), didYouMean(f, search.FilterFields), strings.Join(search.FilterFields, ", "))
			}
			if !slices.Contains(r.Facets, f) {
				r.Facets = append(r.Facets, f)
			}
		}
	}
	if in.facetSize != nil {
		if *in.facetSize < 1 || *in.facetSize > search.MaxFacetSize {
			return r, search.Invalid(paramFacetSize, "facet_size must be between 1 and %d", search.MaxFacetSize)
		}
		r.FacetSize = *in.facetSize
	}
	if in.sort != "" {
		if !slices.Contains(search.SortOrders, in.sort) {
			return r, search.Invalid(paramSort, "sort %q is not one of %s%s", clip(in.sort), strings.Join(search.SortOrders, ", "), didYouMean(in.sort, search.SortOrders))
		}
		r.Sort = in.sort
	}
	if in.perPage != nil {
		if *in.perPage < 1 || *in.perPage > search.MaxPerPage {
			return r, search.Invalid(paramPerPage, "per_page must be between 1 and %d", search.MaxPerPage)
		}
		r.PerPage = *in.perPage
	}
	if in.page != nil {
		if *in.page < 1 {
			return r, search.Invalid(paramPage, "page must be 1 or more")
		}
		if *in.page > search.MaxDepth/r.PerPage {
			return r, search.Invalid(paramPage, "page %d with per_page %d goes past the first %d results; narrow the search instead", *in.page, r.PerPage, search.MaxDepth)
		}
		r.Page = *in.page
	}
	if in.highlight != nil {
		r.NoHighlight = !*in.highlight
	}
	return r, nil
}

func parseDay(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(index.DateLayout, v)
	if err != nil {
		return time.Time{}, search.Invalid(name, "%s %q is not a date in the form YYYY-MM-DD", name, clip(v))
	}
	return t, nil
}

// ParseSuggestQuery turns the query parameters of GET /v1/suggest into a
// suggestion request. An empty q is allowed and suggests nothing.
func ParseSuggestQuery(values url.Values) (search.SuggestRequest, error) {
	r := search.SuggestRequest{Limit: search.DefaultSuggestLimit}
	if err := checkNames(values, SuggestParams(), suggestAliases, "parameter"); err != nil {
		return r, err
	}
	for name, vs := range values {
		if len(vs) > 1 {
			return r, search.Invalid(name, "%s is given %d times; give it once", name, len(vs))
		}
	}
	r.Query = strings.TrimSpace(values.Get(paramQuery))
	if !utf8.ValidString(r.Query) {
		return r, search.Invalid(paramQuery, "q is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(r.Query); n > search.MaxQueryLength {
		return r, search.Invalid(paramQuery, "q is %d characters long; the limit is %d", n, search.MaxQueryLength)
	}
	if v := strings.TrimSpace(values.Get(paramLimit)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > search.MaxSuggestLimit {
			return r, search.Invalid(paramLimit, "limit must be a whole number between 1 and %d", search.MaxSuggestLimit)
		}
		r.Limit = n
	}
	return r, nil
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

// checkNames rejects a parameter the endpoint does not know, so a typo such
// as contry=Mexico fails loudly instead of silently returning everything.
func checkNames[V any](given map[string]V, known []string, aliases map[string]string, noun string) error {
	var unknown []string
	for name := range given {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	name := unknown[0]
	hint := ""
	if alias, ok := aliases[strings.ToLower(name)]; ok {
		hint = fmt.Sprintf(" (did you mean %q?)", alias)
	} else {
		hint = didYouMean(name, known)
	}
	msg := fmt.Sprintf("unknown %s %q%s", noun, clip(name), hint)
	if len(unknown) > 1 {
		msg += fmt.Sprintf(" and %d more", len(unknown)-1)
	}
	return search.Invalid(name, "%s; valid %ss are %s", msg, noun, strings.Join(known, ", "))
}

// didYouMean names the closest valid word to a misspelt one, or says
// nothing when none is close.
func didYouMean(got string, valid []string) string {
	lower := strings.ToLower(got)
	best, bestDist := "", 3
	for _, v := range valid {
		if v == lower || singular(v) == singular(lower) {
			return fmt.Sprintf(" (did you mean %q?)", v)
		}
		// Up to two edits for longer words, one for short ones, so "to"
		// is not offered for "xo".
		limit := 2
		if len(v) <= 4 {
			limit = 1
		}
		// An edit distance as long as either word means nothing in common.
		if d := editDistance(lower, v); d <= limit && d < bestDist && d < len(lower) && d < len(v) {
			best, bestDist = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// singular strips an English plural ending, so "countries" and "country"
// are recognised as one name.
func singular(w string) string {
	if s, ok := strings.CutSuffix(w, "ies"); ok {
		return s + "y"
	}
	return strings.TrimSuffix(w, "s")
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 64
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// clip shortens a value echoed in an error message, so a huge bad value does
// not make a huge response.
func clip(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// jsonObject checks that body is one JSON object and returns its fields.
// what names the JSON in messages: "the request body", "the document".
func jsonObject(body []byte, what string) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, search.Invalid("body", "%s is empty; send a JSON object", what)
	}
	if trimmed[0] != '{' {
		return nil, search.Invalid("body", "%s must be a JSON object", what)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, jsonError(err, what, func(string) string { return "" })
	}
	return fields, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonError explains a decoding error in the client's terms; kind says what
// a field must hold.
func jsonError(err error, what string, kind func(field string) string) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return search.Invalid("body", "%s is not valid JSON (at byte %d): %s", what, syntax.Offset, syntax.Error())
	case errors.As(err, &typ) && typ.Field != "":
		return search.Invalid(typ.Field, "%s must be %s", typ.Field, kind(typ.Field))
	case errors.As(err, &typ):
		return search.Invalid("body", "%s must be a JSON object", what)
	}
	return search.Invalid("body", "%s is not valid JSON: %s", what, err.Error())
}
