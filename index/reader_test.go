package index

import (
	"context"
	"testing"
)

// mustSearch runs q on a reader of ix.
func mustSearch(t *testing.T, ix *Index, q Query) *Result {
	t.Helper()
	var res *Result
	if err := ix.Read(func(r *Reader) error {
		var err error
		res, err = r.Search(context.Background(), q)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return res
}

// mustBrowse browses ix on a reader.
func mustBrowse(t *testing.T, ix *Index, f Faceted, order BrowseOrder, from, size int) ([]*Document, *FacetCounts) {
	t.Helper()
	var (
		docs   []*Document
		counts *FacetCounts
	)
	if err := ix.Read(func(r *Reader) error {
		var err error
		docs, counts, err = r.Browse(context.Background(), f, order, from, size)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return docs, counts
}

// TestReaderSeesOneSnapshot writes a document with a new word while a
// reader is open: the reader's word look-ups and its search agree with
// each other (neither sees the write), and the next reader sees both.
func TestReaderSeesOneSnapshot(t *testing.T) {
	ix := mustOpen(t, "")
	randomCorpus(t, ix, 200, 5)
	const word = "zanzibarite"
	toks, err := ix.Analyze(AnalyzerText, word)
	if err != nil || len(toks) != 1 {
		t.Fatalf("analyse %q: %v, %v", word, toks, err)
	}
	stem := toks[0].Term
	q := Query{Required: []Clause{AnyOf{Term{Field: FieldTitle, Term: stem, Boost: 1}, Term{Field: FieldDescription, Term: stem, Boost: 1}}}, Size: 10}
	look := func(r *Reader) (has bool, counted, found uint64) {
		words, err := r.Words()
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		return r.HasWord(word), words.Count(word), res.Total
	}
	if err := ix.Read(func(r *Reader) error {
		if err := ix.Batch([]Document{{ID: "new", Kind: KindProject, Title: word + " miners", Description: "about " + word}}, nil); err != nil {
			return err
		}
		if has, counted, found := look(r); has || counted != 0 || found != 0 {
			t.Errorf("reader opened before the write: has %t, counted %d, found %d; want none", has, counted, found)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Read(func(r *Reader) error {
		if has, counted, found := look(r); !has || counted != 1 || found != 1 {
			t.Errorf("reader opened after the write: has %t, counted %d, found %d; want it once", has, counted, found)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestQueryRefusesAnUnsortableField: a sort the index cannot apply is an
// error, not an order silently ignored.
func TestQueryRefusesAnUnsortableField(t *testing.T) {
	ix := mustOpen(t, "")
	randomCorpus(t, ix, 20, 2)
	err := ix.Read(func(r *Reader) error {
		_, err := r.Search(context.Background(), Query{Sort: []SortKey{{Field: FieldDescription}}, Size: 5})
		return err
	})
	if err == nil {
		t.Fatal("sort by description: no error")
	}
}
