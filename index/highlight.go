package index

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
)

// Highlight returns, per field of d named in terms, its best fragment with
// the words whose analysed term is in terms[field] marked, HTML-escaped, as
// Bleve's html highlighter makes it. The positions come from analysing the
// page's own documents: asking Bleve to record them during a search makes
// every term searcher decode the positions of every posting it passes over,
// and skipping through a frequent word's postings to a page of documents
// walks them all.
func (ix *Index) Highlight(d *Document, terms map[string]map[string]bool) (map[string][]string, error) {
	h, err := bleve.Config.Cache.HighlighterNamed(html.Name)
	if err != nil {
		return nil, fmt.Errorf("highlighter: %w", err)
	}
	dm := &bsearch.DocumentMatch{ID: d.ID, Locations: bsearch.FieldTermLocationMap{}}
	doc := document.NewDocument(d.ID)
	for field, want := range terms {
		text, err := ix.each(d, field, want, func(term string, t *analysis.Token) {
			if dm.Locations[field] == nil {
				dm.Locations[field] = bsearch.TermLocationMap{}
			}
			dm.Locations[field].AddLocation(term, &bsearch.Location{Pos: uint64(t.Position), Start: uint64(t.Start), End: uint64(t.End)})
		})
		if err != nil {
			return nil, err
		}
		if dm.Locations[field] != nil {
			doc.AddField(document.NewTextField(field, nil, []byte(text)))
		}
	}
	out := map[string][]string{}
	for field := range dm.Locations {
		if frags := h.BestFragmentsInField(dm, doc, field, 1); len(frags) > 0 {
			out[field] = frags
		}
	}
	return out, nil
}

// Span is where a word matched in a field's text: the bytes [Start, End).
type Span struct {
	Start, End int
}

// Matches returns, per field of d named in terms, where its words whose
// analysed term is in terms[field] are, in order, as byte offsets into the
// field's text. It is Highlight's marking without the formatting: for
// callers that mark the text their own way (other tags, no HTML escaping,
// the whole field rather than its best fragment).
func (ix *Index) Matches(d *Document, terms map[string]map[string]bool) (map[string][]Span, error) {
	out := map[string][]Span{}
	for field, want := range terms {
		if _, err := ix.each(d, field, want, func(_ string, t *analysis.Token) {
			out[field] = append(out[field], Span{Start: t.Start, End: t.End})
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// each analyses one highlighted field of d and calls fn, in text order,
// for every token whose term is in want; it returns the field's text.
func (ix *Index) each(d *Document, field string, want map[string]bool, fn func(term string, t *analysis.Token)) (string, error) {
	var text string
	switch field {
	case FieldTitle:
		text = d.Title
	case FieldDescription:
		text = d.Description
	default:
		return "", fmt.Errorf("highlight: field %s is not highlighted", field)
	}
	name := ix.mapping.AnalyzerNameForPath(field)
	if name != AnalyzerText {
		a := ix.mapping.AnalyzerNamed(name)
		if a == nil {
			return "", fmt.Errorf("highlight: no analyzer for %s", field)
		}
		for _, t := range a.Analyze([]byte(text)) {
			if term := string(t.Term); want[term] {
				fn(term, t)
			}
		}
		return text, nil
	}
	// The text analyser is the words analyser followed by the stemmer, and
	// stemming every word of a page of descriptions was a fifth of a
	// selective search's time. A Snowball stem keeps its word's first two
	// letters ("dying" -> "die", "skies" -> "sky"), so only words that
	// begin like a wanted stem are stemmed; the others cannot match.
	words := ix.mapping.AnalyzerNamed(AnalyzerWords)
	stem := ix.stemmer()
	if words == nil || stem == nil {
		return "", fmt.Errorf("highlight: no analyzer for %s", field)
	}
	heads := make(map[string]bool, len(want))
	for term := range want {
		heads[head(term)] = true
	}
	var one [1]*analysis.Token
	for _, t := range words.Analyze([]byte(text)) {
		if !heads[head(string(t.Term))] {
			continue
		}
		one[0] = t
		stem.Filter(one[:])
		if term := string(t.Term); want[term] {
			fn(term, t)
		}
	}
	return text, nil
}

// head is what a word and its stem share at the start: two bytes.
func head(w string) string { return w[:min(2, len(w))] }

// stemmer is the stemming filter that ends the text analyser.
func (ix *Index) stemmer() analysis.TokenFilter {
	a, ok := ix.mapping.AnalyzerNamed(AnalyzerText).(*analysis.DefaultAnalyzer)
	if !ok || len(a.TokenFilters) == 0 {
		return nil
	}
	return a.TokenFilters[len(a.TokenFilters)-1]
}
