package index

import (
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// A query's matching documents, when nothing is ranked (facet counts,
// relaxation), are computed here as set algebra on postings bitmaps: a
// term's documents are a bitmap in every zap segment, so a disjunction is a
// union and a conjunction an intersection, without visiting a document.
// Bleve's searchers would visit every match and decode its frequencies.
// Phrases need positions: they run through Bleve, unscored, unless the
// rest of their disjunction already holds every document with all their
// words.

// matcher evaluates queries over one snapshot.
type matcher struct {
	ctx   context.Context
	ix    *Index
	sets  *docSets
	terms map[[2]string]*roaring.Bitmap
}

func (d *docSets) match(ctx context.Context, ix *Index, q query.Query) (*roaring.Bitmap, error) {
	m := &matcher{ctx: ctx, ix: ix, sets: d, terms: map[[2]string]*roaring.Bitmap{}}
	return m.eval(q)
}

func (m *matcher) eval(q query.Query) (*roaring.Bitmap, error) {
	if err := m.ctx.Err(); err != nil {
		return nil, err
	}
	switch q := q.(type) {
	case *query.TermQuery:
		return m.term(q.FieldVal, q.Term)
	case *query.MatchAllQuery:
		return m.sets.live(), nil
	case *query.MatchNoneQuery:
		return roaring.New(), nil
	case *query.CustomScoreQuery:
		return m.eval(q.Query)
	case *query.ConjunctionQuery:
		return m.and(q.Conjuncts)
	case *query.DisjunctionQuery:
		if q.Min > 1 {
			return m.bleve(q)
		}
		return m.or(q.Disjuncts)
	case *query.BooleanQuery:
		return m.boolean(q)
	case *phraseQuery:
		return m.sets.phrase(m.ctx, m.ix, q)
	}
	return m.bleve(q)
}

// narrow intersects out with b; the first set is copied, as the sets
// handed around are shared.
func narrow(out, b *roaring.Bitmap) *roaring.Bitmap {
	if out == nil {
		return b.Clone()
	}
	out.And(b)
	return out
}

func (m *matcher) and(qs []query.Query) (*roaring.Bitmap, error) {
	if len(qs) == 0 {
		return roaring.New(), nil
	}
	var out *roaring.Bitmap
	for _, c := range qs {
		b, err := m.eval(c)
		if err != nil {
			return nil, err
		}
		if out = narrow(out, b); out.IsEmpty() {
			break
		}
	}
	return out, nil
}

// or unites the parts; phrases come last, and a phrase whose words all
// occur only in documents already matched adds nothing and is skipped.
func (m *matcher) or(qs []query.Query) (*roaring.Bitmap, error) {
	out := roaring.New()
	var phrases []query.Query
	for _, c := range qs {
		switch c.(type) {
		case *query.MatchPhraseQuery, *phraseQuery:
			phrases = append(phrases, c)
			continue
		}
		b, err := m.eval(c)
		if err != nil {
			return nil, err
		}
		out.Or(b)
	}
	for _, p := range phrases {
		mp, ok := p.(*query.MatchPhraseQuery)
		if !ok {
			mp = p.(*phraseQuery).match()
		}
		words, err := m.phraseWords(mp)
		if err != nil {
			return nil, err
		}
		if words != nil && roaring.AndNot(words, out).IsEmpty() {
			continue
		}
		b, err := m.eval(p)
		if err != nil {
			return nil, err
		}
		out.Or(b)
	}
	return out, nil
}

func (m *matcher) boolean(q *query.BooleanQuery) (*roaring.Bitmap, error) {
	var out *roaring.Bitmap
	if q.Must != nil {
		b, err := m.eval(q.Must)
		if err != nil {
			return nil, err
		}
		out = b.Clone()
	}
	if q.Should != nil {
		d, ok := q.Should.(*query.DisjunctionQuery)
		switch {
		case ok && d.Min <= 0 && out != nil:
			// Optional clauses only score.
		case ok && d.Min <= 1:
			b, err := m.or(d.Disjuncts)
			if err != nil {
				return nil, err
			}
			out = narrow(out, b)
		default:
			return m.bleve(q)
		}
	}
	if out == nil {
		out = m.sets.live().Clone()
	}
	if q.MustNot != nil {
		b, err := m.eval(q.MustNot)
		if err != nil {
			return nil, err
		}
		out.AndNot(b)
	}
	if q.Filter != nil {
		b, err := m.eval(q.Filter)
		if err != nil {
			return nil, err
		}
		out.And(b)
	}
	return out, nil
}

// term is the live documents holding term in field.
func (m *matcher) term(field, term string) (*roaring.Bitmap, error) {
	if field == "" {
		field = m.ix.mapping.DefaultField
	}
	key := [2]string{field, term}
	if b, ok := m.terms[key]; ok {
		return b, nil
	}
	out := roaring.New()
	for i, ss := range m.sets.snap.Segments() {
		dict, err := ss.Segment().Dictionary(field)
		if err != nil {
			return nil, fmt.Errorf("dictionary of %s: %w", field, err)
		}
		pl, err := dict.PostingsList([]byte(term), ss.Deleted(), nil)
		if err != nil {
			return nil, fmt.Errorf("postings of %s:%s: %w", field, term, err)
		}
		local, err := postingsBitmap(pl)
		if err != nil {
			return nil, fmt.Errorf("postings of %s:%s: %w", field, term, err)
		}
		if local.IsEmpty() {
			continue
		}
		if off := m.sets.offsets[i]; off > 0 {
			local = roaring.AddOffset64(local, int64(off))
		}
		out.Or(local)
	}
	m.terms[key] = out
	return out, nil
}

// phraseWords is the documents holding every word of a phrase in its
// field; nil when the phrase cannot be analysed here.
func (m *matcher) phraseWords(p *query.MatchPhraseQuery) (*roaring.Bitmap, error) {
	name := p.Analyzer
	if name == "" {
		name = m.ix.mapping.AnalyzerNameForPath(p.FieldVal)
	}
	a := m.ix.mapping.AnalyzerNamed(name)
	if a == nil {
		return nil, nil
	}
	var out *roaring.Bitmap
	for _, t := range a.Analyze([]byte(p.MatchPhrase)) {
		b, err := m.term(p.FieldVal, string(t.Term))
		if err != nil {
			return nil, err
		}
		out = narrow(out, b)
	}
	return out, nil
}

// bleve runs q through Bleve's searchers, unscored.
func (m *matcher) bleve(q query.Query) (*roaring.Bitmap, error) {
	var docs []uint32
	err := m.ix.eachMatch(m.ctx, m.sets.snap, q, func(n uint32) bool {
		docs = append(docs, n)
		return true
	})
	if err != nil {
		return nil, err
	}
	return roaring.BitmapOf(docs...), nil
}

// eachMatch calls fn with the number of each document q matches on snap,
// in document order, unscored, until fn returns false; it checks ctx every
// 4,096 documents.
func (ix *Index) eachMatch(ctx context.Context, snap *scorch.IndexSnapshot, q query.Query, fn func(n uint32) bool) error {
	s, err := q.Searcher(ctx, snap, ix.mapping, bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return fmt.Errorf("searcher: %w", err)
	}
	defer s.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: snap}
	for seen := 1; ; seen++ {
		dm, err := s.Next(sctx)
		if err != nil || dm == nil {
			return err
		}
		n := uint32(dm.IndexInternalID.Value())
		sctx.DocumentMatchPool.Put(dm)
		if !fn(n) {
			return nil
		}
		if seen%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}
