package synthetic

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// The baseline is the same request as plain Bleve answers it, written the
// way its documentation shows: a match query with operator AND over title
// and description (no typos, prefixes, synonyms or relaxation), filters as
// term queries, the same facets as term facets (status as the two date-range
// facets it takes), highlighted hits with their stored source, the default
// scoring, no cache. Disjunctive facets, which Bleve does not offer, take
// the standard extra request per filtered facet field without its own
// filter, run one after the other.

// plainFacetSize is the API's default facet_size.
const plainFacetSize = search.DefaultFacetSize

var plainFacetFields = map[string]string{
	search.FieldCountry: index.FieldCountries,
	search.FieldRegion:  index.FieldRegions,
	search.FieldSector:  index.FieldSectors,
	search.FieldArea:    index.FieldAreas,
	search.FieldPartner: index.FieldPartners,
	search.FieldKind:    index.FieldKind,
}

// Searcher runs a Bleve request: a bleve.Index, or index.Index.Search.
type Searcher func(ctx context.Context, req *bleve.SearchRequest) (*bleve.SearchResult, error)

// PlainRequests are the Bleve requests that answer q plainly; the first is
// the one whose hits are shown. asOf is the day status is computed for.
func (q Query) PlainRequests(asOf time.Time) ([]*bleve.SearchRequest, error) {
	day := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	if q.Class == Suggest {
		return []*bleve.SearchRequest{plainSuggest(q.Text)}, nil
	}
	text := plainText(q.Text)
	filters := map[string]query.Query{}
	var fields []string
	for f, vals := range q.Filters {
		clause, err := plainFilter(f, vals, day)
		if err != nil {
			return nil, err
		}
		filters[f] = clause
		fields = append(fields, f)
	}
	sort.Strings(fields)
	with := func(skip string) query.Query {
		qs := []query.Query{text}
		for _, f := range fields {
			if f != skip {
				qs = append(qs, filters[f])
			}
		}
		if len(qs) == 1 {
			return text
		}
		return bleve.NewConjunctionQuery(qs...)
	}

	main := bleve.NewSearchRequestOptions(with(""), search.DefaultPerPage, 0, false)
	main.Fields = []string{index.FieldSource}
	if q.Text != "" {
		main.Highlight = bleve.NewHighlightWithStyle("html")
		main.Highlight.Fields = []string{index.FieldTitle, index.FieldDescription}
	} else {
		main.SortBy([]string{"-" + index.FieldStart})
	}
	reqs := []*bleve.SearchRequest{main}
	for _, f := range MixFacets {
		target := main
		if _, filtered := filters[f]; filtered {
			target = bleve.NewSearchRequestOptions(with(f), 0, 0, false)
			reqs = append(reqs, target)
		}
		addPlainFacet(target, f, day)
	}
	return reqs, nil
}

// RunPlain runs q's plain requests one after the other and returns the
// total of the first (for a suggestion, the number of titles it returned).
func (q Query) RunPlain(ctx context.Context, s Searcher, asOf time.Time) (uint64, error) {
	reqs, err := q.PlainRequests(asOf)
	if err != nil {
		return 0, err
	}
	var total uint64
	for i, req := range reqs {
		res, err := s(ctx, req)
		if err != nil {
			return 0, fmt.Errorf("plain %s %q: %w", q.Class, q.Text, err)
		}
		if i == 0 {
			total = res.Total
			if q.Class == Suggest {
				total = uint64(len(res.Hits))
			}
		}
	}
	return total, nil
}

func plainText(text string) query.Query {
	if strings.TrimSpace(text) == "" {
		return bleve.NewMatchAllQuery()
	}
	var qs []query.Query
	for _, f := range []string{index.FieldTitle, index.FieldDescription} {
		m := bleve.NewMatchQuery(text)
		m.SetField(f)
		m.SetOperator(query.MatchQueryOperatorAnd)
		qs = append(qs, m)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

func plainFilter(f string, vals []string, day time.Time) (query.Query, error) {
	var qs []query.Query
	for _, v := range vals {
		if f == search.FieldStatus {
			qs = append(qs, plainStatus(v, day))
			continue
		}
		field, ok := plainFacetFields[f]
		if !ok {
			return nil, fmt.Errorf("corpus: no plain filter for %q", f)
		}
		t := bleve.NewTermQuery(v)
		t.SetField(field)
		qs = append(qs, t)
	}
	return bleve.NewDisjunctionQuery(qs...), nil
}

func dateRange(field string, from, to time.Time, fromIncl, toIncl bool) query.Query {
	q := bleve.NewDateRangeInclusiveQuery(from, to, &fromIncl, &toIncl)
	q.SetField(field)
	return q
}

func plainStatus(status string, day time.Time) query.Query {
	switch status {
	case search.StatusUpcoming:
		return dateRange(index.FieldStart, day, time.Time{}, false, false)
	case search.StatusEnded:
		return dateRange(index.FieldEnd, time.Time{}, day, false, false)
	}
	return bleve.NewConjunctionQuery(
		dateRange(index.FieldStart, time.Time{}, day, false, true),
		dateRange(index.FieldEnd, day, time.Time{}, true, false),
	)
}

func addPlainFacet(req *bleve.SearchRequest, f string, day time.Time) {
	if f != search.FieldStatus {
		req.AddFacet(f, bleve.NewFacetRequest(plainFacetFields[f], plainFacetSize))
		return
	}
	ended := bleve.NewFacetRequest(index.FieldEnd, 1)
	ended.AddDateTimeRange(search.StatusEnded, time.Time{}, day)
	req.AddFacet("status_ended", ended)
	upcoming := bleve.NewFacetRequest(index.FieldStart, 1)
	upcoming.AddDateTimeRange(search.StatusUpcoming, day.AddDate(0, 0, 1), time.Time{})
	req.AddFacet("status_upcoming", upcoming)
}

// plainSuggest: titles holding the typed words, the last one as a prefix.
func plainSuggest(text string) *bleve.SearchRequest {
	ws := strings.Fields(strings.ToLower(text))
	var qs []query.Query
	if len(ws) > 1 {
		m := bleve.NewMatchQuery(strings.Join(ws[:len(ws)-1], " "))
		m.SetField(index.FieldTitle)
		m.SetOperator(query.MatchQueryOperatorAnd)
		qs = append(qs, m)
	}
	if len(ws) > 0 {
		p := bleve.NewPrefixQuery(ws[len(ws)-1])
		p.SetField(index.FieldTitle)
		qs = append(qs, p)
	}
	var q query.Query = bleve.NewMatchNoneQuery()
	if len(qs) > 0 {
		q = bleve.NewConjunctionQuery(qs...)
	}
	req := bleve.NewSearchRequestOptions(q, SuggestLimit, 0, false)
	req.Fields = []string{index.FieldTitle}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	req.Highlight.Fields = []string{index.FieldTitle}
	return req
}
