// Package search turns what a visitor asks into Bleve queries and shapes the
// answer: text matching with typos, prefixes, synonyms and relaxation, filters,
// disjunctive facets, highlights, sorting and paging. It knows nothing of HTTP.
package search

import (
	"errors"
	"time"

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

// FilterFields lists every filterable and facetable field.
var FilterFields = []string{FieldCountry, FieldRegion, FieldSector, FieldArea, FieldPartner, FieldKind, FieldStatus}

// DefaultFacets are computed when a request does not choose.
var DefaultFacets = []string{FieldCountry, FieldSector, FieldArea, FieldStatus}

// Sort orders a request may ask for.
var SortOrders = []string{"relevance", "start", "-start", "end", "-end", "title", "-title"}

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
	Sort      string   `json:"sort"`
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
