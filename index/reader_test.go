package index

import (
	"context"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/google/go-cmp/cmp"
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

// TestPageOnlyGoesInDocumentOrder: a page-only query's pages are the
// pages Bleve's own unscored search gives, across several segments and
// deleted documents, and a counted unscored query has the same pages
// with the exact total.
func TestPageOnlyGoesInDocumentOrder(t *testing.T) {
	ix := mustOpen(t, "")
	docs := randomCorpus(t, ix, 1500, 9)
	var gone []string
	for id := range docs {
		if gone = append(gone, id); len(gone) == 40 {
			break
		}
	}
	if err := ix.Batch(nil, gone); err != nil {
		t.Fatal(err)
	}
	clause := AnyOf{Term{Field: FieldCountries, Term: "Peru", Boost: 1}, Term{Field: FieldCountries, Term: "Ghana", Boost: 1}}
	for _, page := range []struct{ from, size int }{{0, 3}, {0, 1000}, {17, 25}, {100000, 5}} {
		got := mustSearch(t, ix, Query{Required: []Clause{clause}, Unscored: true, From: page.from, Size: page.size})
		first := mustSearch(t, ix, Query{Required: []Clause{clause}, PageOnly: true, From: page.from, Size: page.size})
		req := bleve.NewSearchRequestOptions(clause.bleveQuery(ix), page.size, page.from, false)
		req.Score = bleve.ScoreNone
		want, err := ix.BleveSearch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		// Unscored, Bleve stops counting once the page is full: the total
		// comes from a scored search.
		all, err := ix.BleveSearch(context.Background(), bleve.NewSearchRequestOptions(clause.bleveQuery(ix), 0, 0, false))
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs, firstIDs, wantIDs []string
		for _, h := range got.Hits {
			gotIDs = append(gotIDs, h.Doc.ID)
		}
		for _, h := range first.Hits {
			firstIDs = append(firstIDs, h.Doc.ID)
		}
		for _, h := range want.Hits {
			wantIDs = append(wantIDs, h.ID)
		}
		if page.from == 0 && len(wantIDs) == 0 {
			t.Fatalf("page %+v: Bleve finds nothing; the case tests nothing", page)
		}
		if !cmp.Equal(wantIDs, firstIDs) {
			t.Errorf("page %+v: page-only ids %v, Bleve's %v", page, firstIDs, wantIDs)
		}
		if !cmp.Equal(wantIDs, gotIDs) || got.Total != all.Total {
			t.Errorf("page %+v: ids %v (total %d), Bleve's %v (total %d)", page, gotIDs, got.Total, wantIDs, all.Total)
		}
	}
}
