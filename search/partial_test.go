package search_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// partialCorpus holds words of known frequencies: "workers" in nearly every
// document (not telling), "mica" and "madagascar" in a few (telling).
func partialCorpus() []index.Document {
	var docs []index.Document
	add := func(id, title string) {
		docs = append(docs, index.Document{ID: id, Kind: index.KindProject, Title: title})
	}
	for i := range 24 {
		add(fmt.Sprintf("filler-%02d", i), "Garment workers organising")
	}
	add("mica-workers-1", "Mica workers in Jharkhand")
	add("mica-workers-2", "Mica workers and their children")
	add("mica-workers-3", "Mica workers' cooperatives")
	add("madagascar-workers-1", "Madagascar vanilla workers")
	add("madagascar-workers-2", "Madagascar textile workers")
	add("mica-madagascar", "Mica from southern Madagascar")
	add("kilns-nepal", "Brick kilns of the Kathmandu valley in Nepal")
	add("kilns-pakistan-1", "Brick kilns of Punjab, Pakistan")
	add("kilns-pakistan-2", "Bonded labour in Pakistan's brick kilns")
	for i := range 3 {
		add(fmt.Sprintf("nepal-%d", i), "Nepal garment exporters")
	}
	return docs
}

func ids(res *search.Response) []string {
	out := []string{}
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

// TestPartialMatches: when too few documents match every word to fill a
// page, the best partial matches follow them: documents matching more, and
// more telling, words first; a common word alone never lets a document in;
// relaxed says how many hits match every word and which words the others
// may lack.
func TestPartialMatches(t *testing.T) {
	e := mustEngineOver(t, partialCorpus())
	tests := []struct {
		name     string
		q        string
		first    []string // these, in any order, are the first hits
		then     []string // then these, in any order
		total    uint64
		allWords uint64
		kept     string
		dropped  []string
	}{
		{"two rare words before one", "mica madagascar workers",
			[]string{"mica-madagascar"},
			[]string{"mica-workers-1", "mica-workers-2", "mica-workers-3", "madagascar-workers-1", "madagascar-workers-2"},
			6, 0, "", []string{"mica", "madagascar", "workers"}},
		{"every word first, then the rare word", "mica workers",
			[]string{"mica-workers-1", "mica-workers-2", "mica-workers-3"},
			[]string{"mica-madagascar"},
			4, 3, "mica", []string{"workers"}},
		{"either of two places", "brick kilns Nepal Pakistan",
			[]string{"kilns-nepal", "kilns-pakistan-1", "kilns-pakistan-2"},
			[]string{"nepal-0", "nepal-1", "nepal-2"},
			6, 0, "", []string{"brick", "kilns", "Nepal", "Pakistan"}},
		{"a word that matches nothing is dropped", "mica zqxwvy",
			[]string{"mica-madagascar", "mica-workers-1", "mica-workers-2", "mica-workers-3"}, nil,
			4, 0, "mica", []string{"zqxwvy"}},
		{"question words are never required", "which projects help mica workers?",
			[]string{"mica-workers-1", "mica-workers-2", "mica-workers-3"},
			[]string{"mica-madagascar"},
			4, 3, "mica", []string{"workers"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			res := mustSearch(t, e, search.Request{Query: test.q, Facets: []string{search.FieldKind}, PerPage: 10})
			got := ids(res)
			n := len(test.first)
			if len(got) < n+len(test.then) {
				t.Fatalf("%q: hits %v, want %v then %v", test.q, got, test.first, test.then)
			}
			if diff := cmp.Diff(sorted(test.first), sorted(got[:n])); diff != "" {
				t.Errorf("%q: first hits (-want +got):\n%s\nall: %v", test.q, diff, got)
			}
			if test.then != nil {
				if diff := cmp.Diff(sorted(test.then), sorted(got[n:n+len(test.then)])); diff != "" {
					t.Errorf("%q: next hits (-want +got):\n%s\nall: %v", test.q, diff, got)
				}
			}
			if res.Total != test.total || uint64(len(got)) != min(test.total, 10) {
				t.Errorf("%q: total %d with %d hits, want %d", test.q, res.Total, len(got), test.total)
			}
			want := &search.Relaxed{AllWords: test.allWords, Kept: test.kept, Dropped: test.dropped}
			if diff := cmp.Diff(want, res.Relaxed); diff != "" {
				t.Errorf("%q: relaxed (-want +got):\n%s", test.q, diff)
			}
			// The facets count what is returned.
			if kinds := facetMap(res.Facets[search.FieldKind]); uint64(kinds[index.KindProject]) != res.Total {
				t.Errorf("%q: kind facet counts %d projects of %d hits", test.q, kinds[index.KindProject], res.Total)
			}
		})
	}

	// Pages of a partial answer add up to its total, each hit once.
	seen := map[string]bool{}
	var total uint64
	for page := 1; page <= 4; page++ {
		res := mustSearch(t, e, search.Request{Query: "brick kilns Nepal Pakistan", Facets: []string{}, PerPage: 2, Page: page})
		if page > 1 && res.Total != total {
			t.Errorf("page %d total %d, page 1 said %d", page, res.Total, total)
		}
		total = res.Total
		for _, id := range ids(res) {
			if seen[id] {
				t.Errorf("page %d repeats %s", page, id)
			}
			seen[id] = true
		}
	}
	if uint64(len(seen)) != total || total == 0 {
		t.Errorf("paging gave %d hits, total %d", len(seen), total)
	}

	// A full page of hits matching every word needs no partial ones.
	if res := mustSearch(t, e, search.Request{Query: "garment workers", Facets: []string{}, PerPage: 10}); res.Relaxed != nil || res.Total != 24 {
		t.Errorf("garment workers: total %d relaxed %+v, want the 24 documents with both words and no relaxation", res.Total, res.Relaxed)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
