// Package search turns what a visitor asks into Bleve queries and shapes the
// answer: text matching with typos, prefixes, synonyms and relaxation, filters,
// disjunctive facets, highlights, sorting and paging. It knows nothing of HTTP.
package search

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/input"
)

// Facet and filter field names, as the API spells them.
const (
	FieldCountry = "country"
	FieldRegion  = "region"
	FieldSector  = "sector"
	FieldArea    = "area"
	FieldPartner = "partner"
	FieldKind    = "kind"
	FieldStatus  = "status"
)

var (
	filterFields  = []string{FieldCountry, FieldRegion, FieldSector, FieldArea, FieldPartner, FieldKind, FieldStatus}
	defaultFacets = []string{FieldCountry, FieldSector, FieldArea, FieldStatus}
	sortOrders    = []Sort{SortRelevance, SortStart, SortStartDesc, SortEnd, SortEndDesc, SortTitle, SortTitleDesc}
)

// FilterFields lists every filterable and facetable field (a copy).
func FilterFields() []string { return slices.Clone(filterFields) }

// DefaultFacets are computed when a request does not choose (a copy).
func DefaultFacets() []string { return slices.Clone(defaultFacets) }

// Sort is the order of a search's hits: by relevance, or by a field,
// ascending, or descending with a leading "-".
type Sort string

// The sort orders a request may ask for.
const (
	SortRelevance Sort = "relevance"
	SortStart     Sort = "start"
	SortStartDesc Sort = "-start"
	SortEnd       Sort = "end"
	SortEndDesc   Sort = "-end"
	SortTitle     Sort = "title"
	SortTitleDesc Sort = "-title"
)

// SortOrders names every sort order, as the API spells them.
func SortOrders() []string {
	out := make([]string, len(sortOrders))
	for i, s := range sortOrders {
		out[i] = string(s)
	}
	return out
}

// Limits a request is checked against.
const (
	MaxQueryLength   = 512
	MaxPerPage       = 100
	DefaultPerPage   = 10
	DefaultFacetSize = 50
	MaxFacetSize     = 500
	// MaxDepth bounds page*per_page: deeper pages cost the collector
	// page*per_page hits of memory and time.
	MaxDepth = 10000
	// MaxFilterValues bounds the values of one filter field.
	MaxFilterValues = 100
)

// Status values computed at query time from start, end and the as-of day.
const (
	StatusActive   = "active"
	StatusEnded    = "ended"
	StatusUpcoming = "upcoming"
)

// Request is what a visitor asks. The zero value of each optional field means
// "not set"; Normalize fills defaults.
type Request struct {
	Query   string              `json:"q"`
	Filters map[string][]string `json:"filters,omitempty"` // field (FilterFields) -> values; OR within, AND across
	// From and To are an inclusive window of days; a dated document is kept
	// when its [start, end] period overlaps it. Zero = open.
	From time.Time `json:"from,omitempty"`
	To   time.Time `json:"to,omitempty"`
	// AsOf is the day status is computed for; zero = today (UTC).
	AsOf time.Time `json:"as_of,omitempty"`
	// Facets to compute; nil = DefaultFacets, empty non-nil = none.
	Facets    []string `json:"facets"`
	FacetSize int      `json:"facet_size"`
	Sort      Sort     `json:"sort"`
	Page      int      `json:"page"`
	PerPage   int      `json:"per_page"`
	// NoHighlight turns highlighting off (it is on by default).
	NoHighlight bool `json:"no_highlight,omitempty"`
	// Matches asks for each hit's Matches: where the query's words are in
	// its title and description, for a caller that marks the text its own
	// way. It works with NoHighlight too.
	Matches bool `json:"matches,omitempty"`
	// CountOnly answers Total and Facets with no hits, as a page of
	// PerPage would (PerPage still decides whether partial matches join),
	// without ranking: for facet counts alone.
	CountOnly bool `json:"count_only,omitempty"`
	// Untracked marks a search a client makes on its own rather than one a
	// visitor typed (InstantSearch's helper queries, with analytics off):
	// it is timed but left out of the hits, zero-result and did-you-mean
	// counts. It does not change the answer.
	Untracked bool `json:"-"`
}

// InvalidError is a problem with a request that the caller can fix; the
// same type as the document codec's, so callers check one.
type InvalidError = input.Error

// Invalid builds an *InvalidError naming param.
func Invalid(param, format string, args ...any) error {
	return input.Invalid(param, format, args...)
}

// ErrNotFound is returned for a document id that is not in the index.
var ErrNotFound = errors.New("document not found")

// Hit is one matching document as the API shows it.
type Hit struct {
	ID          string              `json:"id"`
	Kind        string              `json:"kind"`
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Countries   []string            `json:"countries"`
	Regions     []string            `json:"regions"`
	Sectors     []string            `json:"sectors"`
	Areas       []string            `json:"areas"`
	Partners    []string            `json:"partners"`
	Funder      string              `json:"funder,omitempty"`
	Start       *string             `json:"start"`
	End         *string             `json:"end"`
	Status      *string             `json:"status"`
	Score       float64             `json:"score"`
	Highlights  map[string][]string `json:"highlights,omitempty"`
	// Matches, when the request asked for them, maps "title" and
	// "description" to where the query's words are in them, in order, as
	// byte offsets into the raw text. Not part of the /v1 answer.
	Matches map[string][]index.Span `json:"-"`
}

// FacetValue is one value of a facet and how many documents have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Relaxed says how a search that too few documents fully match was
// answered: the AllWords hits matching every word come first, then the
// best partial matches, each matching at least as telling a part of the
// query as the words in Kept.
type Relaxed struct {
	// AllWords is how many hits match every word.
	AllWords uint64 `json:"all_words"`
	// Kept is the words every hit matches, as typed; "" when no word is
	// common to them all.
	Kept string `json:"kept"`
	// Dropped lists the words a hit after the first AllWords may lack.
	Dropped []string `json:"dropped"`
}

// Response is the answer to a Request.
type Response struct {
	Query      string                  `json:"query"`
	Total      uint64                  `json:"total"`
	Page       int                     `json:"page"`
	PerPage    int                     `json:"per_page"`
	TookMs     float64                 `json:"took_ms"`
	Hits       []Hit                   `json:"hits"`
	Facets     map[string][]FacetValue `json:"facets"`
	DidYouMean string                  `json:"did_you_mean,omitempty"`
	Relaxed    *Relaxed                `json:"relaxed,omitempty"`
	// FacetTotals maps each facet to how many documents it was counted
	// over: the hits as if that facet's own filter were not there. When
	// every hit matches every word (Relaxed is nil), it is the Total of the
	// same search without that filter, so a caller asked that question can
	// answer it from this response. Not part of the /v1 answer.
	FacetTotals map[string]uint64 `json:"-"`
}

// SuggestRequest asks for completions of what a visitor is typing.
type SuggestRequest struct {
	Query string
	Limit int
}

// Normalize checks a suggestion request and fills its default limit; like
// Request.Normalize, the one place it is checked. The query is not
// trimmed: a trailing space says the last word is finished.
func (r *SuggestRequest) Normalize() error {
	if !utf8.ValidString(r.Query) {
		return Invalid("q", "q is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(r.Query); n > MaxQueryLength {
		return Invalid("q", "q is %d characters long; the limit is %d", n, MaxQueryLength)
	}
	switch {
	case r.Limit == 0:
		r.Limit = DefaultSuggestLimit
	case r.Limit < 1 || r.Limit > MaxSuggestLimit:
		return Invalid("limit", "limit must be a whole number between 1 and %d", MaxSuggestLimit)
	}
	return nil
}

// Limits for suggestions.
const (
	DefaultSuggestLimit = 8
	MaxSuggestLimit     = 20
)

// Suggestion is one completion: a query text to run, or a document title.
type Suggestion struct {
	Text string `json:"text"`
	// Kind is "query" for a completed search text, "title" for a document.
	Kind string `json:"kind"`
	// ID is the document id for a title suggestion.
	ID string `json:"id,omitempty"`
	// Highlight is Text with the typed part wrapped in <mark>, HTML-escaped.
	Highlight string `json:"highlight"`
	Count     int    `json:"count,omitempty"`
}

// SuggestResponse lists completions, best first.
type SuggestResponse struct {
	Query       string       `json:"query"`
	Suggestions []Suggestion `json:"suggestions"`
	TookMs      float64      `json:"took_ms"`
}

// closedValues are the filter fields whose values come from a fixed set, so
// a typo is caught instead of silently matching nothing.
var closedValues = map[string][]string{
	FieldKind:   {index.KindProject, index.KindInitiative, index.KindPartner},
	FieldStatus: {StatusActive, StatusEnded, StatusUpcoming},
}

// Normalize checks a request and fills its defaults, so a response echoes
// what was run. It is the one place a search request is checked: the
// engine runs it on every search, and the HTTP layer, which only decodes
// the wire into a Request, runs it to refuse a bad request before anything
// else. Every error is an *InvalidError naming the parameter and the fix.
// Empty filter values are dropped (an HTML form sends empty fields), and
// the values of a filter are counted once each.
func (r *Request) Normalize() error {
	r.Query = strings.TrimSpace(r.Query)
	if !utf8.ValidString(r.Query) {
		return Invalid("q", "q is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(r.Query); n > MaxQueryLength {
		return Invalid("q", "q is %d characters long; the limit is %d", n, MaxQueryLength)
	}
	var clean map[string][]string
	for _, f := range slices.Sorted(maps.Keys(r.Filters)) {
		if !slices.Contains(filterFields, f) {
			return Invalid(f, "unknown filter %q%s; filters are %s", input.Clip(f), input.DidYouMean(f, filterFields), strings.Join(filterFields, ", "))
		}
		var vals []string
		for _, v := range r.Filters[f] {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if !utf8.ValidString(v) {
				return Invalid(f, "%s is not valid UTF-8", f)
			}
			if utf8.RuneCountInString(v) > MaxQueryLength {
				return Invalid(f, "a %s value is longer than %d characters", f, MaxQueryLength)
			}
			if allowed, ok := closedValues[f]; ok && !slices.Contains(allowed, v) {
				return Invalid(f, "%s %q is not one of %s%s", f, input.Clip(v), strings.Join(allowed, ", "), input.DidYouMean(v, allowed))
			}
			if !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		if len(vals) > MaxFilterValues {
			return Invalid(f, "%s has %d values; the limit is %d", f, len(vals), MaxFilterValues)
		}
		if len(vals) > 0 {
			if clean == nil {
				clean = map[string][]string{}
			}
			slices.Sort(vals)
			clean[f] = vals
		}
	}
	r.Filters = clean
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		return Invalid("to", "to %s is before from %s", r.To.Format(index.DateLayout), r.From.Format(index.DateLayout))
	}
	if r.Facets == nil {
		r.Facets = DefaultFacets()
	}
	facets := []string{}
	for _, f := range r.Facets {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !slices.Contains(filterFields, f) {
			return Invalid("facets", "unknown facet %q%s; facets are %s", input.Clip(f), input.DidYouMean(f, filterFields), strings.Join(filterFields, ", "))
		}
		if !slices.Contains(facets, f) {
			facets = append(facets, f)
		}
	}
	r.Facets = facets
	switch {
	case r.FacetSize == 0:
		r.FacetSize = DefaultFacetSize
	case r.FacetSize < 1 || r.FacetSize > MaxFacetSize:
		return Invalid("facet_size", "facet_size must be between 1 and %d", MaxFacetSize)
	}
	r.Sort = Sort(strings.TrimSpace(string(r.Sort)))
	if r.Sort == "" {
		r.Sort = SortRelevance
	}
	if !slices.Contains(sortOrders, r.Sort) {
		names := SortOrders()
		return Invalid("sort", "sort %q is not one of %s%s", input.Clip(string(r.Sort)), strings.Join(names, ", "), input.DidYouMean(string(r.Sort), names))
	}
	switch {
	case r.PerPage == 0:
		r.PerPage = DefaultPerPage
	case r.PerPage < 1 || r.PerPage > MaxPerPage:
		return Invalid("per_page", "per_page must be between 1 and %d", MaxPerPage)
	}
	switch {
	case r.Page == 0:
		r.Page = 1
	case r.Page < 1:
		return Invalid("page", "page must be 1 or more")
	}
	if r.Page > MaxDepth/r.PerPage {
		return Invalid("page", "page %d with per_page %d goes past the first %d results; narrow the search instead", r.Page, r.PerPage, MaxDepth)
	}
	return nil
}
