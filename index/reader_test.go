package index

import (
	"context"
	"fmt"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
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
	// Writing inside Read is safe here only because nothing rebuilds the
	// index meanwhile (see Read).
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

// smallCorpus is a few documents with distinct words, one of them not a
// project.
func smallCorpus(t *testing.T) *Index {
	t.Helper()
	ix := mustOpen(t, "")
	docs := []Document{
		{ID: "garment-union", Kind: KindProject, Title: "Garment workers union", Description: "Factory safety for garment workers."},
		{ID: "mining-safety", Kind: KindProject, Title: "Mining safety", Description: "Mine workers and safety training in garment towns."},
		{ID: "cocoa", Kind: KindProject, Title: "Child labour in cocoa", Description: "Cocoa farms and child labour monitoring."},
		{ID: "garment-exports", Kind: KindProject, Title: "Garment exports", Description: "Trade and garment exports, workers' wages."},
		{ID: "overview", Kind: "initiative", Title: "Overview: garment, mining, cocoa", Description: "All topics for workers."},
		{ID: "union-rights", Kind: KindProject, Title: "Union rights", Description: "Freedom of association for union workers."},
	}
	if err := ix.Batch(docs, nil); err != nil {
		t.Fatal(err)
	}
	return ix
}

// stemOf is word as the text fields index it.
func stemOf(t *testing.T, ix *Index, word string) string {
	t.Helper()
	toks, err := ix.Analyze(AnalyzerText, word)
	if err != nil || len(toks) != 1 {
		t.Fatalf("analyse %q: %v, %v", word, toks, err)
	}
	return toks[0].Term
}

// TestClausesRankAsBleve runs required (all-of and any-of), optional and
// excluded clauses through the reader and the same query built by hand
// through Bleve alone: the same documents, in the same order, with the
// same scores, and the excluded one absent.
func TestClausesRankAsBleve(t *testing.T) {
	ix := smallCorpus(t)
	text := func(word string) AnyOf {
		s := stemOf(t, ix, word)
		return AnyOf{Term{Field: FieldTitle, Term: s, Boost: 3}, Term{Field: FieldDescription, Term: s, Boost: 1}}
	}
	q := Query{
		Required: []Clause{AllOf{text("workers"), text("garment")}},
		Optional: []Clause{text("safety")},
		Exclude:  []Clause{Term{Field: FieldTitle, Term: stemOf(t, ix, "mining"), Boost: 1}},
		Size:     10,
	}
	got := mustSearch(t, ix, q)

	hand := func(word string) query.Query {
		s := stemOf(t, ix, word)
		title, desc := bleve.NewTermQuery(s), bleve.NewTermQuery(s)
		title.SetField(FieldTitle)
		title.SetBoost(3)
		desc.SetField(FieldDescription)
		desc.SetBoost(1)
		return bleve.NewDisjunctionQuery(title, desc)
	}
	mining := bleve.NewTermQuery(stemOf(t, ix, "mining"))
	mining.SetField(FieldTitle)
	b := bleve.NewBooleanQuery()
	b.AddMust(bleve.NewConjunctionQuery(bleve.NewConjunctionQuery(hand("workers"), hand("garment"))))
	b.AddShould(hand("safety"))
	b.AddMustNot(mining)
	want, err := ix.BleveSearch(context.Background(), bleve.NewSearchRequestOptions(b, 10, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	var gotHits, wantHits []string
	for _, h := range got.Hits {
		gotHits = append(gotHits, fmt.Sprintf("%s %.6f", h.Doc.ID, h.Score))
	}
	for _, h := range want.Hits {
		wantHits = append(wantHits, fmt.Sprintf("%s %.6f", h.ID, h.Score))
	}
	if diff := cmp.Diff(wantHits, gotHits); diff != "" || got.Total != want.Total {
		t.Errorf("total %d, Bleve's %d; hits (-bleve +reader):\n%s", got.Total, want.Total, diff)
	}
	if len(gotHits) < 2 {
		t.Errorf("hits %v: the case tests little", gotHits)
	}
	for _, h := range got.Hits {
		if h.Doc.ID == "mining-safety" {
			t.Errorf("the excluded document is a hit")
		}
	}
	// The optional word ranks: the garment project about safety first.
	if got.Hits[0].Doc.ID != "garment-union" {
		t.Errorf("first hit %s, want garment-union (it also says safety)", got.Hits[0].Doc.ID)
	}
}

// TestOtherKindsScaleOnlyOtherKinds: with OtherKinds set, the overview
// page's score is scaled by it and every project's score is unchanged.
func TestOtherKindsScaleOnlyOtherKinds(t *testing.T) {
	ix := smallCorpus(t)
	q := Query{Required: []Clause{Term{Field: FieldDescription, Term: stemOf(t, ix, "workers"), Boost: 1}}, Size: 10}
	scores := func(q Query) map[string]float64 {
		out := map[string]float64{}
		for _, h := range mustSearch(t, ix, q).Hits {
			out[h.Doc.ID] = h.Score
		}
		return out
	}
	plain := scores(q)
	q.OtherKinds = 0.3
	scaled := scores(q)
	if len(plain) < 3 || plain["overview"] == 0 {
		t.Fatalf("hits %v: the case tests nothing", plain)
	}
	for id, s := range plain {
		want := s
		if id == "overview" {
			want = s * 0.3
		}
		if d := scaled[id] - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: score %v, want %v", id, scaled[id], want)
		}
	}
}

// TestNearWordsFindsTypos: the dictionary walk finds an indexed word
// within the edits asked for and not beyond.
func TestNearWordsFindsTypos(t *testing.T) {
	ix := smallCorpus(t)
	near := func(word string, edits int) []string {
		var out []string
		if err := ix.Read(func(r *Reader) error {
			return r.NearWords(word, edits, func(term string) bool {
				out = append(out, term)
				return true
			})
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Two substitutions: within 2 edits, not within 1.
	if got := near("mizzng", 2); !contains(got, "mining") {
		t.Errorf("mizzng within 2 edits: %v, want mining among them", got)
	}
	if got := near("mizzng", 1); contains(got, "mining") {
		t.Errorf("mizzng within 1 edit: %v, mining is 2 away", got)
	}
	// Two neighbouring letters swapped are one edit.
	if got := near("minnig", 1); !contains(got, "mining") {
		t.Errorf("minnig within 1 edit: %v, want mining (a transposition)", got)
	}
	if got := near("garmet", 1); !contains(got, "garment") {
		t.Errorf("garmet within 1 edit: %v, want garment", got)
	}
}

// TestPartialRanksByUnitsMatched: no document matches all three units;
// the partial search counts none as matching all and puts the document
// matching two first. A document matching one unit alone is a hit only
// when that unit is telling (in at most a quarter of the index):
// "association" (1 of 6) is, "cocoa" and "mining" (2 of 6 each) are not.
func TestPartialRanksByUnitsMatched(t *testing.T) {
	ix := smallCorpus(t)
	unit := func(word string) Clause {
		s := stemOf(t, ix, word)
		return AnyOf{Term{Field: FieldTitle, Term: s, Boost: 3}, Term{Field: FieldDescription, Term: s, Boost: 1}}
	}
	units := []Clause{unit("cocoa"), unit("mining"), unit("association")}
	var (
		res *Result
		pr  *PartialResult
	)
	if err := ix.Read(func(r *Reader) error {
		var err error
		res, pr, err = r.SearchPartial(context.Background(), Query{Size: 10}, Partial{Units: units, Fill: 10})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if pr.AllUnits != 0 || len(pr.Dead) != 0 {
		t.Errorf("all units %d, dead %v; want 0 and none", pr.AllUnits, pr.Dead)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.Doc.ID)
	}
	if len(ids) == 0 || ids[0] != "overview" {
		t.Fatalf("hits %v: want overview (cocoa and mining) first", ids)
	}
	want := map[string]bool{"overview": true, "union-rights": true}
	if len(ids) != len(want) || res.Total != uint64(len(want)) {
		t.Errorf("hits %v (total %d), want each of %v once", ids, res.Total, want)
	}
	for _, id := range ids {
		if !want[id] {
			t.Errorf("hit %s: matches no unit, or only one that is not telling", id)
		}
	}
}

// TestPageOnlyRefusesFilters: a page-only query cannot apply filters,
// facets or a sort; it says so rather than ignoring them.
func TestPageOnlyRefusesFilters(t *testing.T) {
	ix := smallCorpus(t)
	for name, q := range map[string]Query{
		"filter": {PageOnly: true, Size: 3, Faceted: Faceted{Filters: []Filter{{Group: "k", AnyOf: []Condition{{Field: FieldKind, Value: "none"}}}}}},
		"facet":  {PageOnly: true, Size: 3, Faceted: Faceted{Facets: []Facet{{Name: "kind", Field: FieldKind}}}},
		"sort":   {PageOnly: true, Size: 3, Sort: []SortKey{{Field: FieldStart}}},
	} {
		err := ix.Read(func(r *Reader) error {
			_, err := r.Search(context.Background(), q)
			return err
		})
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
