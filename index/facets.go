package index

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Facet counts and filters are computed on document bitmaps rather than
// per hit: Bleve's facets visit the doc values of every hit, decompressing a
// chunk of 1,024 documents per scattered hit and field (about 0.2 µs per hit
// per facet, most of a selective query's time at a million documents).
// Here the matching documents are a bitmap worked out from the postings
// (matchset.go), each facet value's documents a bitmap built once per index
// snapshot from the term dictionary, and a count the cardinality of an
// intersection, or for a few hits a walk through their values.

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

// Faceted is the filters of a search and the facets counted over its
// hits: the documents its text matches passing every filter, each facet
// counted without its own filter.
type Faceted struct {
	Filters []Filter
	Facets  []Facet
}

// FacetCounts holds the outcome: Total is the number of hits passing every
// filter; Counts maps a facet name to value counts (keyword values with at
// least one document, every bucket); Over maps a facet name to how many
// documents it was counted over: the hits as if its own filter were not
// there, which is the Total of the same search without that filter.
type FacetCounts struct {
	Total  uint64
	Counts map[string]map[string]int
	Over   map[string]uint64
}

// faceted is what q matches, the hits (those passing f's filters) and f's
// facet counts.
func (d *docSets) faceted(ctx context.Context, ix *Index, q query.Query, f Faceted) (matched, hits *roaring.Bitmap, counts *FacetCounts, err error) {
	matched, err = d.match(ctx, ix, q)
	if err != nil {
		return nil, nil, nil, err
	}
	groups, err := d.filters(f.Filters)
	if err != nil {
		return nil, nil, nil, err
	}
	if counts, err = d.count(matched, groups, f.Facets); err != nil {
		return nil, nil, nil, err
	}
	hits = matched
	if p := intersect(groups, ""); p != nil {
		hits = roaring.And(matched, p)
	}
	return matched, hits, counts, nil
}

// keyedCacheSize bounds the date conditions remembered per snapshot; each
// is a bitmap of up to an eighth of a byte per document.
const keyedCacheSize = 64

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
		// Keys come from requests (a status on any as_of day, any date
		// window): a bounded number is remembered.
		if len(d.keyed) >= keyedCacheSize {
			clear(d.keyed)
		}
		d.keyed[c.Key] = b
	}
	return b, nil
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
	out := &FacetCounts{Counts: make(map[string]map[string]int, len(facets)), Over: make(map[string]uint64, len(facets))}
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
		out.Over[f.Name] = over.GetCardinality()
	}
	return out, nil
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
