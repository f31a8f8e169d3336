package index

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/google/go-cmp/cmp"
)

// randomCorpus writes n documents in several batches (so the index has
// several segments), then rewrites and deletes some, and returns the
// documents that remain by id.
func randomCorpus(t *testing.T, ix *Index, n int, seed uint64) map[string]Document {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	countries := []string{"Peru", "Mexico", "Chile", "Ghana", "Viet Nam", "Côte d'Ivoire"}
	docs := map[string]Document{}
	write := func(batch []Document, deletes []string) {
		if err := ix.Batch(batch, deletes); err != nil {
			t.Fatal(err)
		}
		for _, d := range batch {
			docs[d.ID] = d
		}
		for _, id := range deletes {
			delete(docs, id)
		}
	}
	newDoc := func(i int) Document {
		d := Document{ID: fmt.Sprintf("doc-%05d", i), Kind: KindProject, Title: "project", Description: "about work"}
		for _, c := range countries {
			if rng.IntN(3) == 0 {
				d.Countries = append(d.Countries, c)
			}
		}
		if rng.IntN(10) > 0 {
			// Few distinct days, so many documents share one.
			start := time.Date(2015+rng.IntN(10), time.Month(1+rng.IntN(2)), 1, 0, 0, 0, 0, time.UTC)
			d.Start = start.Format(DateLayout)
			d.End = start.AddDate(rng.IntN(4), 0, 0).Format(DateLayout)
		}
		return d
	}
	var batch []Document
	for i := 0; i < n; i++ {
		batch = append(batch, newDoc(i))
		if len(batch) == n/5 {
			write(batch, nil)
			batch = nil
		}
	}
	write(batch, nil)
	var rewrite []Document
	var deletes []string
	for i := 0; i < n; i += 7 {
		rewrite = append(rewrite, newDoc(i))
	}
	for i := 3; i < n; i += 11 {
		deletes = append(deletes, fmt.Sprintf("doc-%05d", i))
	}
	write(rewrite, deletes)
	return docs
}

func countryCounts(docs []Document) map[string]int {
	out := map[string]int{}
	for _, d := range docs {
		for _, c := range d.Countries {
			out[c]++
		}
	}
	return out
}

// TestFacetCountsAgreeWithTheDocuments counts countries over filtered
// searches of an index with several segments, rewritten and deleted
// documents, by both counting methods, and compares them with counting
// the documents themselves.
func TestFacetCountsAgreeWithTheDocuments(t *testing.T) {
	ix := mustOpen(t, "")
	docs := randomCorpus(t, ix, 3000, 1)
	for _, filter := range [][]string{nil, {"Peru"}, {"Ghana", "Chile"}, {"Côte d'Ivoire"}} {
		var f Faceted
		if filter != nil {
			var conds []Condition
			for _, c := range filter {
				conds = append(conds, Condition{Field: FieldCountries, Value: c})
			}
			f.Filters = []Filter{{Group: "country", AnyOf: conds}}
		}
		f.Facets = []Facet{{Name: "country", Field: FieldCountries}, {Name: "also", Field: FieldCountries}}
		res := mustSearch(t, ix, Query{Faceted: f, Size: 5})
		counts := res.Counts
		var all, passing []Document
		for _, d := range docs {
			all = append(all, d)
			for _, c := range d.Countries {
				if filter == nil || contains(filter, c) {
					passing = append(passing, d)
					break
				}
			}
		}
		if filter == nil {
			passing = all
		}
		if res.Total != uint64(len(passing)) || counts.Total != uint64(len(passing)) {
			t.Errorf("filter %v: total %d (%d), want %d", filter, res.Total, counts.Total, len(passing))
		}
		checkHits(t, fmt.Sprint(filter), res.Hits, passing)
		// The filtered facet ignores its own filter; the other does not.
		if diff := cmp.Diff(countryCounts(all), counts.Counts["country"]); diff != "" {
			t.Errorf("filter %v: disjunctive counts (-documents +facet):\n%s", filter, diff)
		}
		if diff := cmp.Diff(countryCounts(passing), counts.Counts["also"]); diff != "" {
			t.Errorf("filter %v: counts over the filtered hits (-documents +facet):\n%s", filter, diff)
		}
		// What each facet counted over: every document for the facet
		// whose filter is left out, the filtered hits for the other.
		if want := map[string]uint64{"country": uint64(len(all)), "also": uint64(len(passing))}; !cmp.Equal(want, counts.Over) {
			t.Errorf("filter %v: counted over %v, want %v", filter, counts.Over, want)
		}
	}
}

// checkHits fails unless every hit is one of docs.
func checkHits(t *testing.T, what string, hits []Hit, docs []Document) {
	t.Helper()
	ok := map[string]bool{}
	for _, d := range docs {
		ok[d.ID] = true
	}
	if len(hits) == 0 && len(docs) > 0 {
		t.Errorf("%s: no hits, want some of %d", what, len(docs))
	}
	for _, h := range hits {
		if !ok[h.Doc.ID] {
			t.Errorf("%s: hit %s does not pass the filters", what, h.Doc.ID)
		}
	}
}

// TestNarrowFiltersRankOnlyTheirDocuments filters on three countries at
// once (a few percent of the documents, where Bleve skips to the set's
// documents) and on one (a third, where it drops the others as it goes),
// and checks the hits and the total.
func TestNarrowFiltersRankOnlyTheirDocuments(t *testing.T) {
	ix := mustOpen(t, "")
	docs := randomCorpus(t, ix, 3000, 11)
	for _, groups := range [][]string{{"Peru", "Mexico", "Chile"}, {"Ghana"}} {
		var f Faceted
		for _, c := range groups {
			f.Filters = append(f.Filters, Filter{Group: c, AnyOf: []Condition{{Field: FieldCountries, Value: c}}})
		}
		var passing []Document
		for _, d := range docs {
			all := true
			for _, c := range groups {
				all = all && contains(d.Countries, c)
			}
			if all {
				passing = append(passing, d)
			}
		}
		res := mustSearch(t, ix, Query{Required: []Clause{Term{Field: FieldDescription, Term: "work", Boost: 1}}, Faceted: f, Size: 50})
		counts := res.Counts
		if res.Total != uint64(len(passing)) || counts.Total != res.Total {
			t.Errorf("%v: total %d (%d), want %d", groups, res.Total, counts.Total, len(passing))
		}
		checkHits(t, fmt.Sprint(groups), res.Hits, passing)
		if len(passing) < 20 {
			t.Errorf("%v: only %d documents pass; the case tests little", groups, len(passing))
		}
	}
}

// idsOf lists the documents' ids.
func idsOf(docs []*Document) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestCountingMethodsAgree compares counting value by value with counting
// document by document over random sets of every size.
func TestCountingMethodsAgree(t *testing.T) {
	ix := mustOpen(t, "")
	randomCorpus(t, ix, 3000, 2)
	adv, err := ix.live.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sets := ix.sets.of(r.(*scorch.IndexSnapshot))
	fw, err := sets.forward(FieldCountries)
	if err != nil {
		t.Fatal(err)
	}
	live := sets.live()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, keep := range []int{1, 10, 100, 1000, 3000} {
		over := roaring.New()
		it := live.Iterator()
		for it.HasNext() {
			if n := it.Next(); rng.IntN(3000) < keep {
				over.Add(n)
			}
		}
		byValue, byDoc := map[string]int{}, map[string]int{}
		fw.countByValue(over, byValue)
		fw.countByDocument(over, byDoc)
		if diff := cmp.Diff(byValue, byDoc); diff != "" {
			t.Errorf("%d documents: by value vs by document:\n%s", over.GetCardinality(), diff)
		}
	}
}

// TestBrowseOrdersLikeASort checks Browse's order and pages against
// sorting the documents: by day (either way), documents without the date
// last, equal days by id.
func TestBrowseOrdersLikeASort(t *testing.T) {
	ix := mustOpen(t, "")
	docs := randomCorpus(t, ix, 2000, 5)
	var all []Document
	for _, d := range docs {
		all = append(all, d)
	}
	for _, order := range []BrowseOrder{{Field: FieldStart, Desc: true}, {Field: FieldStart}, {Field: FieldEnd, Desc: true}, {Field: FieldEnd}} {
		day := func(d Document) string {
			if order.Field == FieldStart {
				return d.Start
			}
			return d.End
		}
		want := append([]Document(nil), all...)
		sort.Slice(want, func(i, j int) bool {
			a, b := day(want[i]), day(want[j])
			switch {
			case a != b && (a == "" || b == ""):
				return b == ""
			case a != b && order.Desc:
				return a > b
			case a != b:
				return a < b
			}
			return want[i].ID < want[j].ID
		})
		for _, page := range []struct{ from, size int }{{0, 10}, {0, 1}, {37, 25}, {len(all) - 5, 10}, {len(all) + 3, 10}} {
			docs, counts := mustBrowse(t, ix, Faceted{}, order, page.from, page.size)
			ids := idsOf(docs)
			if counts.Total != uint64(len(all)) {
				t.Errorf("total %d, want %d", counts.Total, len(all))
			}
			var wantIDs []string
			for i := page.from; i < page.from+page.size && i < len(want); i++ {
				wantIDs = append(wantIDs, want[i].ID)
			}
			if len(wantIDs) == 0 && len(ids) == 0 {
				continue
			}
			if diff := cmp.Diff(wantIDs, ids); diff != "" {
				t.Errorf("%+v page %+v (-sorted +browse):\n%s", order, page, diff)
			}
		}
	}
}

// TestVocabularyFollowsWrites compares the in-memory vocabulary with
// Bleve's own dictionary walk after each write, and checks a new word is
// there as soon as its write returns.
func TestVocabularyFollowsWrites(t *testing.T) {
	ix := mustOpen(t, "")
	randomCorpus(t, ix, 1500, 7)
	for round, word := range []string{"zanzibarite", "quetzalcoatlus"} {
		if err := ix.Batch([]Document{{ID: fmt.Sprintf("new-%d", round), Kind: KindProject, Title: word + " workers", Description: "about " + word}}, nil); err != nil {
			t.Fatal(err)
		}
		v, err := ix.Vocabulary()
		if err != nil {
			t.Fatal(err)
		}
		if v.Count(word) != 1 {
			t.Errorf("round %d: %q counted %d times, want 1", round, word, v.Count(word))
		}
		want := map[string]uint64{}
		if err := ix.withSnapshot(func(r *scorch.IndexSnapshot) error {
			fd, err := r.FieldDict(FieldWords)
			if err != nil {
				return err
			}
			defer fd.Close()
			for {
				de, err := fd.Next()
				if err != nil || de == nil {
					return err
				}
				want[de.Term] = de.Count
			}
		}); err != nil {
			t.Fatal(err)
		}
		got := map[string]uint64{}
		v.Prefix("", func(term string, count uint64) bool {
			got[term] = count
			return true
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round %d: vocabulary differs from the dictionary (-dictionary +vocabulary):\n%s", round, diff)
		}
		var completions []string
		v.Prefix(word[:4], func(term string, _ uint64) bool {
			completions = append(completions, term)
			return true
		})
		if !contains(completions, word) {
			t.Errorf("round %d: completions of %q = %v, want %q among them", round, word[:4], completions, word)
		}
	}
}

// TestDocSetsFollowEveryWrite searches between small writes (new
// documents, rewrites, deletions; Bleve merges segments meanwhile), so each
// snapshot's sets are built on the previous one's, and compares the
// counts, totals, date filters and browse order with the documents.
func TestDocSetsFollowEveryWrite(t *testing.T) {
	ix := mustOpen(t, "")
	docs := randomCorpus(t, ix, 600, 21)
	rng := rand.New(rand.NewPCG(5, 5))
	countries := []string{"Peru", "Mexico", "Chile", "Ghana", "Fiji"}
	ended := Condition{Key: "ended-2018", Dates: func(_, end Day) bool { return end != NoDay && end < DayOf(time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)) }}
	for round := 0; round < 30; round++ {
		var batch []Document
		var deletes []string
		for i := 0; i < 1+rng.IntN(20); i++ {
			id := fmt.Sprintf("doc-%05d", rng.IntN(900))
			if rng.IntN(4) == 0 {
				deletes = append(deletes, id)
				continue
			}
			d := Document{ID: id, Kind: KindProject, Title: "project", Description: "about work", Countries: []string{countries[rng.IntN(len(countries))]}}
			if rng.IntN(3) > 0 {
				d.Start, d.End = fmt.Sprintf("201%d-01-01", rng.IntN(10)), fmt.Sprintf("202%d-01-01", rng.IntN(5))
			}
			batch = append(batch, d)
		}
		// A document both written and deleted in one batch is written.
		for _, d := range batch {
			for i, id := range deletes {
				if id == d.ID {
					deletes = append(deletes[:i], deletes[i+1:]...)
					break
				}
			}
		}
		if err := ix.Batch(batch, deletes); err != nil {
			t.Fatal(err)
		}
		for _, id := range deletes {
			delete(docs, id)
		}
		for _, d := range batch {
			docs[d.ID] = d
		}
		var all, endedDocs []Document
		for _, d := range docs {
			all = append(all, d)
			if d.End != "" && d.End < "2018-01-01" {
				endedDocs = append(endedDocs, d)
			}
		}
		f := Faceted{Facets: []Facet{{Name: "country", Field: FieldCountries}, {Name: "ended", Buckets: []Bucket{{Label: "ended", Cond: ended}}}}}
		res := mustSearch(t, ix, Query{Faceted: f, Size: 3})
		counts := res.Counts
		if res.Total != uint64(len(all)) {
			t.Fatalf("round %d: total %d, want %d", round, res.Total, len(all))
		}
		if diff := cmp.Diff(countryCounts(all), counts.Counts["country"]); diff != "" {
			t.Fatalf("round %d: country counts (-documents +facet):\n%s", round, diff)
		}
		if got := counts.Counts["ended"]["ended"]; got != len(endedDocs) {
			t.Fatalf("round %d: %d ended, want %d", round, got, len(endedDocs))
		}
		// The forward index counts small sets: one country's documents.
		small := Faceted{Filters: []Filter{{Group: "only", AnyOf: []Condition{{Field: FieldCountries, Value: "Fiji"}}}}, Facets: []Facet{{Name: "country", Field: FieldCountries}}}
		smallCounts := mustSearch(t, ix, Query{Faceted: small, Size: 1}).Counts
		var fiji []Document
		for _, d := range all {
			if contains(d.Countries, "Fiji") {
				fiji = append(fiji, d)
			}
		}
		if diff := cmp.Diff(countryCounts(fiji), smallCounts.Counts["country"]); diff != "" {
			t.Fatalf("round %d: counts over Fiji's documents (-documents +facet):\n%s", round, diff)
		}
		page, _ := mustBrowse(t, ix, Faceted{}, BrowseOrder{Field: FieldStart, Desc: true}, 0, 5)
		ids := idsOf(page)
		for _, d := range page {
			// Read back from the segment, a rewritten document is its
			// last version.
			if w := docs[d.ID]; d.Start != w.Start || !cmp.Equal(d.Countries, w.Countries) {
				t.Fatalf("round %d: browsed %s has start %q and countries %v, written %q and %v", round, d.ID, d.Start, d.Countries, w.Start, w.Countries)
			}
		}
		sort.Slice(all, func(i, j int) bool {
			a, b := all[i].Start, all[j].Start
			if a != b {
				return a > b
			}
			return all[i].ID < all[j].ID
		})
		var want []string
		for _, d := range all[:5] {
			want = append(want, d.ID)
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Fatalf("round %d: newest five (-documents +browse):\n%s", round, diff)
		}
	}
}

// TestRankingInPartsMatchesOnePass ranks the same searches in one pass and
// split into parts (as many hits are on a machine with several cores) and
// expects the same pages: scores, order, ties in document order, totals.
func TestRankingInPartsMatchesOnePass(t *testing.T) {
	ix := mustOpen(t, "")
	rng := rand.New(rand.NewPCG(8, 1))
	words := []string{"trade", "union", "workers", "safety", "mining", "cocoa"}
	var docs []Document
	for i := 0; i < 3000; i++ {
		d := Document{ID: fmt.Sprintf("r%04d", i), Kind: KindProject, Title: randomWords(rng, words, 1), Description: randomWords(rng, words, 1+rng.IntN(12))}
		if rng.IntN(4) > 0 {
			d.Start = fmt.Sprintf("20%02d-0%d-01", 10+rng.IntN(10), 1+rng.IntN(9))
		}
		docs = append(docs, d)
		if len(docs) == 700 {
			if err := ix.Batch(docs, nil); err != nil {
				t.Fatal(err)
			}
			docs = nil
		}
	}
	if err := ix.Batch(docs, nil); err != nil {
		t.Fatal(err)
	}
	byDate := []SortKey{{Field: FieldStart, Desc: true}}
	type page struct {
		IDs    []string
		Scores []float64
		Total  uint64
	}
	run := func(q []Clause, from, size int, order []SortKey, parts int) page {
		ix.rankTuning.parts = parts
		res := mustSearch(t, ix, Query{Required: q, Sort: order, From: from, Size: size})
		var p page
		p.Total = res.Total
		for _, h := range res.Hits {
			p.IDs = append(p.IDs, h.Doc.ID)
			p.Scores = append(p.Scores, h.Score)
		}
		return p
	}
	for _, q := range [][]Clause{
		{AnyOf{Term{Field: FieldDescription, Term: "union", Boost: 1}, Term{Field: FieldTitle, Term: "safeti", Boost: 1}}},
		{Term{Field: FieldTitle, Term: "cocoa", Boost: 1}}, // equal scores: ties decide
		nil, // every document
	} {
		for _, c := range []struct {
			from, size int
			order      []SortKey
		}{{0, 10, nil}, {25, 20, nil}, {0, 3000, nil}, {5, 15, byDate}, {0, 3000, byDate}} {
			one := run(q, c.from, c.size, c.order, 1)
			split := run(q, c.from, c.size, c.order, 3)
			if len(one.IDs) == 0 {
				t.Fatalf("nothing ranked; the case tests nothing")
			}
			if diff := cmp.Diff(one, split); diff != "" {
				t.Errorf("from %d size %d: one pass vs in parts (-one +parts):\n%s", c.from, c.size, diff)
			}
		}
	}
}

// TestDateConditionsRememberedAreBounded asks for many distinct date
// conditions, as visitors may by choosing any as_of day, and checks the
// snapshot remembers a bounded number of them and still answers each.
func TestDateConditionsRememberedAreBounded(t *testing.T) {
	ix := mustOpen(t, "")
	docs := randomCorpus(t, ix, 300, 3)
	for i := 0; i < 3*keyedCacheSize; i++ {
		day := DayOf(time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)) + Day(i*30)
		cond := Condition{Key: fmt.Sprintf("started-by-%d", day), Dates: func(start, _ Day) bool { return start != NoDay && start <= day }}
		counts := mustSearch(t, ix, Query{Faceted: Faceted{Facets: []Facet{{Name: "n", Buckets: []Bucket{{Label: "started", Cond: cond}}}}}}).Counts
		want := 0
		for _, d := range docs {
			if d.Start != "" && d.Start <= time.Unix(int64(day)*86400, 0).UTC().Format(DateLayout) {
				want++
			}
		}
		if got := counts.Counts["n"]["started"]; got != want {
			t.Fatalf("condition %d: %d documents, want %d", i, got, want)
		}
	}
	if err := ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
		if n := len(ix.sets.of(snap).keyed); n > keyedCacheSize {
			t.Errorf("%d date conditions remembered, want at most %d", n, keyedCacheSize)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
