package index

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Vocabulary is the indexed words (the unstemmed FieldWords) of one
// snapshot, sorted, with how many documents hold each. Completions run on
// every keystroke; walking Bleve's dictionaries for them reads a postings
// list per word and segment, so the words are read once per segment and
// merged once per snapshot.
type Vocabulary struct {
	terms  []string
	counts []uint32
}

// Count is how many documents hold term (deleted ones included until their
// segment is merged away, as in Bleve's own dictionary counts).
func (v *Vocabulary) Count(term string) uint64 {
	i := sort.SearchStrings(v.terms, term)
	if i < len(v.terms) && v.terms[i] == term {
		return uint64(v.counts[i])
	}
	return 0
}

// Prefix calls fn with the words starting with p in order, until fn
// returns false.
func (v *Vocabulary) Prefix(p string, fn func(term string, count uint64) bool) {
	for i := sort.SearchStrings(v.terms, p); i < len(v.terms) && strings.HasPrefix(v.terms[i], p); i++ {
		if !fn(v.terms[i], uint64(v.counts[i])) {
			return
		}
	}
}

// Len is the number of distinct words.
func (v *Vocabulary) Len() int { return len(v.terms) }

// Vocabulary returns the vocabulary of the live index's newest snapshot.
func (ix *Index) Vocabulary() (*Vocabulary, error) {
	var out *Vocabulary
	err := ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
		var err error
		out, err = ix.sets.of(snap).vocabulary(&ix.segmentWords)
		return err
	})
	return out, err
}

// withSnapshot runs fn on a snapshot of the live index.
func (ix *Index) withSnapshot(fn func(snap *scorch.IndexSnapshot) error) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed.Load() {
		return ErrClosed
	}
	adv, err := ix.live.Advanced()
	if err != nil {
		return fmt.Errorf("index internals: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("index reader: %w", err)
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return fmt.Errorf("needs a scorch index, not %T", r)
	}
	return fn(snap)
}

// segmentWordsCache keeps each segment's words: segments never change, and
// a write adds small ones beside the large ones already read.
type segmentWordsCache struct {
	mu   sync.Mutex
	segs map[segment.Segment]*Vocabulary
}

func (d *docSets) vocabulary(cache *segmentWordsCache) (*Vocabulary, error) {
	d.vocabMu.Lock()
	defer d.vocabMu.Unlock()
	if d.vocab != nil {
		return d.vocab, nil
	}
	cache.mu.Lock()
	defer cache.mu.Unlock()
	live := map[segment.Segment]*Vocabulary{}
	var parts []*Vocabulary
	for _, ss := range d.snap.Segments() {
		seg := ss.Segment()
		v, ok := cache.segs[seg]
		if !ok {
			var err error
			if v, err = segmentWords(seg); err != nil {
				return nil, err
			}
		}
		live[seg] = v
		parts = append(parts, v)
	}
	// Segments merged away are forgotten.
	cache.segs = live
	for len(parts) > 1 {
		var next []*Vocabulary
		for i := 0; i+1 < len(parts); i += 2 {
			next = append(next, mergeVocabularies(parts[i], parts[i+1]))
		}
		if len(parts)%2 == 1 {
			next = append(next, parts[len(parts)-1])
		}
		parts = next
	}
	d.vocab = &Vocabulary{}
	if len(parts) == 1 {
		d.vocab = parts[0]
	}
	return d.vocab, nil
}

func segmentWords(seg segment.Segment) (*Vocabulary, error) {
	dict, err := seg.Dictionary(FieldWords)
	if err != nil {
		return nil, fmt.Errorf("dictionary of %s: %w", FieldWords, err)
	}
	v := &Vocabulary{}
	it := dict.AutomatonIterator(nil, nil, nil)
	for {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("walk dictionary of %s: %w", FieldWords, err)
		}
		if e == nil {
			return v, nil
		}
		v.terms = append(v.terms, e.Term)
		v.counts = append(v.counts, uint32(e.Count))
	}
}

func mergeVocabularies(a, b *Vocabulary) *Vocabulary {
	out := &Vocabulary{
		terms:  make([]string, 0, len(a.terms)+len(b.terms)),
		counts: make([]uint32, 0, len(a.terms)+len(b.terms)),
	}
	i, j := 0, 0
	for i < len(a.terms) || j < len(b.terms) {
		switch {
		case j == len(b.terms) || i < len(a.terms) && a.terms[i] < b.terms[j]:
			out.terms, out.counts = append(out.terms, a.terms[i]), append(out.counts, a.counts[i])
			i++
		case i == len(a.terms) || b.terms[j] < a.terms[i]:
			out.terms, out.counts = append(out.terms, b.terms[j]), append(out.counts, b.counts[j])
			j++
		default:
			out.terms, out.counts = append(out.terms, a.terms[i]), append(out.counts, a.counts[i]+b.counts[j])
			i++
			j++
		}
	}
	return out
}
