package search_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
)

// mustEngine builds the real engine over ix, wired as the service wires it,
// with today fixed at asOf.
func mustEngine(tb testing.TB, ix *index.Index) *search.Engine {
	tb.Helper()
	e, err := seedengine.New(ix, search.Options{Now: func() time.Time { return asOf }, ResponseCache: search.DefaultResponseCache})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// mustEngineOver builds the real engine over an in-memory index holding
// docs (and nothing else).
func mustEngineOver(tb testing.TB, docs []index.Document) *search.Engine {
	tb.Helper()
	e, _ := testkit.New(tb, testkit.Engine{
		Seeded: true, Docs: docs,
		Search: search.Options{Now: func() time.Time { return asOf }, ResponseCache: search.DefaultResponseCache},
	})
	return e
}

func day(s string) time.Time {
	t, err := time.Parse(index.DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestPartialDates: real catalogues hold ongoing projects (a start only),
// projects with an end only, and records without dates. A missing bound is
// open for the status and for date windows; date sorts put documents
// without that date last in both directions.
func TestPartialDates(t *testing.T) {
	project := func(id, start, end string) index.Document {
		return index.Document{ID: id, Kind: index.KindProject, Title: "Cocoa cooperatives " + id, Start: start, End: end}
	}
	e := mustEngineOver(t, []index.Document{
		project("ongoing", "2020-01-01", ""),
		project("end-only", "", "2019-12-31"),
		project("closed", "2018-01-01", "2018-12-31"),
		project("undated", "", ""),
	})
	ids := func(res *search.Response) []string {
		out := []string{}
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		return out
	}
	status := func(h search.Hit) string {
		if h.Status == nil {
			return "none"
		}
		return *h.Status
	}

	t.Run("status", func(t *testing.T) {
		for _, test := range []struct {
			asOf string
			want map[string]string
		}{
			{"2024-06-01", map[string]string{"ongoing": "active", "end-only": "ended", "closed": "ended", "undated": "none"}},
			{"2019-06-01", map[string]string{"ongoing": "upcoming", "end-only": "active", "closed": "ended", "undated": "none"}},
			{"2020-01-01", map[string]string{"ongoing": "active", "end-only": "ended", "closed": "ended", "undated": "none"}},
			{"2019-12-31", map[string]string{"ongoing": "upcoming", "end-only": "active", "closed": "ended", "undated": "none"}},
		} {
			for _, q := range []string{"", "cocoa"} {
				res := mustSearch(t, e, search.Request{Query: q, AsOf: day(test.asOf), Facets: []string{search.FieldStatus}})
				got := map[string]string{}
				for _, h := range res.Hits {
					got[h.ID] = status(h)
				}
				if diff := cmp.Diff(test.want, got); diff != "" {
					t.Errorf("as of %s, q=%q: statuses (-want +got):\n%s", test.asOf, q, diff)
				}
				// The status facet and filter agree with the hits' statuses.
				counts := facetMap(res.Facets[search.FieldStatus])
				for _, s := range []string{search.StatusActive, search.StatusEnded, search.StatusUpcoming} {
					n := 0
					for _, v := range test.want {
						if v == s {
							n++
						}
					}
					if counts[s] != n {
						t.Errorf("as of %s, q=%q: facet %s = %d, want %d", test.asOf, q, s, counts[s], n)
					}
					filtered := mustSearch(t, e, search.Request{Query: q, AsOf: day(test.asOf), Facets: []string{}, Filters: map[string][]string{search.FieldStatus: {s}}})
					for _, h := range filtered.Hits {
						if status(h) != s {
							t.Errorf("as of %s, q=%q: status=%s filter let %s (%s) through", test.asOf, q, s, h.ID, status(h))
						}
					}
					if int(filtered.Total) != n {
						t.Errorf("as of %s, q=%q: status=%s filter found %d, want %d", test.asOf, q, s, filtered.Total, n)
					}
				}
			}
		}
	})

	t.Run("window", func(t *testing.T) {
		for _, test := range []struct {
			from, to string
			want     []string
		}{
			{"2021-01-01", "2021-12-31", []string{"ongoing"}},
			{"2015-01-01", "2016-01-01", []string{"end-only"}},
			{"", "2017-01-01", []string{"end-only"}},
			{"2019-06-01", "", []string{"end-only", "ongoing"}},
			{"2018-06-01", "2018-06-30", []string{"closed", "end-only"}},
			{"2020-01-01", "2020-01-01", []string{"ongoing"}},
			{"2019-12-31", "2019-12-31", []string{"end-only"}},
		} {
			for _, q := range []string{"", "cocoa"} {
				r := search.Request{Query: q, Facets: []string{}, Sort: "title"}
				if test.from != "" {
					r.From = day(test.from)
				}
				if test.to != "" {
					r.To = day(test.to)
				}
				got := ids(mustSearch(t, e, r))
				want := []string{}
				for _, id := range []string{"closed", "end-only", "ongoing"} {
					if contains(test.want, id) {
						want = append(want, id)
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("window %s..%s, q=%q (-want +got):\n%s", test.from, test.to, q, diff)
				}
			}
		}
	})

	t.Run("sort", func(t *testing.T) {
		for _, test := range []struct {
			sort search.Sort
			want []string // the dated ones in order; the others follow in any order
			rest int
		}{
			{"start", []string{"closed", "ongoing"}, 2},
			{"-start", []string{"ongoing", "closed"}, 2},
			{"end", []string{"closed", "end-only"}, 2},
			{"-end", []string{"end-only", "closed"}, 2},
		} {
			for _, q := range []string{"", "cocoa"} {
				got := ids(mustSearch(t, e, search.Request{Query: q, Sort: test.sort, Facets: []string{}}))
				if len(got) != len(test.want)+test.rest {
					t.Fatalf("sort %s, q=%q: %d hits, want %d", test.sort, q, len(got), len(test.want)+test.rest)
				}
				if diff := cmp.Diff(test.want, got[:len(test.want)]); diff != "" {
					t.Errorf("sort %s, q=%q: documents with the date first, in order (-want +got):\n%s (all: %v)", test.sort, q, diff, got)
				}
				// Paging through gives the same order as one page.
				var paged []string
				for page := 1; page <= 4; page++ {
					paged = append(paged, ids(mustSearch(t, e, search.Request{Query: q, Sort: test.sort, Facets: []string{}, Page: page, PerPage: 1}))...)
				}
				if diff := cmp.Diff(got, paged); diff != "" {
					t.Errorf("sort %s, q=%q: pages of one differ from one page (-one +paged):\n%s", test.sort, q, diff)
				}
			}
		}
	})
}
