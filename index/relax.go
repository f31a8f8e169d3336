package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
)

// When too few documents match every word of a query, the best partial
// matches fill the page, as Meilisearch's "words" ranking rule and
// Elasticsearch's minimum_should_match do. Each unit of the query (a word,
// or a phrase a synonym table names) weighs what it tells: its inverse
// document frequency, so a rare word counts for more than a common one.
// A document's coverage is the weight of the units it matches.
//
// Levels come from dropping the least telling units first (Meilisearch's
// "frequency" strategy): level 0 is every unit, level k the weight of every
// unit but the k most frequent ones. A document is in the first level whose
// weight its coverage reaches, so a document matching other units as
// telling as the kept ones ranks beside the documents matching the kept
// ones: "garment unions Myanmar Cambodia" puts Cambodian garment unions
// beside Myanmar's. The levels grow until they hold Fill hits; last comes
// the level of any telling unit (one matching at most a quarter of the
// index), never one of a common word alone. Hits rank by level, then by
// the score of every unit.

// Partial asks SearchPartial for the best partial matches of Units.
type Partial struct {
	// Units are the clauses of the required units; a hit matches one at
	// least.
	Units []Clause
	// Fill is how many hits the levels grow to hold (the page size).
	Fill int
}

// PartialResult says how the partial hits relate to the units.
type PartialResult struct {
	// AllUnits is how many hits match every unit.
	AllUnits uint64
	// Kept lists the units (by index) every hit matches.
	Kept []int
	// Dead lists the units no document matches.
	Dead []int
}

// tellingShare is the largest share of the index a unit may match and
// still admit a document on its own.
const tellingShare = 0.25

// SearchPartial ranks the documents matching enough of p.Units (see
// above) in place of q.Required, with q's filters and exclusions, scored
// by every unit and optional clause, with q's page, and counts q's facets
// over them.
func (r *Reader) SearchPartial(ctx context.Context, q Query, p Partial) (*Result, *PartialResult, error) {
	if len(p.Units) == 0 {
		return nil, nil, errors.New("partial search: no unit")
	}
	if len(p.Units) > 32 {
		return nil, nil, fmt.Errorf("partial search: %d units; at most 32", len(p.Units))
	}
	units := compileAll(r.ix, p.Units)
	lv, err := r.sets.levels(ctx, r.ix, q.exclusion(r.ix), units, q.Faceted, p.Fill)
	if err != nil {
		return nil, nil, fmt.Errorf("partial search: %w", err)
	}
	counts, err := r.sets.count(lv.candidates, lv.groups, q.Facets)
	if err != nil {
		return nil, nil, fmt.Errorf("partial search: %w", err)
	}
	out := &Result{Counts: counts, Hits: []Hit{}}
	for _, b := range lv.levels {
		out.Total += b.GetCardinality()
	}
	if q.Size > 0 {
		req, err := q.request()
		if err != nil {
			return nil, nil, err
		}
		res, err := r.ix.rankLevels(ctx, r.snap, req, q.scoring(r.ix, p.Units), lv)
		if err != nil {
			return nil, nil, fmt.Errorf("partial search: %w", err)
		}
		out.Hits = hitsOf(res.Hits)
	}
	return out, &lv.result, nil
}

// levelSets are the partial matches of a query, level by level.
type levelSets struct {
	// levels hold the hits (filters applied) of each level, best first.
	levels []*roaring.Bitmap
	// any is every document matching a unit, for the ranking searchers.
	any *roaring.Bitmap
	// candidates are the documents of the kept levels before filters, for
	// the disjunctive facets, with groups the filters.
	candidates *roaring.Bitmap
	groups     map[string]*roaring.Bitmap
	result     PartialResult
}

// levels works out the levels of the units' queries over the snapshot.
func (d *docSets) levels(ctx context.Context, ix *Index, exclude query.Query, queries []query.Query, f Faceted, fill int) (*levelSets, error) {
	n := len(queries)
	units := make([]*roaring.Bitmap, n)
	var excluded *roaring.Bitmap
	if exclude != nil {
		var err error
		if excluded, err = d.match(ctx, ix, exclude); err != nil {
			return nil, err
		}
	}
	for i, u := range queries {
		b, err := d.match(ctx, ix, u)
		if err != nil {
			return nil, err
		}
		if excluded != nil {
			b = roaring.AndNot(b, excluded)
		}
		units[i] = b
	}
	groups, err := d.filters(f.Filters)
	if err != nil {
		return nil, err
	}
	pass := intersect(groups, "")

	total := float64(d.live().GetCardinality())
	weights := make([]float64, n)
	var live []int // units that match something, most frequent first
	lv := &levelSets{groups: groups, any: roaring.New()}
	for i, b := range units {
		df := float64(b.GetCardinality())
		if df == 0 {
			lv.result.Dead = append(lv.result.Dead, i)
			continue
		}
		// BM25's inverse document frequency.
		weights[i] = math.Log(1 + (total-df+0.5)/(df+0.5))
		live = append(live, i)
		lv.any.Or(b)
	}
	if len(live) == 0 {
		lv.candidates = roaring.New()
		return lv, nil
	}
	sort.SliceStable(live, func(a, b int) bool {
		return units[live[a]].GetCardinality() > units[live[b]].GetCardinality()
	})
	// Thresholds: every live unit, then without the most frequent ones in
	// turn, then any telling unit.
	var thresholds []float64
	sum := 0.0
	for _, i := range live {
		sum += weights[i]
	}
	for k := 0; k < len(live); k++ {
		thresholds = append(thresholds, sum)
		sum -= weights[live[k]]
	}
	telling := math.Inf(1)
	for _, i := range live {
		if float64(units[i].GetCardinality()) <= tellingShare*total {
			telling = min(telling, weights[i])
		}
	}
	if last := thresholds[len(thresholds)-1]; telling < last {
		thresholds = append(thresholds, telling)
	}
	// A little slack keeps sums of the same weights in another order equal.
	const slack = 1e-9

	// Coverage of every document matching a unit, and its level.
	type covered struct {
		doc  uint32
		mask uint32
		cov  float64
	}
	docs := make([]covered, 0, lv.any.GetCardinality())
	it := lv.any.ManyIterator()
	buf := make([]uint32, 4096)
	for {
		got := it.NextMany(buf)
		if got == 0 {
			break
		}
		for _, doc := range buf[:got] {
			docs = append(docs, covered{doc: doc})
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	for _, i := range live {
		ub := units[i]
		for j := range docs {
			if ub.Contains(docs[j].doc) {
				docs[j].mask |= 1 << i
				docs[j].cov += weights[i]
			}
		}
	}
	level := func(cov float64) int {
		for k, t := range thresholds {
			if cov >= t-slack {
				return k
			}
		}
		return len(thresholds)
	}
	perLevel := make([][]uint32, len(thresholds))
	for _, c := range docs {
		if k := level(c.cov); k < len(thresholds) {
			perLevel[k] = append(perLevel[k], c.doc)
		}
	}
	// Keep levels until they hold Fill hits.
	kept := len(thresholds)
	hits := uint64(0)
	for k := range perLevel {
		b := roaring.BitmapOf(perLevel[k]...)
		if pass != nil {
			b.And(pass)
		}
		lv.levels = append(lv.levels, b)
		hits += b.GetCardinality()
		if hits >= uint64(max(fill, 1)) {
			kept = k + 1
			break
		}
	}
	lv.levels = lv.levels[:min(kept, len(lv.levels))]
	if len(lv.result.Dead) == 0 && len(lv.levels) > 0 {
		lv.result.AllUnits = lv.levels[0].GetCardinality()
	}
	lv.candidates = roaring.New()
	for k := 0; k < min(kept, len(perLevel)); k++ {
		lv.candidates.AddMany(perLevel[k])
	}
	// The units every hit matches.
	every := uint32(math.MaxUint32)
	for _, c := range docs {
		if level(c.cov) < kept && (pass == nil || pass.Contains(c.doc)) {
			every &= c.mask
		}
	}
	if hits == 0 {
		every = 0
	}
	for _, i := range live {
		if every&(1<<i) != 0 {
			lv.result.Kept = append(lv.result.Kept, i)
		}
	}
	sort.Ints(lv.result.Kept)
	return lv, nil
}

// rankLevels ranks the hits of each level by q's score, in level order,
// and keeps req's page.
func (ix *Index) rankLevels(ctx context.Context, snap *scorch.IndexSnapshot, req *bleve.SearchRequest, q query.Query, lv *levelSets) (*bleve.SearchResult, error) {
	res := &bleve.SearchResult{Request: req, Status: &bleve.SearchStatus{Total: 1, Successful: 1}}
	for _, b := range lv.levels {
		res.Total += b.GetCardinality()
	}
	from, size := req.From, req.Size
	for _, b := range lv.levels {
		n := int(b.GetCardinality())
		if size <= 0 {
			break
		}
		if from >= n {
			from -= n
			continue
		}
		page := *req
		page.From, page.Size = from, min(size, n-from)
		part, err := ix.rank(ctx, snap, &page, q, lv.any, b)
		if err != nil {
			return nil, err
		}
		res.Hits = append(res.Hits, part.Hits...)
		res.MaxScore = max(res.MaxScore, part.MaxScore)
		size -= len(part.Hits)
		from = 0
	}
	return res, nil
}
