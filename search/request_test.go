package search_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/search"
)

// TestNormalize: the one check of a search request fills the defaults a
// response echoes, drops empty filter values, counts a repeated value once,
// and refuses the rest naming the parameter and the fix; a normalised
// request normalises to itself.
func TestNormalize(t *testing.T) {
	many := make([]string, search.MaxFilterValues+1)
	for i := range many {
		many[i] = strings.Repeat("x", i+1)
	}
	repeated := make([]string, search.MaxFilterValues+1)
	for i := range repeated {
		repeated[i] = "Peru"
	}
	tests := []struct {
		name  string
		in    search.Request
		want  search.Request
		param string // "" = valid
		msg   string
	}{
		{"defaults", search.Request{Query: "  mica "},
			search.Request{Query: "mica", Facets: search.DefaultFacets(), FacetSize: search.DefaultFacetSize, Sort: search.SortRelevance, Page: 1, PerPage: search.DefaultPerPage}, "", ""},
		{"empty values dropped, repeats counted once, sorted", search.Request{Filters: map[string][]string{"country": append([]string{"", " Peru", "Chile"}, repeated...), "sector": {" "}}, Facets: []string{"country", "country", " "}},
			search.Request{Filters: map[string][]string{"country": {"Chile", "Peru"}}, Facets: []string{"country"}, FacetSize: search.DefaultFacetSize, Sort: search.SortRelevance, Page: 1, PerPage: search.DefaultPerPage}, "", ""},
		{"too many values", search.Request{Filters: map[string][]string{"country": many}}, search.Request{}, "country", "country has 101 values; the limit is 100"},
		{"unknown filter", search.Request{Filters: map[string][]string{"contry": {"Peru"}}}, search.Request{}, "contry", `unknown filter "contry" (did you mean "country"?)`},
		{"closed value", search.Request{Filters: map[string][]string{"status": {"activ"}}}, search.Request{}, "status", `status "activ" is not one of active, ended, upcoming (did you mean "active"?)`},
		{"unknown facet", search.Request{Facets: []string{"sectors"}}, search.Request{}, "facets", `unknown facet "sectors" (did you mean "sector"?)`},
		{"unknown sort", search.Request{Sort: "newest"}, search.Request{}, "sort", `sort "newest" is not one of relevance, start, -start`},
		{"per_page", search.Request{PerPage: 101}, search.Request{}, "per_page", "per_page must be between 1 and 100"},
		{"too deep", search.Request{Page: 1001, PerPage: 10}, search.Request{}, "page", "goes past the first 10000 results"},
		{"facet_size", search.Request{FacetSize: -1}, search.Request{}, "facet_size", "facet_size must be between 1 and 500"},
		{"query too long", search.Request{Query: strings.Repeat("é", search.MaxQueryLength+1)}, search.Request{}, "q", "q is 513 characters long; the limit is 512"},
		{"bad UTF-8", search.Request{Query: "\xff"}, search.Request{}, "q", "q is not valid UTF-8"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := test.in
			err := got.Normalize()
			if test.param != "" {
				var inv *search.InvalidError
				if !errors.As(err, &inv) || inv.Param != test.param || !strings.Contains(inv.Message, test.msg) {
					t.Fatalf("Normalize() = %v, want an error on %s containing %q", err, test.param, test.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(test.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			again := got
			if err := again.Normalize(); err != nil || !cmp.Equal(got, again) {
				t.Errorf("normalising again changed the request or failed: %v\n%s", err, cmp.Diff(got, again))
			}
		})
	}
}
