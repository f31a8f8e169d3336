package handlers

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// algoliaResult is one query's answer in Algolia's shape. did_you_mean and
// relaxed are the service's own: InstantSearch copies every field of a
// result onto its results object, where a custom widget can read them.
type algoliaResult struct {
	Hits                  []map[string]any          `json:"hits"`
	NbHits                uint64                    `json:"nbHits"`
	Page                  int                       `json:"page"`
	NbPages               int                       `json:"nbPages"`
	HitsPerPage           int                       `json:"hitsPerPage"`
	ProcessingTimeMS      int                       `json:"processingTimeMS"`
	ExhaustiveNbHits      bool                      `json:"exhaustiveNbHits"`
	ExhaustiveFacetsCount bool                      `json:"exhaustiveFacetsCount"`
	Exhaustive            algoliaExhaustive         `json:"exhaustive"`
	Query                 string                    `json:"query"`
	Params                string                    `json:"params"`
	Index                 string                    `json:"index"`
	Facets                map[string]map[string]int `json:"facets,omitempty"`
	DidYouMean            string                    `json:"did_you_mean,omitempty"`
	Relaxed               *search.Relaxed           `json:"relaxed,omitempty"`
	// QueryID names a counted search for click events, when the query
	// asked with clickAnalytics (Algolia's name and behaviour).
	QueryID string `json:"queryID,omitempty"`
}

// algoliaExhaustive is v5's form of the exhaustive flags. Every count the
// engine gives is exact.
type algoliaExhaustive struct {
	NbHits      bool `json:"nbHits"`
	FacetsCount bool `json:"facetsCount"`
}

// algoliaFacetHits answers a facet-value search.
type algoliaFacetHits struct {
	FacetHits             []algoliaFacetHit `json:"facetHits"`
	ExhaustiveFacetsCount bool              `json:"exhaustiveFacetsCount"`
	ProcessingTimeMS      int               `json:"processingTimeMS"`
}

type algoliaFacetHit struct {
	Value       string `json:"value"`
	Highlighted string `json:"highlighted"`
	Count       int    `json:"count"`
}

// algoliaMarked is one attribute of _highlightResult or _snippetResult.
type algoliaMarked struct {
	Value        string   `json:"value"`
	MatchLevel   string   `json:"matchLevel"`
	MatchedWords []string `json:"matchedWords"`
}

func millis(ms float64) int { return int(math.Round(ms)) }

// result shapes the engine's answer to q. took is the engine's time, 0
// for a query answered from another one's counts.
func (q *algoliaQuery) result(resp *search.Response, total uint64, took float64) *algoliaResult {
	out := &algoliaResult{
		Hits:             []map[string]any{},
		NbHits:           total,
		Page:             q.page,
		HitsPerPage:      q.hitsPerPage,
		ProcessingTimeMS: millis(took),
		ExhaustiveNbHits: true, ExhaustiveFacetsCount: true,
		Exhaustive: algoliaExhaustive{NbHits: true, FacetsCount: true},
		Query:      q.query, Params: q.params, Index: q.index,
		DidYouMean: resp.DidYouMean, Relaxed: resp.Relaxed,
	}
	if q.hitsPerPage > 0 {
		pages := int((total + uint64(q.hitsPerPage) - 1) / uint64(q.hitsPerPage))
		// Pagination must not link to pages the engine refuses.
		out.NbPages = min(pages, search.MaxDepth/q.hitsPerPage)
		if !q.beyond {
			for _, h := range resp.Hits {
				out.Hits = append(out.Hits, q.hit(h))
			}
		}
	}
	if len(q.req.Facets) > 0 {
		out.Facets = map[string]map[string]int{}
		for _, f := range q.req.Facets {
			counts := map[string]int{}
			vals := resp.Facets[f]
			// An answer from another query's counts keeps as many values
			// as this query asked for.
			if len(vals) > q.req.FacetSize {
				vals = vals[:q.req.FacetSize]
			}
			for _, v := range vals {
				// Algolia never lists a zero count; a refinement list would
				// show "active (0)". A ticked value stays listed.
				if v.Count > 0 || slices.Contains(q.refined[f], v.Value) {
					counts[v.Value] = v.Count
				}
			}
			out.Facets[q.names[f]] = counts
		}
	}
	return out
}

// hit is one hit as Algolia shows it: the document's fields as /v1 gives
// them (less score and the HTML highlights), objectID, and the title and
// description marked with the client's tags, as raw text. The client
// escapes it: InstantSearch HTML-escapes the value, then turns its own
// placeholder tags into <mark>, so text escaped here would show as
// "&amp;" on the page.
func (q *algoliaQuery) hit(h search.Hit) map[string]any {
	b, _ := json.Marshal(h) // a Hit always encodes
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(b, &fields)
	out := make(map[string]any, len(fields)+3)
	for name, v := range fields {
		if name != "score" && name != "highlights" && q.retrieve(name) {
			out[name] = v
		}
	}
	out["objectID"] = h.ID
	text := map[string]string{"title": h.Title, "description": h.Description}
	words := queryWords(q.req.Query)
	highlights := map[string]algoliaMarked{}
	for _, a := range q.highlight {
		spans := h.Matches[fieldOf(a)]
		highlights[a] = marked(mark(text[a], spans, 0, len(text[a]), q.preTag, q.postTag), text[a], spans, words)
	}
	snippets := map[string]algoliaMarked{}
	for a, n := range q.snippet {
		spans := h.Matches[fieldOf(a)]
		snippets[a] = marked(snippet(text[a], spans, n, q.preTag, q.postTag, q.ellipsis), text[a], spans, words)
	}
	out["_highlightResult"] = highlights
	out["_snippetResult"] = snippets
	return out
}

// fieldOf is the index field of a text attribute, the key of Hit.Matches.
func fieldOf(attr string) string {
	if attr == "title" {
		return index.FieldTitle
	}
	return index.FieldDescription
}

// marked fills matchLevel and matchedWords. The engine matches through
// stems, typos, synonyms and prefixes, so a marked word cannot always be
// traced to one query word: matchedWords are the field's marked words,
// lower-cased, and the level is full when there are as many of them as
// the query has words.
func marked(value, text string, spans []index.Span, queryWords int) algoliaMarked {
	m := algoliaMarked{Value: value, MatchLevel: "none", MatchedWords: []string{}}
	for _, s := range spans {
		if w := strings.ToLower(text[s.Start:s.End]); !slices.Contains(m.MatchedWords, w) {
			m.MatchedWords = append(m.MatchedWords, w)
		}
	}
	switch {
	case len(m.MatchedWords) == 0:
	case len(m.MatchedWords) >= queryWords:
		m.MatchLevel = "full"
	default:
		m.MatchLevel = "partial"
	}
	return m
}

// queryWords counts the words of a query that can match: runs of letters
// and digits, leaving out -excluded words.
func queryWords(q string) int {
	n := 0
	for _, w := range strings.Fields(q) {
		if strings.HasPrefix(w, "-") {
			continue
		}
		inWord := false
		for _, r := range w {
			letter := unicode.IsLetter(r) || unicode.IsDigit(r)
			if letter && !inWord {
				n++
			}
			inWord = letter
		}
	}
	return n
}

// mark returns text[from:to] with pre and post around each span inside it.
// Spans are in order; overlapping ones are merged.
func mark(text string, spans []index.Span, from, to int, pre, post string) string {
	var b strings.Builder
	at := from
	for i := 0; i < len(spans); i++ {
		s := spans[i]
		for i+1 < len(spans) && spans[i+1].Start <= s.End {
			s.End = max(s.End, spans[i+1].End)
			i++
		}
		if s.End <= at || s.Start >= to {
			continue
		}
		start, end := max(s.Start, at), min(s.End, to)
		b.WriteString(text[at:start])
		b.WriteString(pre)
		b.WriteString(text[start:end])
		b.WriteString(post)
		at = end
	}
	b.WriteString(text[at:to])
	return b.String()
}

// snippet crops text to the n words (split at white space) holding the
// most matched words, centred on them, marks them, and puts ellipsis where
// text was cut.
func snippet(text string, spans []index.Span, n int, pre, post, ellipsis string) string {
	type word struct{ start, end int }
	var words []word
	inWord := false
	for i, r := range text {
		space := unicode.IsSpace(r)
		switch {
		case !space && !inWord:
			words = append(words, word{start: i})
		case space && inWord:
			words[len(words)-1].end = i
		}
		inWord = !space
	}
	if inWord {
		words[len(words)-1].end = len(text)
	}
	if len(words) <= n {
		return mark(text, spans, 0, len(text), pre, post)
	}
	// hit[i] is set for each word holding the start of a match.
	hit := make([]bool, len(words))
	w := 0
	for _, s := range spans {
		for w < len(words)-1 && words[w].end <= s.Start {
			w++
		}
		hit[w] = true
	}
	count := func(from int) int {
		c := 0
		for _, h := range hit[from : from+n] {
			if h {
				c++
			}
		}
		return c
	}
	best, bestCount := 0, count(0)
	for from := 1; from+n <= len(words); from++ {
		if c := count(from); c > bestCount {
			best, bestCount = from, c
		}
	}
	if bestCount > 0 {
		first, last := best, best+n-1
		for !hit[first] {
			first++
		}
		for !hit[last] {
			last--
		}
		centred := max(0, min(len(words)-n, (first+last+1)/2-n/2))
		if count(centred) == bestCount {
			best = centred
		}
	}
	from, to := words[best].start, words[best+n-1].end
	out := mark(text, spans, from, to, pre, post)
	if best > 0 {
		out = ellipsis + out
	}
	if best+n < len(words) {
		out += ellipsis
	}
	return out
}

// facetHits answers a facet-value search from the facet's counts: the
// values with a word starting with the typed text, accents and case
// aside (so "cote" finds Côte d'Ivoire and "ivo" too), most documents
// first.
func (q *algoliaQuery) facetHits(resp *search.Response, took float64) *algoliaFacetHits {
	out := &algoliaFacetHits{FacetHits: []algoliaFacetHit{}, ExhaustiveFacetsCount: true, ProcessingTimeMS: millis(took)}
	typed := fold(strings.TrimSpace(q.facetQuery))
	for _, v := range resp.Facets[q.facet] {
		if v.Count == 0 {
			continue
		}
		start, end, ok := wordPrefix(v.Value, typed.text)
		if !ok {
			continue
		}
		h := algoliaFacetHit{Value: v.Value, Highlighted: v.Value, Count: v.Count}
		if end > start {
			h.Highlighted = v.Value[:start] + q.preTag + v.Value[start:end] + q.postTag + v.Value[end:]
		}
		out.FacetHits = append(out.FacetHits, h)
	}
	sort.SliceStable(out.FacetHits, func(i, j int) bool {
		a, b := out.FacetHits[i], out.FacetHits[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Value < b.Value
	})
	if len(out.FacetHits) > q.maxFacetHits {
		out.FacetHits = out.FacetHits[:q.maxFacetHits]
	}
	return out
}

// folded is text lower-cased with accents removed, with the byte offset in
// the original of each folded byte, and of the end.
type folded struct {
	text string
	at   []int
}

func fold(s string) folded {
	var f folded
	var b strings.Builder
	for i, r := range s {
		for _, d := range norm.NFD.String(string(r)) {
			if unicode.Is(unicode.Mn, d) {
				continue
			}
			d = unicode.ToLower(d)
			for range utf8.RuneLen(d) {
				f.at = append(f.at, i)
			}
			b.WriteRune(d)
		}
	}
	f.text = b.String()
	f.at = append(f.at, len(s))
	return f
}

// wordPrefix finds the first place in value where a word starts with
// typed (folded), and gives its byte range in value. An empty typed text
// matches every value at no place.
func wordPrefix(value, typed string) (start, end int, ok bool) {
	if typed == "" {
		return 0, 0, true
	}
	v := fold(value)
	for i := 0; i+len(typed) <= len(v.text); i++ {
		if !strings.HasPrefix(v.text[i:], typed) {
			continue
		}
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(v.text[:i])
			if unicode.IsLetter(prev) || unicode.IsDigit(prev) {
				continue
			}
		}
		return v.at[i], v.at[i+len(typed)], true
	}
	return 0, 0, false
}
