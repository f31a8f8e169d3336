package search

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/mpower/labor-search/index"
)

// Status counts come from two date-range facets over the same hits:
// ended (end before the day) and upcoming (start after it); the rest of
// the dated documents are active.
const (
	facetEnded    = "status:ended"
	facetUpcoming = "status:upcoming"
)

// addFacetRequests asks Bleve for the given facets on req.
func addFacetRequests(req *bleve.SearchRequest, facets []string, asOf time.Time) {
	for _, f := range facets {
		if f == FieldStatus {
			ended := bleve.NewFacetRequest(index.FieldEnd, 1)
			ended.AddDateTimeRange(StatusEnded, time.Time{}, asOf)
			req.AddFacet(facetEnded, ended)
			upcoming := bleve.NewFacetRequest(index.FieldStart, 1)
			upcoming.AddDateTimeRange(StatusUpcoming, asOf.AddDate(0, 0, 1), time.Time{})
			req.AddFacet(facetUpcoming, upcoming)
			continue
		}
		req.AddFacet(f, bleve.NewFacetRequest(facetFields[f], termFacetScan))
	}
}

// facetValues reads one facet's counts from a result, unordered.
func facetValues(res *bleve.SearchResult, f string) []FacetValue {
	if f == FieldStatus {
		ended, upcoming := res.Facets[facetEnded], res.Facets[facetUpcoming]
		if ended == nil || upcoming == nil {
			return []FacetValue{}
		}
		rangeCount := func(fr *bsearch.FacetResult) int {
			n := 0
			for _, r := range fr.DateRanges {
				n += r.Count
			}
			return n
		}
		e, u := rangeCount(ended), rangeCount(upcoming)
		dated := int(res.Total) - upcoming.Missing
		return []FacetValue{
			{Value: StatusActive, Count: dated - e - u},
			{Value: StatusEnded, Count: e},
			{Value: StatusUpcoming, Count: u},
		}
	}
	fr := res.Facets[f]
	if fr == nil || fr.Terms == nil {
		return []FacetValue{}
	}
	terms := fr.Terms.Terms()
	out := make([]FacetValue, 0, len(terms))
	for _, t := range terms {
		out = append(out, FacetValue{Value: t.Term, Count: t.Count})
	}
	return out
}

// facetCounts counts one facet over the documents q matches, from the
// cache when the same question was answered since the last write.
func (e *Engine) facetCounts(ctx context.Context, q query.Query, f string, asOf time.Time, size setSize, limit int) ([]FacetValue, error) {
	generation := e.ix.Generation()
	if vals, ok := e.cachedFacet(q, f, asOf, generation); ok {
		return vals, nil
	}
	counts, err := e.countFacets(ctx, q, []string{f}, asOf, size, -1, limit)
	if err != nil {
		return nil, err
	}
	e.storeFacet(q, f, asOf, generation, counts[f])
	return counts[f], nil
}

// storedFacetLimit is the most matches whose facets are counted from
// their stored documents rather than from doc values. Doc values are kept
// in compressed chunks of 1,024 documents per field, so hits scattered
// thinly decompress a chunk per hit and field (two thirds of a selective
// query's time at a million documents, measured), while a stored document
// is read once for every facet, at about 45 µs (finding it by id, then
// decoding its JSON). Measured at a million documents, doc values win from
// about five hits per chunk, a two-hundredth of the index. The bounds keep
// small indexes on the stored path and the memory of one request in check.
func (e *Engine) storedFacetLimit() int {
	switch n := e.opts.StoredFacetHits; {
	case n > 0:
		return n
	case n < 0:
		return -1
	}
	docs, err := e.ix.Count()
	if err != nil {
		return minStoredFacetHits
	}
	return int(min(max(docs/200, minStoredFacetHits), maxStoredFacetHits))
}

const (
	minStoredFacetHits = 500
	maxStoredFacetHits = 5000
)

// countFacets counts facets over the documents q matches. size is what is
// known of their number before counting, total their number when known
// (else -1) and limit the storedFacetLimit; a set of unknown size is counted first, which is cheap next to
// visiting doc values, to pick the method.
func (e *Engine) countFacets(ctx context.Context, q query.Query, fields []string, asOf time.Time, size setSize, total int64, limit int) (map[string][]FacetValue, error) {
	if size == sizeUnknown && limit > 0 {
		if total < 0 {
			n, err := e.count(ctx, q)
			if err != nil {
				return nil, err
			}
			total = int64(n)
		}
		if total <= int64(limit) {
			size, limit = sizeSmall, int(total)
		}
	}
	out := make(map[string][]FacetValue, len(fields))
	if size == sizeSmall && limit >= 0 {
		var res *bleve.SearchResult
		if limit > 0 {
			req := bleve.NewSearchRequestOptions(q, limit, 0, false)
			req.Score = bleve.ScoreNone
			req.Fields = []string{index.FieldSource}
			var err error
			if res, err = e.ix.Search(ctx, req); err != nil {
				return nil, err
			}
		}
		// A write between counting and reading may push the set past the
		// limit; then count on doc values instead.
		if res == nil || res.Total <= uint64(len(res.Hits)) {
			var docs []*index.Document
			if res != nil {
				docs = make([]*index.Document, 0, len(res.Hits))
				for _, h := range res.Hits {
					src, _ := h.Fields[index.FieldSource].(string)
					if d, err := index.DecodeSource([]byte(src)); err == nil {
						docs = append(docs, d)
					}
				}
			}
			for _, f := range fields {
				out[f] = countDocs(docs, f, asOf)
			}
			return out, nil
		}
	}
	req := bleve.NewSearchRequestOptions(q, 0, 0, false)
	req.Score = bleve.ScoreNone
	addFacetRequests(req, fields, asOf)
	res, err := e.ix.Search(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		out[f] = facetValues(res, f)
	}
	return out, nil
}

// countDocs counts one facet over stored documents, exactly as the doc
// values would: each value once per document.
func countDocs(docs []*index.Document, f string, asOf time.Time) []FacetValue {
	counts := map[string]int{}
	if f == FieldStatus {
		counts = map[string]int{StatusActive: 0, StatusEnded: 0, StatusUpcoming: 0}
	}
	for _, d := range docs {
		var vals []string
		switch f {
		case FieldCountry:
			vals = d.Countries
		case FieldRegion:
			vals = d.Regions
		case FieldSector:
			vals = d.Sectors
		case FieldArea:
			vals = d.Areas
		case FieldPartner:
			vals = d.Partners
		case FieldKind:
			vals = []string{d.Kind}
		case FieldStatus:
			if s := statusOf(d.Start, d.End, asOf); s != nil {
				vals = []string{*s}
			}
		}
		for i, v := range vals {
			if v != "" && !contains(vals[:i], v) {
				counts[v]++
			}
		}
	}
	out := make([]FacetValue, 0, len(counts))
	for _, v := range sortedKeys(counts) {
		out = append(out, FacetValue{Value: v, Count: counts[v]})
	}
	return out
}

// cachedFacet looks up counts computed for the same documents at the same
// index generation; the generation is read before the search that computes
// an entry, so a write during it leaves the entry under the old generation.
func (e *Engine) cachedFacet(q query.Query, f string, asOf time.Time, generation uint64) ([]FacetValue, bool) {
	if e.facetCache == nil {
		return nil, false
	}
	key, ok := facetKey(q, f, asOf, generation)
	if !ok {
		return nil, false
	}
	return e.facetCache.get(key)
}

func (e *Engine) storeFacet(q query.Query, f string, asOf time.Time, generation uint64, vals []FacetValue) {
	if e.facetCache == nil {
		return
	}
	if key, ok := facetKey(q, f, asOf, generation); ok {
		e.facetCache.put(key, vals)
	}
}

func facetKey(q query.Query, f string, asOf time.Time, generation uint64) (string, bool) {
	b, err := json.Marshal(q)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%d|%s|%s|%s", generation, f, asOf.Format(index.DateLayout), b), true
}

// finishFacets orders each facet by count then value, keeps facet_size
// values, and always lists the values the visitor selected.
func (e *Engine) finishFacets(ctx context.Context, p *plan, core query.Query, facets map[string][]FacetValue) (map[string][]FacetValue, error) {
	out := make(map[string][]FacetValue, len(facets))
	for f, vals := range facets {
		vals = append([]FacetValue{}, vals...)
		if f == FieldStatus {
			// All three statuses are always shown, with zeros.
		} else {
			kept := vals[:0]
			for _, v := range vals {
				if v.Count > 0 {
					kept = append(kept, v)
				}
			}
			vals = kept
		}
		sort.Slice(vals, func(i, j int) bool {
			if vals[i].Count != vals[j].Count {
				return vals[i].Count > vals[j].Count
			}
			return vals[i].Value < vals[j].Value
		})
		all := vals
		if len(vals) > p.req.FacetSize {
			vals = vals[:p.req.FacetSize]
		}
		for _, sel := range p.req.Filters[f] {
			if hasValue(vals, sel) {
				continue
			}
			v := FacetValue{Value: sel}
			if i := indexOfValue(all, sel); i >= 0 {
				v.Count = all[i].Count
			} else if len(all) >= termFacetScan {
				// Beyond what Bleve returned: count it on its own.
				t := bleve.NewTermQuery(sel)
				t.SetField(facetFields[f])
				b := bleve.NewBooleanQuery()
				b.AddMust(p.filtered(core, f))
				b.AddFilter(t)
				n, err := e.count(ctx, b)
				if err != nil {
					return nil, err
				}
				v.Count = int(n)
			}
			vals = append(vals, v)
		}
		out[f] = vals
	}
	return out, nil
}

func hasValue(vals []FacetValue, v string) bool { return indexOfValue(vals, v) >= 0 }

func indexOfValue(vals []FacetValue, v string) int {
	for i := range vals {
		if vals[i].Value == v {
			return i
		}
	}
	return -1
}
