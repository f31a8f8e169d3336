package synthetic

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

var asOf = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func mustIndex(tb testing.TB, docs []index.Document) *index.Index {
	tb.Helper()
	ix, err := index.Open("", index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	for i := 0; i < len(docs); i += 500 {
		if err := ix.Batch(docs[i:min(i+500, len(docs))], nil); err != nil {
			tb.Fatal(err)
		}
	}
	return ix
}

func TestMixShape(t *testing.T) {
	docs := mustGenerator(t, 1).Documents(2000)
	mix, err := NewMix(docs, 100, 1, asOf)
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewMix(docs, 100, 1, asOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Classes {
		qs := mix[c]
		if len(qs) != 100 {
			t.Errorf("%d %s queries, want 100", len(qs), c)
		}
		// Selective queries and suggestions rarely repeat; the front page does.
		if d := Distinct(qs); (c == Selective || c == Suggest) && d < 90 || d < 10 {
			t.Errorf("%d distinct %s queries of 100", d, c)
		}
		for i, q := range qs {
			if q.Class != c {
				t.Fatalf("%s query %d has class %s", c, i, q.Class)
			}
			if q.Path() != again[c][i].Path() {
				t.Fatalf("%s query %d differs between two builds with the same seed", c, i)
			}
			u, err := url.Parse(q.Path())
			if err != nil {
				t.Fatalf("%s query %d: %v", c, i, err)
			}
			words := len(strings.Fields(q.Text))
			switch c {
			case Selective:
				if words < 1 || words > 3 {
					t.Errorf("selective query %q has %d words", q.Text, words)
				}
			case Broad:
				if words < 1 || words > 2 {
					t.Errorf("broad query %q has %d words", q.Text, words)
				}
			case Browse:
				if q.Text != "" || len(q.Filters) > 2 {
					t.Errorf("browse query %q with %d filters", q.Text, len(q.Filters))
				}
			case Suggest:
				if u.Path != "/v1/suggest" || words < 1 || words > 2 {
					t.Errorf("suggest query %q", q.Path())
				}
				continue
			}
			if u.Path != "/v1/search" || u.Query().Get("facets") != "country,sector,area,status" {
				t.Errorf("%s query path %q does not ask for the four facets", c, q.Path())
			}
		}
	}
}

// TestMixFindsWhatItPromises runs the mix on an index of its own sample,
// plainly and with the engine: selective queries find their document, broad
// ones more than a tenth of the index.
func TestMixFindsWhatItPromises(t *testing.T) {
	const n = 2000
	docs := mustGenerator(t, 1).Documents(n)
	ix := mustIndex(t, docs)
	engine, err := search.New(ix, search.Options{Now: func() time.Time { return asOf }})
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewMix(docs, 40, 1, asOf)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range Classes {
		for _, q := range mix[c] {
			plain, err := q.RunPlain(ctx, ix.BleveSearch, asOf)
			if err != nil {
				t.Fatalf("%s %q: %v", c, q.Path(), err)
			}
			if c == Suggest {
				if _, err := engine.Suggest(ctx, q.SuggestRequest()); err != nil {
					t.Fatalf("suggest %q: %v", q.Text, err)
				}
				continue
			}
			res, err := engine.Search(ctx, q.SearchRequest())
			if err != nil {
				t.Fatalf("%s %q: %v", c, q.Path(), err)
			}
			switch c {
			case Selective:
				if plain == 0 || res.Total == 0 {
					t.Errorf("selective %q: plain found %d, engine %d; want at least the document it came from", q.Path(), plain, res.Total)
				}
			case Broad:
				if q.Filters == nil && plain <= n/10 {
					t.Errorf("broad %q: plain found %d of %d documents, want more than a tenth", q.Text, plain, n)
				}
			}
			if len(res.Facets) != len(MixFacets) {
				t.Errorf("%s %q: engine gave %d facets, want %d", c, q.Path(), len(res.Facets), len(MixFacets))
			}
		}
	}
}
