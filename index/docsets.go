package index

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/numeric"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

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

// dates is the day of a datetime field for every document. The caller
// holds d.mu.
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
