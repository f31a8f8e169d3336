package search_test

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/search"
)

// TestCountOnlyAnswersAsAPage: a counts-only request gives the total, the
// facets, the relaxation and the spelling suggestion the same request
// gives with its page of hits, and no hits.
func TestCountOnlyAnswersAsAPage(t *testing.T) {
	e := mustSeedEngine(t)
	for _, r := range []search.Request{
		{Query: "mining"},
		{Query: "workers rights", Filters: map[string][]string{"country": {"Mexico", "Peru"}}, Facets: []string{"country", "sector", "status"}},
		{Query: "mining zzyzzx"},                                                     // relaxed
		{Query: "migrnat workers"},                                                   // did you mean
		{Filters: map[string][]string{"sector": {"Mining"}}},                         // browse
		{Filters: map[string][]string{"kind": {"project"}}, Sort: "title"},           // browse sorted by Bleve
		{Query: "workers", PerPage: 5, Page: 3, Facets: []string{"country", "area"}}, // deep page
	} {
		full := mustSearch(t, e, r)
		c := r
		c.CountOnly = true
		counts := mustSearch(t, e, c)
		if len(counts.Hits) != 0 {
			t.Errorf("%+v: counts only gave %d hits", r, len(counts.Hits))
		}
		if full.Total == 0 {
			t.Errorf("%+v: no hits; the case tests nothing", r)
		}
		if counts.Total != full.Total || counts.DidYouMean != full.DidYouMean || !cmp.Equal(counts.Relaxed, full.Relaxed) {
			t.Errorf("%+v: counts only total %d, did you mean %q, relaxed %v; with hits %d, %q, %v",
				r, counts.Total, counts.DidYouMean, counts.Relaxed, full.Total, full.DidYouMean, full.Relaxed)
		}
		if diff := cmp.Diff(full.Facets, counts.Facets); diff != "" {
			t.Errorf("%+v: facets (-with hits +counts only):\n%s", r, diff)
		}
		if diff := cmp.Diff(full.FacetTotals, counts.FacetTotals); diff != "" {
			t.Errorf("%+v: facet totals (-with hits +counts only):\n%s", r, diff)
		}
	}
}

// TestFacetTotalsAreTotalsWithoutTheFilter: what each facet was counted
// over is the total of the same search with that facet's filter removed,
// which is the question InstantSearch's extra per-facet queries ask.
func TestFacetTotalsAreTotalsWithoutTheFilter(t *testing.T) {
	e := mustSeedEngine(t)
	for _, r := range []search.Request{
		{Query: "workers", Filters: map[string][]string{"country": {"Mexico", "Peru"}, "status": {"active"}}, Facets: []string{"country", "sector", "status"}},
		{Filters: map[string][]string{"country": {"Mexico"}, "sector": {"Mining", "Agriculture"}}, Facets: []string{"country", "sector", "area"}},
		{Query: "mining zzyzzx", Filters: map[string][]string{"country": {"Peru"}}, Facets: []string{"country", "sector"}},
	} {
		res := mustSearch(t, e, r)
		if got := slices.Sorted(maps.Keys(res.FacetTotals)); !cmp.Equal(got, slices.Sorted(slices.Values(r.Facets))) {
			t.Errorf("%+v: facet totals for %v, want one per facet", r, got)
		}
		for _, f := range r.Facets {
			if _, filtered := r.Filters[f]; !filtered && res.FacetTotals[f] != res.Total {
				t.Errorf("%+v: unfiltered facet %s counted over %d, total %d", r, f, res.FacetTotals[f], res.Total)
			}
			if res.Relaxed != nil {
				// Partial matches join by levels that depend on the
				// filters; only the bound holds.
				if res.FacetTotals[f] < res.Total {
					t.Errorf("%+v: facet %s counted over %d documents, fewer than the %d hits", r, f, res.FacetTotals[f], res.Total)
				}
				continue
			}
			without := r
			without.Filters = maps.Clone(r.Filters)
			delete(without.Filters, f)
			want := mustSearch(t, e, without).Total
			if got := res.FacetTotals[f]; got != want {
				t.Errorf("%+v: facet %s counted over %d documents; the search without its filter finds %d", r, f, got, want)
			}
		}
	}
}

// TestMatchesAreTheHighlightedWords: the match offsets point at exactly
// the words the HTML highlight marks, in the raw text, also when
// highlighting is off.
func TestMatchesAreTheHighlightedWords(t *testing.T) {
	e := mustSeedEngine(t)
	marked := regexp.MustCompile(`<mark>(.*?)</mark>`)
	for _, q := range []string{"migrant workers", "mining", "migra", `"occupational safety"`} {
		html := mustSearch(t, e, search.Request{Query: q, Facets: []string{}})
		raw := mustSearch(t, e, search.Request{Query: q, Facets: []string{}, NoHighlight: true, Matches: true})
		if len(raw.Hits) == 0 || len(raw.Hits) != len(html.Hits) {
			t.Fatalf("%s: %d hits with matches, %d with highlights", q, len(raw.Hits), len(html.Hits))
		}
		for i, h := range raw.Hits {
			if h.Highlights != nil {
				t.Errorf("%s: %s has highlights with highlighting off", q, h.ID)
			}
			for field, frags := range html.Hits[i].Highlights {
				want := map[string]bool{}
				for _, m := range marked.FindAllStringSubmatch(strings.Join(frags, " "), -1) {
					want[strings.ToLower(m[1])] = true
				}
				text := h.Title
				if field == "description" {
					text = h.Description
				}
				got := map[string]bool{}
				for _, s := range h.Matches[field] {
					got[strings.ToLower(text[s.Start:s.End])] = true
				}
				// The fragment may leave out matches in a long
				// description, never add any.
				for w := range want {
					if !got[w] {
						t.Errorf("%s: %s %s marks %q, not among the matches %v", q, h.ID, field, w, got)
					}
				}
			}
			if len(h.Matches) == 0 && h.Kind == "project" {
				t.Errorf("%s: project %s has no matches", q, h.ID)
			}
		}
	}
}
