package index

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// A Query is what package search makes of a request: the clauses its words
// became, the filters and facets, the order and the page. It is compiled
// to Bleve's queries here, so nothing above this package sees them, and
// run on one snapshot (see Reader).

// Clause is one part of a query's text: which documents match it and what
// a match adds to their score. The clause types are Term, Phrase, AnyOf and
// AllOf.
type Clause interface {
	bleveQuery(ix *Index) query.Query
}

// Term matches the documents holding Term, an analysed term, in Field; a
// match scores BM25 times Boost.
type Term struct {
	Field string
	Term  string
	Boost float64
}

// Phrase matches the documents holding Text word for word in Field (the
// text is analysed as the field's text was), scoring as its words do.
// Which documents hold it is remembered per snapshot.
type Phrase struct {
	Field string
	Text  string
	Boost float64
}

// AnyOf matches the documents matching any of its clauses, scoring the sum
// of those they match.
type AnyOf []Clause

// AllOf matches the documents matching every one of its clauses.
type AllOf []Clause

func (t Term) bleveQuery(*Index) query.Query {
	q := bleve.NewTermQuery(t.Term)
	q.SetField(t.Field)
	q.SetBoost(t.Boost)
	return q
}

func (p Phrase) bleveQuery(ix *Index) query.Query {
	return &phraseQuery{ix: ix, text: p.Text, field: p.Field, boost: p.Boost}
}

func (a AnyOf) bleveQuery(ix *Index) query.Query {
	return bleve.NewDisjunctionQuery(compileAll(ix, a)...)
}

func (a AllOf) bleveQuery(ix *Index) query.Query {
	return bleve.NewConjunctionQuery(compileAll(ix, a)...)
}

func compileAll(ix *Index, cs []Clause) []query.Query {
	out := make([]query.Query, len(cs))
	for i, c := range cs {
		out[i] = c.bleveQuery(ix)
	}
	return out
}

// SortKey orders hits by a field's value, or by score when Field is
// empty. Dates sort as dates, other fields as strings; documents without
// the field come last either way.
type SortKey struct {
	Field string
	Desc  bool
}

// Query is a search to run: the text clauses, filters and facets, order
// and page.
type Query struct {
	// Required clauses must all match; with none, every document matches.
	Required []Clause
	// Optional clauses only add to the score (question words, "projects").
	Optional []Clause
	// Exclude: a hit matches none of these.
	Exclude []Clause
	// Faceted holds the filters and the facets counted over the hits.
	Faceted
	// Sort orders the hits; nil is by score, best first. A sort by a field
	// ends in the document id, so equal values page stably.
	Sort []SortKey
	// Unscored skips scoring: for an order that does not use it.
	Unscored bool
	// PageOnly asks for the first From+Size hits in document order and
	// nothing else: no score, no total, no facets (the Result's Total and
	// Counts stay empty). The search stops once the page is full, where
	// a counted one works out every match (suggestions, on every
	// keystroke, want three titles). It takes no filters, facets or sort.
	PageOnly bool
	// OtherKinds scales the scores of documents that are not projects (the
	// overview and partner pages list every country and topic: they stay
	// findable, projects rank above them); 0 leaves every score alone.
	OtherKinds float64
	// From and Size are the page: Size 0 counts without ranking.
	From, Size int
}

// core is the Bleve query of q: every required clause, the optional ones
// adding to the score, none of the excluded ones.
func (q *Query) core(ix *Index) query.Query {
	b := bleve.NewBooleanQuery()
	if len(q.Required) > 0 {
		b.AddMust(bleve.NewConjunctionQuery(compileAll(ix, q.Required)...))
	} else {
		b.AddMust(bleve.NewMatchAllQuery())
	}
	if len(q.Optional) > 0 {
		b.AddShould(compileAll(ix, q.Optional)...)
	}
	if len(q.Exclude) > 0 {
		b.AddMustNot(compileAll(ix, q.Exclude)...)
	}
	return q.demoted(b)
}

// scoring is the Bleve query partial matches are ranked by: any of units
// or of the optional clauses, none required (the levels choose the hits).
func (q *Query) scoring(ix *Index, units []Clause) query.Query {
	qs := compileAll(ix, q.Optional)
	qs = append(qs, compileAll(ix, units)...)
	return q.demoted(bleve.NewDisjunctionQuery(qs...))
}

// exclusion is the Bleve query of the excluded clauses, nil without any.
func (q *Query) exclusion(ix *Index) query.Query {
	if len(q.Exclude) == 0 {
		return nil
	}
	return bleve.NewDisjunctionQuery(compileAll(ix, q.Exclude)...)
}

func (q *Query) demoted(b query.Query) query.Query {
	if q.OtherKinds == 0 {
		return b
	}
	weight := q.OtherKinds
	return query.NewCustomScoreQueryWithScorer(b, func(_ context.Context, d *bsearch.DocumentMatch) (float64, error) {
		if kind, _ := d.Fields[FieldKind].(string); kind != "" && kind != KindProject {
			return d.Score * weight, nil
		}
		return d.Score, nil
	}, []string{FieldKind}, nil)
}

// request is the Bleve request for q's page, loading each hit's source.
func (q *Query) request() (*bleve.SearchRequest, error) {
	req := bleve.NewSearchRequestOptions(nil, q.Size, q.From, false)
	req.Fields = []string{FieldSource}
	if q.Unscored {
		req.Score = bleve.ScoreNone
	}
	order, err := sortOrder(q.Sort)
	if err != nil {
		return nil, err
	}
	req.SortByCustom(order)
	return req, nil
}

// sortOrder is Bleve's order for keys. Ranked by score alone there is no
// tie-break on the id: it would read every hit's id from its stored fields
// (a fifth of a broad query's time at a million documents); Bleve breaks
// exact ties by document order.
func sortOrder(keys []SortKey) (bsearch.SortOrder, error) {
	if len(keys) == 0 {
		return bsearch.SortOrder{&bsearch.SortScore{Desc: true}}, nil
	}
	out := make(bsearch.SortOrder, 0, len(keys)+1)
	byField := false
	for _, k := range keys {
		switch k.Field {
		case "":
			out = append(out, &bsearch.SortScore{Desc: k.Desc})
		case FieldStart, FieldEnd:
			byField = true
			out = append(out, &bsearch.SortField{Field: k.Field, Type: bsearch.SortFieldAsDate, Desc: k.Desc, Missing: bsearch.SortFieldMissingLast})
		case FieldTitleSort:
			byField = true
			out = append(out, &bsearch.SortField{Field: k.Field, Type: bsearch.SortFieldAsString, Desc: k.Desc, Missing: bsearch.SortFieldMissingLast})
		default:
			return nil, fmt.Errorf("sort: field %q is not sortable", k.Field)
		}
	}
	if byField {
		out = append(out, &bsearch.SortDocID{})
	}
	return out, nil
}

// Hit is one ranked document.
type Hit struct {
	Doc   *Document
	Score float64
}

// Result is the answer to a query: the page's hits, how many documents
// match, and the facet counts over them.
type Result struct {
	Hits   []Hit
	Total  uint64
	Counts *FacetCounts
}

// hitsOf decodes the stored source of Bleve's hits.
func hitsOf(matches bsearch.DocumentMatchCollection) []Hit {
	out := make([]Hit, 0, len(matches))
	for _, m := range matches {
		src, _ := m.Fields[FieldSource].(string)
		d, err := DecodeSource([]byte(src))
		if err != nil {
			d = &Document{ID: m.ID}
		}
		out = append(out, Hit{Doc: d, Score: m.Score})
	}
	return out
}
