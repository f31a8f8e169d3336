package index

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
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
		var text string
		switch field {
		case FieldTitle:
			text = d.Title
		case FieldDescription:
			text = d.Description
		default:
			return nil, fmt.Errorf("highlight: field %s is not highlighted", field)
		}
		a := ix.mapping.AnalyzerNamed(ix.mapping.AnalyzerNameForPath(field))
		if a == nil {
			return nil, fmt.Errorf("highlight: no analyzer for %s", field)
		}
		locations := bsearch.TermLocationMap{}
		for _, t := range a.Analyze([]byte(text)) {
			if want[string(t.Term)] {
				locations.AddLocation(string(t.Term), &bsearch.Location{Pos: uint64(t.Position), Start: uint64(t.Start), End: uint64(t.End)})
			}
		}
		if len(locations) > 0 {
			dm.Locations[field] = locations
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

// Terms are the phrase's analysed words.
func (p *Phrase) Terms() ([]string, error) { return p.words() }
