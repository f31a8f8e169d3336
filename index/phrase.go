package index

import (
	"context"
	"fmt"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// phraseQuery matches and scores documents as Bleve's MatchPhraseQuery does (the
// sum of its words' scores where they stand side by side), but finds which
// documents hold the phrase once per index snapshot and remembers them.
// Checking positions is the costliest thing a search does, and the same
// phrases recur in every search for a word that has them as synonyms
// ("ITUC" -> "international trade union confederation"); afterwards the
// phrase costs what its words cost on the documents that hold it.
type phraseQuery struct {
	ix    *Index
	text  string
	field string
	boost float64
}

// match is the Bleve query the phrase stands for.
func (p *phraseQuery) match() *query.MatchPhraseQuery {
	q := query.NewMatchPhraseQuery(p.text)
	q.SetField(p.field)
	q.SetBoost(p.boost)
	return q
}

// MarshalJSON lets a Bleve request holding the phrase be written out (as
// Bleve does for explanations and errors) as the query it stands for.
func (p *phraseQuery) MarshalJSON() ([]byte, error) { return p.match().MarshalJSON() }

// Searcher implements query.Query.
func (p *phraseQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	snap, ok := i.(*scorch.IndexSnapshot)
	if !ok {
		return p.match().Searcher(ctx, i, m, options)
	}
	docs, err := p.ix.sets.of(snap).phrase(ctx, p.ix, p)
	if err != nil {
		return nil, err
	}
	set := &setSearcher{docs: docs, it: docs.Iterator()}
	if options.Score == "none" && !options.IncludeTermVectors {
		return set, nil
	}
	words, err := p.words()
	if err != nil {
		return nil, err
	}
	parts := []bsearch.Searcher{set}
	for _, w := range words {
		s, err := searcher.NewTermSearcher(ctx, i, w, p.field, p.boost, options)
		if err != nil {
			for _, o := range parts {
				_ = o.Close()
			}
			return nil, err
		}
		parts = append(parts, s)
	}
	return searcher.NewConjunctionSearcher(ctx, i, parts, options)
}

// words are the phrase's analysed terms in its field.
func (p *phraseQuery) words() ([]string, error) {
	a := p.ix.mapping.AnalyzerNamed(p.ix.mapping.AnalyzerNameForPath(p.field))
	if a == nil {
		return nil, fmt.Errorf("phrase %q: no analyzer for field %s", p.text, p.field)
	}
	var out []string
	for _, t := range a.Analyze([]byte(p.text)) {
		out = append(out, string(t.Term))
	}
	return out, nil
}

// phraseCacheSize bounds the phrases remembered per snapshot: quoted
// phrases come from requests, and a phrase of frequent words is a bitmap of
// up to an eighth of a byte per document (32 MiB for 256 of them at a
// million documents, at worst).
const phraseCacheSize = 256

type phraseCache struct {
	mu   sync.Mutex
	docs map[[2]string]*roaring.Bitmap
}

// phrase is the documents holding p, from the cache or one unscored pass of
// Bleve's phrase searcher.
func (d *docSets) phrase(ctx context.Context, ix *Index, p *phraseQuery) (*roaring.Bitmap, error) {
	key := [2]string{p.field, p.text}
	d.phrases.mu.Lock()
	b, ok := d.phrases.docs[key]
	d.phrases.mu.Unlock()
	if ok {
		return b, nil
	}
	m := &matcher{ctx: ctx, ix: ix, sets: d, terms: map[[2]string]*roaring.Bitmap{}}
	b, err := m.bleve(p.match())
	if err != nil {
		return nil, err
	}
	b.RunOptimize()
	d.phrases.mu.Lock()
	defer d.phrases.mu.Unlock()
	if d.phrases.docs == nil || len(d.phrases.docs) >= phraseCacheSize {
		d.phrases.docs = map[[2]string]*roaring.Bitmap{}
	}
	d.phrases.docs[key] = b
	return b, nil
}

// setSearcher visits a set of documents, scoring nothing.
type setSearcher struct {
	docs *roaring.Bitmap
	it   roaring.IntPeekable
}

func (s *setSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	if !s.it.HasNext() {
		return nil, nil
	}
	dm := ctx.DocumentMatchPool.Get()
	dm.IndexInternalID = bindex.NewIndexInternalID(dm.IndexInternalID, uint64(s.it.Next()))
	dm.Score = 0
	return dm, nil
}

func (s *setSearcher) Advance(ctx *bsearch.SearchContext, id bindex.IndexInternalID) (*bsearch.DocumentMatch, error) {
	s.it.AdvanceIfNeeded(uint32(id.Value()))
	return s.Next(ctx)
}

func (s *setSearcher) Close() error               { return nil }
func (s *setSearcher) Weight() float64            { return 0 }
func (s *setSearcher) SetQueryNorm(float64)       {}
func (s *setSearcher) Count() uint64              { return s.docs.GetCardinality() }
func (s *setSearcher) Min() int                   { return 0 }
func (s *setSearcher) Size() int                  { return 64 }
func (s *setSearcher) DocumentMatchPoolSize() int { return 1 }
