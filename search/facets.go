package search

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mpower/labor-search/index"
)

// windowGroup is the filter group of the from/to window; no facet has
// this name, so every facet counts within the window.
const windowGroup = "_window"

// faceted turns the request's filters and facets into what the index
// counts. A facet counts as if its own filter were not there (disjunctive
// facets): picking Peru still shows how many Mexico would add.
func (p *plan) faceted() index.Faceted {
	var f index.Faceted
	for _, name := range sortedKeys(p.req.Filters) {
		conds := make([]index.Condition, 0, len(p.req.Filters[name]))
		for _, v := range p.req.Filters[name] {
			if name == FieldStatus {
				conds = append(conds, statusCondition(v, p.asOf))
			} else {
				conds = append(conds, index.Condition{Field: facetFields[name], Value: v})
			}
		}
		f.Filters = append(f.Filters, index.Filter{Group: name, AnyOf: conds})
	}
	if c, ok := windowCondition(p.req.From, p.req.To); ok {
		f.Filters = append(f.Filters, index.Filter{Group: windowGroup, AnyOf: []index.Condition{c}})
	}
	for _, name := range p.req.Facets {
		if name == FieldStatus {
			var buckets []index.Bucket
			for _, s := range []string{StatusActive, StatusEnded, StatusUpcoming} {
				buckets = append(buckets, index.Bucket{Label: s, Cond: statusCondition(s, p.asOf)})
			}
			f.Facets = append(f.Facets, index.Facet{Name: name, Buckets: buckets})
			continue
		}
		f.Facets = append(f.Facets, index.Facet{Name: name, Field: facetFields[name]})
	}
	return f
}

// statusCondition matches documents with a status on a day, as statusOf
// computes it: both days of a period count as inside it, and a missing
// bound is open.
func statusCondition(status string, asOf time.Time) index.Condition {
	a := index.DayOf(asOf)
	c := index.Condition{Key: fmt.Sprintf("status:%s@%d", status, a)}
	switch status {
	case StatusUpcoming:
		c.Dates = func(start, _ index.Day) bool { return start != index.NoDay && start > a }
	case StatusEnded:
		c.Dates = func(_, end index.Day) bool { return end != index.NoDay && end < a }
	default:
		c.Dates = func(start, end index.Day) bool {
			if start == index.NoDay && end == index.NoDay {
				return false
			}
			return (start == index.NoDay || start <= a) && (end == index.NoDay || end >= a)
		}
	}
	return c
}

// windowCondition keeps periods overlapping [from, to]: those starting by
// its end and ending by its start, a missing bound of the period being
// open (an ongoing project overlaps every window after its start).
// Documents without any date have no period and are left out.
func windowCondition(from, to time.Time) (index.Condition, bool) {
	if from.IsZero() && to.IsZero() {
		return index.Condition{}, false
	}
	f, t := index.DayOf(from), index.DayOf(to)
	return index.Condition{
		Key: fmt.Sprintf("window:%d:%d:%t:%t", f, t, from.IsZero(), to.IsZero()),
		Dates: func(start, end index.Day) bool {
			if start == index.NoDay && end == index.NoDay {
				return false
			}
			if !to.IsZero() && start != index.NoDay && start > t {
				return false
			}
			return from.IsZero() || end == index.NoDay || end >= f
		},
	}, true
}

// answer is a response without hits: the total and the facets of counts.
func (p *plan) answer(counts *index.FacetCounts) *Response {
	return &Response{Total: counts.Total, Facets: p.finishFacets(counts.Counts), FacetTotals: counts.Over}
}

// finishFacets orders each facet by count then value, keeps facet_size
// values, and always lists the values the visitor selected.
func (p *plan) finishFacets(counts map[string]map[string]int) map[string][]FacetValue {
	out := make(map[string][]FacetValue, len(counts))
	for f, byValue := range counts {
		vals := make([]FacetValue, 0, len(byValue))
		for v, n := range byValue {
			// All three statuses are always shown, with zeros.
			if n > 0 || f == FieldStatus {
				vals = append(vals, FacetValue{Value: v, Count: n})
			}
		}
		sort.Slice(vals, func(i, j int) bool {
			if vals[i].Count != vals[j].Count {
				return vals[i].Count > vals[j].Count
			}
			return vals[i].Value < vals[j].Value
		})
		if len(vals) > p.req.FacetSize {
			vals = vals[:p.req.FacetSize]
		}
		for _, sel := range p.req.Filters[f] {
			if !hasValue(vals, sel) {
				vals = append(vals, FacetValue{Value: sel, Count: byValue[sel]})
			}
		}
		out[f] = vals
	}
	return out
}

func hasValue(vals []FacetValue, v string) bool {
	for i := range vals {
		if vals[i].Value == v {
			return true
		}
	}
	return false
}

// browseOrder is how a request without text is ordered from the index's
// document sets; ok is false when Bleve must order it (by title).
func (p *plan) browseOrder() (index.BrowseOrder, bool) {
	if len(p.clauses) > 0 || len(p.excluded) > 0 {
		return index.BrowseOrder{}, false
	}
	switch s := p.req.Sort; s {
	case SortRelevance:
		// No text to rank by: projects first, newest first.
		o := index.BrowseOrder{Field: index.FieldStart, Desc: true}
		if p.demote {
			o.First = &index.Condition{Field: index.FieldKind, Value: index.KindProject}
		}
		return o, true
	case SortStart, SortStartDesc:
		return index.BrowseOrder{Field: index.FieldStart, Desc: s == SortStartDesc}, true
	case SortEnd, SortEndDesc:
		return index.BrowseOrder{Field: index.FieldEnd, Desc: s == SortEndDesc}, true
	}
	return index.BrowseOrder{}, false
}

// browse answers a request without text: filters, facets and order all
// come from document sets, and only the page's documents are read.
func (e *Engine) browse(ctx context.Context, rd *index.Reader, p *plan, order index.BrowseOrder) (*Response, error) {
	r := p.req
	from, size := (r.Page-1)*r.PerPage, r.PerPage
	if r.CountOnly {
		from, size = 0, 0
	}
	docs, counts, err := rd.Browse(ctx, p.faceted(), order, from, size)
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, 0, len(docs))
	for _, d := range docs {
		hits = append(hits, hitOf(d, p.asOf))
	}
	resp := p.answer(counts)
	resp.Hits = hits
	return resp, nil
}

// Warm prepares the index for the first searches: the vocabulary, the
// dates and the document sets of the default facets (the others, asked for
// less, are worked out when first asked: each costs memory, about 9 MiB a
// field at a million documents).
func (e *Engine) Warm(ctx context.Context) error {
	var fields []string
	for _, f := range defaultFacets {
		if field, ok := facetFields[f]; ok {
			fields = append(fields, field)
		}
	}
	if err := e.ix.Warm(ctx, fields); err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	return nil
}
