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
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Facet counts and filters are computed on document bitmaps rather than
// per hit: Bleve's facets visit the doc values of every hit, decompressing a
// chunk of 1,024 documents per scattered hit and field (about 0.2 µs per hit
// per facet, most of a selective query's time at a million documents).
// Here one pass over the hits collects their numbers; each facet value's
// documents are a bitmap built once per index snapshot from the term
// dictionary's postings, and a count is the cardinality of an intersection.

// Day is a date as days since 1970-01-01 (UTC); NoDay marks a missing one.
type Day int32

// NoDay is the Day of a document without that date.
const NoDay Day = math.MinInt32

// DayOf is the Day of t's calendar date in UTC.
func DayOf(t time.Time) Day {
	return Day(t.UTC().Unix() / 86400)
}

// Condition selects documents: those holding Value in the keyword Field,
// or, when Field is empty, those whose start and end days satisfy Dates.
// Key names a date condition: the same Key must always mean the same
// condition, as its documents are cached under it per snapshot.
type Condition struct {
	Field string
	Value string

	Key   string
	Dates func(start, end Day) bool
}

// Filter keeps documents meeting any of its conditions. Group names the
// facet the filter belongs to: that facet counts as if the filter were not
// there (disjunctive facets), so a visitor sees what else they could pick.
type Filter struct {
	Group string
	AnyOf []Condition
}

// Facet asks for counts: of every value of the keyword Field, or of each
// of the Buckets.
type Facet struct {
	Name    string
	Field   string
	Buckets []Bucket
}

// Bucket is one labelled condition of a facet.
type Bucket struct {
	Label string
	Cond  Condition
}

// Faceted is what SearchFaceted and CountFaceted apply.
type Faceted struct {
	Filters []Filter
	Facets  []Facet
	// Over is the text query: the hits are the documents it matches, less
	// those Exclude matches (when set), passing every filter. Facets count
	// over the same documents, each without its own filter.
	Over    query.Query
	Exclude query.Query
}

// FacetCounts holds the outcome: Total is the number of hits passing every
// filter; Counts maps a facet name to value counts (keyword values with at
// least one document, every bucket).
type FacetCounts struct {
	Total  uint64
	Counts map[string]map[string]int
}

// SearchFaceted ranks the hits of f (req's query is ignored: f.Over is
// ranked) with req's size, sort and fields, and counts f's facets, both on
// one snapshot. Which documents match is worked out first as document sets
// (see match); Bleve then scores only those, its searchers skipping
// straight to them, where on its own it would visit every document of
// every term of the text and apply filters after. Many hits are ranked in
// parts, one per core, each over its own range of documents. res.Total is
// exact.
func (ix *Index) SearchFaceted(ctx context.Context, req *bleve.SearchRequest, f Faceted) (*bleve.SearchResult, *FacetCounts, error) {
	if f.Over == nil {
		return nil, nil, errors.New("faceted search: no query")
	}
	if ix.closed.Load() {
		return nil, nil, ErrClosed
	}
	began := time.Now()
	var (
		res    *bleve.SearchResult
		counts *FacetCounts
	)
	err := ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
		matched, hits, c, err := ix.sets.of(snap).faceted(ctx, ix, f)
		if err != nil {
			return err
		}
		counts = c
		res, err = ix.rank(ctx, snap, req, f.Over, matched, hits)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	res.Took = time.Since(began)
	return res, counts, nil
}

// rankParts is the most parts one ranking is split into, and rankSplit the
// fewest hits worth splitting: below it, starting a part costs more than
// it saves.
const (
	rankParts = 4
	rankSplit = 5000
)

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
	parts := min(runtime.GOMAXPROCS(0), rankParts)
	split := uint64(rankSplit)
	if ix.rankSplit > 0 {
		split = uint64(ix.rankSplit)
	}
	if n < split || req.Size == 0 {
		parts = 1
	}
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

func (r *rangeSearcher) check(ctx *bsearch.SearchContext) func(*bsearch.DocumentMatch, error) (*bsearch.DocumentMatch, error) {
	return func(d *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
		return r.within(ctx, d, err)
	}
}

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
		r.started = true
		return r.check(ctx)(r.inner.Advance(ctx, bindex.NewIndexInternalID(nil, uint64(r.lo))))
	}
	return r.check(ctx)(r.inner.Next(ctx))
}

func (r *rangeSearcher) Advance(ctx *bsearch.SearchContext, id bindex.IndexInternalID) (*bsearch.DocumentMatch, error) {
	r.started = true
	if uint32(id.Value()) < r.lo {
		id = bindex.NewIndexInternalID(nil, uint64(r.lo))
	}
	return r.check(ctx)(r.inner.Advance(ctx, id))
}

func (r *rangeSearcher) Close() error               { return r.inner.Close() }
func (r *rangeSearcher) Weight() float64            { return r.inner.Weight() }
func (r *rangeSearcher) SetQueryNorm(n float64)     { r.inner.SetQueryNorm(n) }
func (r *rangeSearcher) Count() uint64              { return r.inner.Count() }
func (r *rangeSearcher) Min() int                   { return r.inner.Min() }
func (r *rangeSearcher) Size() int                  { return r.inner.Size() }
func (r *rangeSearcher) DocumentMatchPoolSize() int { return r.inner.DocumentMatchPoolSize() }

// CountFaceted counts the hits of f and its facets without ranking.
func (ix *Index) CountFaceted(ctx context.Context, f Faceted) (*FacetCounts, error) {
	if f.Over == nil {
		return nil, errors.New("count: no query")
	}
	var out *FacetCounts
	err := ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
		var err error
		_, _, out, err = ix.sets.of(snap).faceted(ctx, ix, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	return out, nil
}

// faceted is what f.Over matches, the hits of f and its facet counts.
func (d *docSets) faceted(ctx context.Context, ix *Index, f Faceted) (matched, hits *roaring.Bitmap, counts *FacetCounts, err error) {
	matched, err = d.match(ctx, ix, f.Over)
	if err != nil {
		return nil, nil, nil, err
	}
	over := matched
	if f.Exclude != nil {
		ex, err := d.match(ctx, ix, f.Exclude)
		if err != nil {
			return nil, nil, nil, err
		}
		over = roaring.AndNot(over, ex)
	}
	groups, err := d.filters(f.Filters)
	if err != nil {
		return nil, nil, nil, err
	}
	if counts, err = d.count(over, groups, f.Facets); err != nil {
		return nil, nil, nil, err
	}
	hits = over
	if p := intersect(groups, ""); p != nil {
		hits = roaring.And(over, p)
	}
	return matched, hits, counts, nil
}

// snapshotSets caches the document sets of the newest snapshot searched.
type snapshotSets struct {
	cur atomic.Pointer[docSets]
}

func (s *snapshotSets) of(snap *scorch.IndexSnapshot) *docSets {
	if d := s.cur.Load(); d != nil && d.snap == snap {
		return d
	}
	d := newDocSets(snap)
	if prev := s.cur.Load(); prev != nil {
		// A write adds segments after the ones the last snapshot had:
		// what was worked out for those is kept (see extend). One step
		// back only, so snapshots do not chain in memory.
		prev.mu.Lock()
		prev.prev = nil
		prev.mu.Unlock()
		d.prev = prev
	}
	s.cur.Store(d)
	return d
}

// shared is how many leading segments d has in common with p (the same
// segments in the same order, so numbered alike), and how many document
// numbers they cover.
func (d *docSets) shared(p *docSets) (segments int, docs uint64) {
	ps, ds := p.snap.Segments(), d.snap.Segments()
	for segments < len(ps) && segments < len(ds) && ps[segments].Segment() == ds[segments].Segment() {
		segments++
	}
	if segments < len(ds) {
		return segments, d.offsets[segments]
	}
	return segments, d.size
}

// earlier returns the previous snapshot's sets when they hold what is
// asked (have reports it, called under the previous sets' lock), with the
// segments and document numbers shared; nil when there is nothing to
// extend. Called with d.mu held.
func (d *docSets) earlier(have func(p *docSets) bool) (p *docSets, segments int, docs uint64) {
	p = d.prev
	if p == nil {
		return nil, 0, 0
	}
	p.mu.Lock()
	ok := have(p)
	p.mu.Unlock()
	if !ok {
		return nil, 0, 0
	}
	segments, docs = d.shared(p)
	if segments == 0 {
		return nil, 0, 0
	}
	return p, segments, docs
}

// docSets are the document bitmaps of one snapshot, numbered as Bleve
// numbers hits in it (segment offset + number in segment), filled lazily.
type docSets struct {
	snap    *scorch.IndexSnapshot
	offsets []uint64
	size    uint64

	mu       sync.Mutex
	fields   map[string]map[string]*roaring.Bitmap
	days     map[string][]Day
	keyed    map[string]*roaring.Bitmap
	forwards map[string]*forwardIndex

	vocabMu sync.Mutex
	vocab   *Vocabulary

	phrases phraseCache
	// prev is the previous snapshot's sets, which extend builds on.
	prev *docSets
	// liveDocs is every document not deleted.
	liveDocs *roaring.Bitmap
}

func newDocSets(snap *scorch.IndexSnapshot) *docSets {
	d := &docSets{
		snap:     snap,
		fields:   map[string]map[string]*roaring.Bitmap{},
		days:     map[string][]Day{},
		keyed:    map[string]*roaring.Bitmap{},
		forwards: map[string]*forwardIndex{},
	}
	for _, seg := range snap.Segments() {
		d.offsets = append(d.offsets, d.size)
		d.size += seg.Segment().Count()
	}
	return d
}

// field maps each value of a keyword field to its documents.
func (d *docSets) field(name string) (map[string]*roaring.Bitmap, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, ok := d.fields[name]; ok {
		return m, nil
	}
	m := map[string]*roaring.Bitmap{}
	from := 0
	// Bitmaps shared with the previous snapshot are copied before the
	// first change.
	owned := map[string]bool{}
	var prev map[string]*roaring.Bitmap
	if p, segments, docs := d.earlier(func(p *docSets) bool { prev = p.fields[name]; return prev != nil }); p != nil {
		from = segments
		for v, b := range prev {
			if b.Maximum() < uint32(docs) || b.IsEmpty() {
				m[v] = b
				continue
			}
			c := b.Clone()
			c.RemoveRange(docs, uint64(math.MaxUint32)+1)
			if !c.IsEmpty() {
				m[v], owned[v] = c, true
			}
		}
	}
	err := d.walk(name, from, nil, nil, func(term string, docs *roaring.Bitmap) {
		switch b, ok := m[term]; {
		case !ok:
			m[term], owned[term] = docs, true
		case owned[term]:
			b.Or(docs)
		default:
			m[term], owned[term] = roaring.Or(b, docs), true
		}
	})
	if err != nil {
		return nil, err
	}
	d.fields[name] = m
	return m, nil
}

// walk calls fn with every term of field in [start, end) and its documents,
// segment by segment, numbered for the snapshot.
func (d *docSets) walk(field string, from int, start, end []byte, fn func(term string, docs *roaring.Bitmap)) error {
	for i, seg := range d.snap.Segments() {
		if i < from {
			continue
		}
		dict, err := seg.Segment().Dictionary(field)
		if err != nil {
			return fmt.Errorf("dictionary of %s: %w", field, err)
		}
		it := dict.AutomatonIterator(nil, start, end)
		for {
			e, err := it.Next()
			if err != nil {
				return fmt.Errorf("walk dictionary of %s: %w", field, err)
			}
			if e == nil {
				break
			}
			pl, err := dict.PostingsList([]byte(e.Term), nil, nil)
			if err != nil {
				return fmt.Errorf("postings of %s:%s: %w", field, e.Term, err)
			}
			docs, err := postingsBitmap(pl)
			if err != nil {
				return fmt.Errorf("postings of %s:%s: %w", field, e.Term, err)
			}
			if off := d.offsets[i]; off > 0 {
				docs = roaring.AddOffset64(docs, int64(off))
			}
			fn(e.Term, docs)
		}
	}
	return nil
}

// postingsBitmap is a copy of the documents of a postings list. Zap keeps
// them as a bitmap, read straight from the segment; a copy outlives the
// segment's memory map.
func postingsBitmap(pl segment.PostingsList) (*roaring.Bitmap, error) {
	it := pl.Iterator(false, false, false, nil)
	if o, ok := it.(segment.OptimizablePostingsIterator); ok {
		if n, ok := o.DocNum1Hit(); ok {
			return roaring.BitmapOf(uint32(n)), nil
		}
		if bm := o.ActualBitmap(); bm != nil {
			return bm.Clone(), nil
		}
		return roaring.New(), nil
	}
	out := roaring.New()
	for {
		p, err := it.Next()
		if err != nil {
			return nil, err
		}
		if p == nil {
			return out, nil
		}
		out.Add(uint32(p.Number()))
	}
}

// dates is the day of a datetime field for every document.
func (d *docSets) dates(field string) ([]Day, error) {
	if v, ok := d.days[field]; ok {
		return v, nil
	}
	v := make([]Day, d.size)
	from, kept := 0, uint64(0)
	var prev []Day
	if p, segments, docs := d.earlier(func(p *docSets) bool { prev = p.days[field]; return prev != nil }); p != nil {
		from, kept = segments, docs
		copy(v, prev[:docs])
	}
	for i := kept; i < d.size; i++ {
		v[i] = NoDay
	}
	// Bleve indexes a date at several precisions; shift 0 holds the exact
	// value, and its terms all start with this byte.
	const exact = numeric.ShiftStartInt64
	var bad error
	err := d.walk(field, from, []byte{exact}, []byte{exact + 1}, func(term string, docs *roaring.Bitmap) {
		nanos, err := numeric.PrefixCoded(term).Int64()
		if err != nil {
			bad = err
			return
		}
		day := Day(math.Floor(float64(nanos) / float64(24*time.Hour)))
		it := docs.Iterator()
		for it.HasNext() {
			v[it.Next()] = day
		}
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, fmt.Errorf("dates of %s: %w", field, err)
	}
	d.days[field] = v
	return v, nil
}

// condition is the documents meeting c.
func (d *docSets) condition(c Condition) (*roaring.Bitmap, error) {
	if c.Field != "" {
		m, err := d.field(c.Field)
		if err != nil {
			return nil, err
		}
		if b, ok := m[c.Value]; ok {
			return b, nil
		}
		return roaring.New(), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.keyed[c.Key]; ok && c.Key != "" {
		return b, nil
	}
	start, err := d.dates(FieldStart)
	if err != nil {
		return nil, err
	}
	end, err := d.dates(FieldEnd)
	if err != nil {
		return nil, err
	}
	var docs []uint32
	for n := range start {
		if c.Dates(start[n], end[n]) {
			docs = append(docs, uint32(n))
		}
	}
	b := roaring.BitmapOf(docs...)
	b.RunOptimize()
	if c.Key != "" {
		d.keyed[c.Key] = b
	}
	return b, nil
}

// forwardIndex lists, for one keyword field, each document's values as
// ordinals, beside each value's documents.
type forwardIndex struct {
	values []string
	docs   []*roaring.Bitmap // by ordinal
	start  []uint32          // document n's ordinals are ords[start[n]:start[n+1]]
	ords   []uint32
}

// forward is the forward index of a keyword field.
func (d *docSets) forward(field string) (*forwardIndex, error) {
	m, err := d.field(field)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if fw, ok := d.forwards[field]; ok {
		return fw, nil
	}
	fw := &forwardIndex{start: make([]uint32, d.size+1)}
	// Ordinals of the previous snapshot's values are kept, so the lists
	// of the documents it shares are copied as they are.
	var prev *forwardIndex
	kept := uint64(0)
	if p, _, docs := d.earlier(func(p *docSets) bool { prev = p.forwards[field]; return prev != nil }); p != nil {
		kept = docs
		fw.values = append(fw.values, prev.values...)
	}
	ord := make(map[string]int, len(m))
	for i, v := range fw.values {
		ord[v] = i
	}
	var added []string
	for v := range m {
		if _, ok := ord[v]; !ok {
			added = append(added, v)
		}
	}
	sort.Strings(added)
	for _, v := range added {
		ord[v] = len(fw.values)
		fw.values = append(fw.values, v)
	}
	fw.docs = make([]*roaring.Bitmap, len(fw.values))
	for i, v := range fw.values {
		if b, ok := m[v]; ok {
			fw.docs[i] = b
		} else {
			fw.docs[i] = roaring.New()
		}
	}
	if prev != nil {
		copy(fw.start, prev.start[:kept+1])
	}
	// The documents from kept on: their values, from the value bitmaps.
	each := func(fn func(n uint32, o uint32)) {
		for i, b := range fw.docs {
			it := b.Iterator()
			it.AdvanceIfNeeded(uint32(kept))
			for it.HasNext() {
				fn(it.Next(), uint32(i))
			}
		}
	}
	counts := make([]uint32, d.size-kept)
	each(func(n, _ uint32) { counts[uint64(n)-kept]++ })
	for i, c := range counts {
		n := kept + uint64(i)
		fw.start[n+1] = fw.start[n] + c
	}
	fw.ords = make([]uint32, fw.start[d.size])
	if prev != nil {
		copy(fw.ords, prev.ords[:fw.start[kept]])
	}
	fill := append([]uint32(nil), fw.start[kept:d.size]...)
	each(func(n, o uint32) {
		i := uint64(n) - kept
		fw.ords[fill[i]] = o
		fill[i]++
	})
	d.forwards[field] = fw
	return fw, nil
}

// count adds to counts the documents of over holding each value. A small
// set is counted document by document; a large one value by value, as the
// cardinality of an intersection, which costs about the same whatever the
// set's size.
func (fw *forwardIndex) count(over *roaring.Bitmap, counts map[string]int) {
	if over.GetCardinality() > uint64((len(fw.start)-1)/16) {
		fw.countByValue(over, counts)
	} else {
		fw.countByDocument(over, counts)
	}
}

func (fw *forwardIndex) countByValue(over *roaring.Bitmap, counts map[string]int) {
	for i, b := range fw.docs {
		if n := over.AndCardinality(b); n > 0 {
			counts[fw.values[i]] = int(n)
		}
	}
}

func (fw *forwardIndex) countByDocument(over *roaring.Bitmap, counts map[string]int) {
	docs := len(fw.start) - 1
	byOrd := make([]int, len(fw.values))
	it := over.ManyIterator()
	buf := make([]uint32, 1024)
	for {
		got := it.NextMany(buf)
		if got == 0 {
			break
		}
		for _, n := range buf[:got] {
			if int(n) >= docs {
				continue
			}
			for _, o := range fw.ords[fw.start[n]:fw.start[n+1]] {
				byOrd[o]++
			}
		}
	}
	for i, n := range byOrd {
		if n > 0 {
			counts[fw.values[i]] = n
		}
	}
}

// filters is, per group, the documents passing that group's filters.
func (d *docSets) filters(fs []Filter) (map[string]*roaring.Bitmap, error) {
	out := make(map[string]*roaring.Bitmap, len(fs))
	for _, f := range fs {
		either := roaring.New()
		for _, c := range f.AnyOf {
			b, err := d.condition(c)
			if err != nil {
				return nil, err
			}
			either.Or(b)
		}
		if g, ok := out[f.Group]; ok {
			either.And(g)
		}
		out[f.Group] = either
	}
	return out, nil
}

// intersect is the documents passing every group but skip; nil when no
// group narrows.
func intersect(groups map[string]*roaring.Bitmap, skip string) *roaring.Bitmap {
	var out *roaring.Bitmap
	for g, b := range groups {
		if g == skip {
			continue
		}
		if out == nil {
			out = b.Clone()
		} else {
			out.And(b)
		}
	}
	return out
}

// count counts every facet over hits, each without its own group's filter.
func (d *docSets) count(hits *roaring.Bitmap, groups map[string]*roaring.Bitmap, facets []Facet) (*FacetCounts, error) {
	out := &FacetCounts{Counts: make(map[string]map[string]int, len(facets))}
	base := func(skip string) *roaring.Bitmap {
		if f := intersect(groups, skip); f != nil {
			return roaring.And(hits, f)
		}
		return hits
	}
	all := base("")
	out.Total = all.GetCardinality()
	for _, f := range facets {
		over := all
		if _, filtered := groups[f.Name]; filtered {
			over = base(f.Name)
		}
		counts := map[string]int{}
		if f.Field != "" {
			fw, err := d.forward(f.Field)
			if err != nil {
				return nil, err
			}
			fw.count(over, counts)
		}
		for _, b := range f.Buckets {
			docs, err := d.condition(b.Cond)
			if err != nil {
				return nil, err
			}
			counts[b.Label] = int(over.AndCardinality(docs))
		}
		out.Counts[f.Name] = counts
	}
	return out, nil
}

// BrowseOrder orders a browse: documents meeting First (when set) come
// first, then by the day of the date field Field (FieldStart or FieldEnd),
// newest first when Desc, documents without it last; equal days by id.
type BrowseOrder struct {
	First *Condition
	Field string
	Desc  bool
}

// Browse lists, without a text query, the documents passing f's filters
// in order, skipping from and keeping size, and counts f's facets, all
// from the snapshot's document sets: no hit is visited through Bleve.
func (ix *Index) Browse(ctx context.Context, f Faceted, order BrowseOrder, from, size int) (ids []string, counts *FacetCounts, err error) {
	err = ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
		sets := ix.sets.of(snap)
		groups, err := sets.filters(f.Filters)
		if err != nil {
			return err
		}
		live := sets.live()
		if counts, err = sets.count(live, groups, f.Facets); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pass := live
		if p := intersect(groups, ""); p != nil {
			pass = roaring.And(p, live)
		}
		nums, err := sets.top(pass, order, from+size)
		if err != nil {
			return err
		}
		ids = []string{}
		if from >= len(nums) {
			return nil
		}
		for _, n := range nums[from:] {
			id, err := snap.ExternalID(bindex.NewIndexInternalID(nil, uint64(n)))
			if err != nil {
				return fmt.Errorf("id of document %d: %w", n, err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("browse: %w", err)
	}
	return ids, counts, nil
}

// live is every document of the snapshot not deleted.
func (d *docSets) live() *roaring.Bitmap {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.liveDocs != nil {
		return d.liveDocs
	}
	out := roaring.New()
	for i, seg := range d.snap.Segments() {
		b := seg.DocNumbersLive()
		if off := d.offsets[i]; off > 0 {
			b = roaring.AddOffset64(b, int64(off))
		}
		out.Or(b)
	}
	out.RunOptimize()
	d.liveDocs = out
	return out
}

// top is the first n documents of pass in order, ties on the day broken by
// id, as Bleve's date sort followed by its id sort orders them.
func (d *docSets) top(pass *roaring.Bitmap, order BrowseOrder, n int) ([]uint32, error) {
	if n <= 0 || pass.IsEmpty() {
		return nil, nil
	}
	d.mu.Lock()
	days, err := d.dates(order.Field)
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var first *roaring.Bitmap
	if order.First != nil {
		if first, err = d.condition(*order.First); err != nil {
			return nil, err
		}
	}
	// key orders documents, smaller first: the First group, then having
	// the date, then the day in the asked direction.
	key := func(num uint32) int64 {
		var k int64
		if first != nil && !first.Contains(num) {
			k |= 1 << 40
		}
		day := days[num]
		switch {
		case day == NoDay:
			k |= 1 << 39
		case order.Desc:
			k |= int64(math.MaxInt32) - int64(day)
		default:
			k |= int64(day) - math.MinInt32
		}
		return k
	}
	// A bounded max-heap keeps the n smallest keys seen.
	h := make(keyHeap, 0, n)
	it := pass.ManyIterator()
	buf := make([]uint32, 4096)
	for {
		got := it.NextMany(buf)
		if got == 0 {
			break
		}
		for _, num := range buf[:got] {
			k := key(num)
			if len(h) < n {
				h.push(keyed{k, num})
			} else if k < h[0].key {
				h[0] = keyed{k, num}
				h.down(0)
			}
		}
	}
	// Documents sharing the last kept key may be more than fit: gather
	// them all so that the id decides which are in.
	boundary := h[0].key
	var kept []keyed
	for _, e := range h {
		if e.key != boundary {
			kept = append(kept, e)
		}
	}
	it = pass.ManyIterator()
	for {
		got := it.NextMany(buf)
		if got == 0 {
			break
		}
		for _, num := range buf[:got] {
			if key(num) == boundary {
				kept = append(kept, keyed{boundary, num})
			}
		}
	}
	ids := make(map[uint32]string, len(kept))
	for _, e := range kept {
		id, err := d.snap.ExternalID(bindex.NewIndexInternalID(nil, uint64(e.num)))
		if err != nil {
			return nil, fmt.Errorf("id of document %d: %w", e.num, err)
		}
		ids[e.num] = id
	}
	sort.Slice(kept, func(i, j int) bool {
		if kept[i].key != kept[j].key {
			return kept[i].key < kept[j].key
		}
		return ids[kept[i].num] < ids[kept[j].num]
	})
	if len(kept) > n {
		kept = kept[:n]
	}
	out := make([]uint32, len(kept))
	for i, e := range kept {
		out[i] = e.num
	}
	return out, nil
}

type keyed struct {
	key int64
	num uint32
}

// keyHeap is a max-heap on key.
type keyHeap []keyed

func (h *keyHeap) push(e keyed) {
	*h = append(*h, e)
	for i := len(*h) - 1; i > 0; {
		p := (i - 1) / 2
		if (*h)[p].key >= (*h)[i].key {
			break
		}
		(*h)[p], (*h)[i] = (*h)[i], (*h)[p]
		i = p
	}
}

func (h keyHeap) down(i int) {
	for {
		l, big := 2*i+1, i
		if l < len(h) && h[l].key > h[big].key {
			big = l
		}
		if r := l + 1; r < len(h) && h[r].key > h[big].key {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

// Warm works out, for the newest snapshot, what searches need first (the
// vocabulary, the value bitmaps and forward indexes of the given keyword
// fields, the start and end days), so the first searches after a start do
// not pay for it.
func (ix *Index) Warm(ctx context.Context, fields []string) error {
	if _, err := ix.Vocabulary(); err != nil {
		return err
	}
	return ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
		sets := ix.sets.of(snap)
		for _, f := range fields {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := sets.forward(f); err != nil {
				return err
			}
		}
		sets.mu.Lock()
		defer sets.mu.Unlock()
		for _, f := range []string{FieldStart, FieldEnd} {
			if _, err := sets.dates(f); err != nil {
				return err
			}
		}
		return nil
	})
}
