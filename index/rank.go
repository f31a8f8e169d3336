package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Search ranks q's page of hits and counts its facets. Which documents
// match is worked out first as document sets (see match); Bleve then
// scores only those, its searchers skipping straight to them, where on its
// own it would visit every document of every term of the text and apply
// filters after. Many hits are ranked in parts, one per core, each over
// its own range of documents. The total is exact. With q.Size 0 nothing is
// ranked.
func (r *Reader) Search(ctx context.Context, q Query) (*Result, error) {
	over := q.core(r.ix)
	if q.PageOnly {
		if len(q.Filters) > 0 || len(q.Facets) > 0 || len(q.Sort) > 0 {
			return nil, errors.New("search: a page-only query takes no filters, facets or sort")
		}
		return r.firstHits(ctx, over, q.From, q.Size)
	}
	matched, hits, counts, err := r.sets.faceted(ctx, r.ix, over, q.Faceted)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: counts.Total, Counts: counts, Hits: []Hit{}}
	if q.Size == 0 {
		return out, nil
	}
	req, err := q.request()
	if err != nil {
		return nil, err
	}
	res, err := r.ix.rank(ctx, r.snap, req, over, matched, hits)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out.Hits = hitsOf(res.Hits)
	return out, nil
}

// firstHits is the first documents q matches, from the from-th, at most
// size, in document order, through Bleve's unscored searchers, which stop
// there.
func (r *Reader) firstHits(ctx context.Context, q query.Query, from, size int) (*Result, error) {
	out := &Result{Hits: []Hit{}}
	if size <= 0 {
		return out, nil
	}
	var nums []uint32
	seen := 0
	err := r.ix.eachMatch(ctx, r.snap, q, func(n uint32) bool {
		if seen++; seen > from {
			nums = append(nums, n)
		}
		return len(nums) < size
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	for _, n := range nums {
		d, err := r.sets.document(n)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out.Hits = append(out.Hits, Hit{Doc: d})
	}
	return out, nil
}

// rankParts is the most parts one ranking is split into, and rankSplit the
// fewest hits worth splitting: below it, starting a part costs more than
// it saves.
const (
	rankParts = 4
	rankSplit = 5000
)

// parts is how many parts to rank n hits in. Parts pay only while cores
// are idle: a busy service ranks each search in one pass, the other
// searches filling the cores.
func (ix *Index) parts(n uint64, size int) int {
	if ix.rankTuning.parts > 0 {
		return ix.rankTuning.parts
	}
	if n < rankSplit || size == 0 {
		return 1
	}
	busy := int(ix.ranking.Load())
	return max(1, min(runtime.GOMAXPROCS(0)-busy+1, rankParts))
}

// rank ranks hits (a subset of what q matches, matched) on snap as Bleve's
// search would: the same scores and sort, loading req's fields.
func (ix *Index) rank(ctx context.Context, snap *scorch.IndexSnapshot, req *bleve.SearchRequest, q query.Query, matched, hits *roaring.Bitmap) (*bleve.SearchResult, error) {
	model := bindex.DefaultScoringModel
	if ix.mapping.ScoringModel == bindex.BM25Scoring {
		model = bindex.BM25Scoring
	}
	ctx = context.WithValue(ctx, bsearch.GetScoringModelCallbackKey, bsearch.GetScoringModelCallbackFn(func() string { return model }))
	options := bsearch.SearcherOptions{Explain: req.Explain, IncludeTermVectors: req.IncludeLocations, Score: req.Score}
	n := hits.GetCardinality()
	ix.ranking.Add(1)
	defer ix.ranking.Add(-1)
	parts := ix.parts(n, req.Size)
	keep := req.From + req.Size
	type ranked struct {
		hits  bsearch.DocumentMatchCollection
		score float64
		err   error
	}
	out := make([]ranked, parts)
	var wg sync.WaitGroup
	for k := 0; k < parts; k++ {
		// Parts hold equal numbers of hits: part k starts at hit k*n/parts.
		lo, hi := uint32(0), uint32(math.MaxUint32)
		if k > 0 {
			v, _ := hits.Select(uint32(uint64(k) * n / uint64(parts)))
			lo = v
		}
		if k < parts-1 {
			v, _ := hits.Select(uint32(uint64(k+1) * n / uint64(parts)))
			hi = v
		}
		wg.Add(1)
		go func(k int, lo, hi uint32) {
			defer wg.Done()
			s, err := ix.restricted(ctx, snap, q, matched, hits, options)
			if err != nil {
				out[k].err = err
				return
			}
			defer s.Close()
			if parts > 1 {
				s = &rangeSearcher{inner: s, lo: lo, hi: hi}
			}
			var coll *collector.TopNCollector
			if parts == 1 {
				coll = collector.NewTopNCollector(req.Size, req.From, req.Sort)
			} else {
				// A sort keeps the values of the hit it visits: each part
				// needs its own.
				so, err := freshSort(req.Sort)
				if err != nil {
					out[k].err = err
					return
				}
				coll = collector.NewTopNCollector(keep, 0, so)
			}
			if err := coll.Collect(ctx, s, snap); err != nil {
				out[k].err = err
				return
			}
			out[k].hits, out[k].score = coll.Results(), coll.MaxScore()
		}(k, lo, hi)
	}
	wg.Wait()
	res := &bleve.SearchResult{Request: req, Total: n, Status: &bleve.SearchStatus{Total: 1, Successful: 1}}
	for _, r := range out {
		if r.err != nil {
			return nil, r.err
		}
		res.Hits = append(res.Hits, r.hits...)
		res.MaxScore = max(res.MaxScore, r.score)
	}
	if parts > 1 {
		// Ties go in document order, as in one pass, where a hit's number
		// is its place in that order.
		for _, h := range res.Hits {
			h.HitNumber = h.IndexInternalID.Value() + 1
		}
		cachedScore, cachedDesc := req.Sort.CacheIsScore(), req.Sort.CacheDescending()
		sort.Slice(res.Hits, func(i, j int) bool {
			return req.Sort.Compare(cachedScore, cachedDesc, res.Hits[i], res.Hits[j]) < 0
		})
		from := min(req.From, len(res.Hits))
		res.Hits = res.Hits[from:min(from+req.Size, len(res.Hits))]
	}
	for _, h := range res.Hits {
		if err, _ := bleve.LoadAndHighlightFields(h, req, "", snap, nil); err != nil {
			return nil, fmt.Errorf("load fields of %s: %w", h.ID, err)
		}
	}
	return res, nil
}

// freshSort rebuilds a sort order from its definition: Bleve's Copy shares
// the buffers its fields fill while visiting hits.
func freshSort(so bsearch.SortOrder) (bsearch.SortOrder, error) {
	out := make(bsearch.SortOrder, len(so))
	for i, s := range so {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("sort: %w", err)
		}
		if out[i], err = bsearch.ParseSearchSortJSON(b); err != nil {
			return nil, fmt.Errorf("sort: %w", err)
		}
	}
	return out, nil
}

// restricted is a searcher for q's matches among hits: the set of hits
// leads when it is small, so q's searchers skip to its documents; when
// most of q's matches are hits, q runs and the others are dropped.
func (ix *Index) restricted(ctx context.Context, snap *scorch.IndexSnapshot, q query.Query, matched, hits *roaring.Bitmap, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	inner, err := q.Searcher(ctx, snap, ix.mapping, options)
	if err != nil {
		return nil, err
	}
	n, all := hits.GetCardinality(), matched.GetCardinality()
	var docs uint64
	for _, seg := range snap.Segments() {
		docs += seg.Count()
	}
	switch {
	case n*8 <= docs:
		// Few documents: the set leads (below).
	case n == all:
		// Many documents and nothing narrows the text's matches.
		return inner, nil
	case n*4 > all:
		// Most matches stay: visiting them all and dropping the rest
		// costs less than skipping to each one.
		return searcher.NewFilteringSearcher(ctx, inner, func(_ *bsearch.SearchContext, d *bsearch.DocumentMatch) bool {
			return hits.Contains(uint32(d.IndexInternalID.Value()))
		}), nil
	}
	return searcher.NewConjunctionSearcher(ctx, snap, []bsearch.Searcher{&setSearcher{docs: hits, it: hits.Iterator()}, inner}, options)
}

// rangeSearcher passes on the documents of inner numbered in [lo, hi).
type rangeSearcher struct {
	inner   bsearch.Searcher
	lo, hi  uint32
	started bool
}

// within passes on a document of inner's below hi.
func (r *rangeSearcher) within(ctx *bsearch.SearchContext, d *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	if err != nil || d == nil {
		return nil, err
	}
	if uint32(d.IndexInternalID.Value()) >= r.hi {
		ctx.DocumentMatchPool.Put(d)
		return nil, nil
	}
	return d, nil
}

func (r *rangeSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	if !r.started {
		return r.Advance(ctx, bindex.NewIndexInternalID(nil, uint64(r.lo)))
	}
	d, err := r.inner.Next(ctx)
	return r.within(ctx, d, err)
}

func (r *rangeSearcher) Advance(ctx *bsearch.SearchContext, id bindex.IndexInternalID) (*bsearch.DocumentMatch, error) {
	r.started = true
	if uint32(id.Value()) < r.lo {
		id = bindex.NewIndexInternalID(nil, uint64(r.lo))
	}
	d, err := r.inner.Advance(ctx, id)
	return r.within(ctx, d, err)
}

func (r *rangeSearcher) Close() error               { return r.inner.Close() }
func (r *rangeSearcher) Weight() float64            { return r.inner.Weight() }
func (r *rangeSearcher) SetQueryNorm(n float64)     { r.inner.SetQueryNorm(n) }
func (r *rangeSearcher) Count() uint64              { return r.inner.Count() }
func (r *rangeSearcher) Min() int                   { return r.inner.Min() }
func (r *rangeSearcher) Size() int                  { return r.inner.Size() }
func (r *rangeSearcher) DocumentMatchPoolSize() int { return r.inner.DocumentMatchPoolSize() }
