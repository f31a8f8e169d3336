package index

import (
	"github.com/blevesearch/bleve/v2/index/scorch"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Reader reads one snapshot of the live index. A search looks up its words
// (known, completions, near spellings), builds its query and runs it on
// the same snapshot, so what it was built from is what it runs on, and a
// write or a rebuild in between cannot split it.
type Reader struct {
	ix       *Index
	snap     *scorch.IndexSnapshot
	sets     *docSets
	words    *Vocabulary
	contains bindex.FieldDictContains
}

// Read runs fn on a reader of the live index's newest snapshot. The live
// index is not swapped out by a rebuild while fn runs; the reader is closed
// when fn returns and must not be kept. fn must not call Read (or write to
// ix): the read lock it holds is not re-entrant once a rebuild waits for it.
func (ix *Index) Read(fn func(r *Reader) error) error {
	return ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
		return fn(&Reader{ix: ix, snap: snap, sets: ix.sets.of(snap)})
	})
}

// Words is the snapshot's vocabulary: its unstemmed words and how many
// documents hold each.
func (r *Reader) Words() (*Vocabulary, error) {
	if r.words == nil {
		v, err := r.sets.vocabulary(&r.ix.segmentWords)
		if err != nil {
			return nil, err
		}
		r.words = v
	}
	return r.words, nil
}

// HasWord says whether a document holds word (unstemmed).
func (r *Reader) HasWord(word string) bool {
	if r.contains == nil {
		c, err := r.snap.FieldDictContains(FieldWords)
		if err != nil {
			return false
		}
		r.contains = c
	}
	ok, err := r.contains.Contains([]byte(word))
	return err == nil && ok
}

// NearWords calls fn with the indexed words within edits edits of word
// (at most 2; a transposition of two neighbouring letters is one edit), in
// dictionary order, until fn returns false.
func (r *Reader) NearWords(word string, edits int, fn func(term string) bool) error {
	fd, err := r.snap.FieldDictFuzzy(FieldWords, word, edits, "")
	if err != nil {
		return err
	}
	defer fd.Close()
	for {
		de, err := fd.Next()
		if err != nil || de == nil {
			return err
		}
		if !fn(de.Term) {
			return nil
		}
	}
}

// OtherKinds says whether the snapshot holds any document that is not a
// project.
func (r *Reader) OtherKinds() bool {
	fd, err := r.snap.FieldDict(FieldKind)
	if err != nil {
		return true
	}
	defer fd.Close()
	for {
		de, err := fd.Next()
		if err != nil {
			return true
		}
		if de == nil {
			return false
		}
		if de.Term != KindProject && de.Count > 0 {
			return true
		}
	}
}
