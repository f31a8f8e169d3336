package search_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/search"
)

// TestResponseCache: a repeated request is answered from the cache and
// counted as a hit; with the cache off every answer is computed and no
// cache metric is exposed; a negative size is refused.
func TestResponseCache(t *testing.T) {
	tests := []struct {
		name    string
		entries int
	}{
		{"on", 16},
		{"off", 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			ix, err := index.Open("", index.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = ix.Close() })
			reg := prometheus.NewPedanticRegistry()
			e, err := seedengine.New(ix, search.Options{ResponseCache: test.entries, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Upsert(context.Background(), []index.Document{{ID: "a", Kind: index.KindProject, Title: "Mica workers"}}); err != nil {
				t.Fatal(err)
			}
			req := search.Request{Query: "mica", PerPage: 10}
			first := mustSearch(t, e, req)
			second := mustSearch(t, e, req)
			if first.Total != 1 || second.Total != 1 {
				t.Fatalf("totals %d and %d, want 1 and 1", first.Total, second.Total)
			}
			n, err := testutil.GatherAndCount(reg, "search_response_cache_lookups_total")
			if err != nil {
				t.Fatal(err)
			}
			if test.entries == 0 {
				if n != 0 {
					t.Errorf("cache off exposes %d cache series, want none", n)
				}
				return
			}
			want := strings.NewReader(`
# HELP search_response_cache_lookups_total Searches looked up in the response cache, by result (hit or miss); the hit ratio is hit / (hit + miss).
# TYPE search_response_cache_lookups_total counter
search_response_cache_lookups_total{result="hit"} 1
search_response_cache_lookups_total{result="miss"} 1
`)
			if err := testutil.GatherAndCompare(reg, want, "search_response_cache_lookups_total"); err != nil {
				t.Error(err)
			}
		})
	}
	ix, err := index.Open("", index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := search.New(ix, search.Options{ResponseCache: -1}); err == nil {
		t.Error("a negative response cache was accepted")
	}
}
