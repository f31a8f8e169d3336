package search_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// asOf fixes "today" so status answers do not drift with the calendar.
var asOf = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// mustSeedEngine builds the real engine over an in-memory index holding the
// seed documents, wired as the service wires it.
func mustSeedEngine(tb testing.TB) *search.Engine {
	tb.Helper()
	e, _ := testkit.New(tb, testkit.Engine{
		Seeded: true, SeedDocuments: true,
		Search: search.Options{Now: func() time.Time { return asOf }, ResponseCache: search.DefaultResponseCache},
	})
	return e
}

func mustSearch(tb testing.TB, e *search.Engine, r search.Request) *search.Response {
	tb.Helper()
	res, err := e.Search(context.Background(), r)
	if err != nil {
		tb.Fatalf("Search(%+v): %v", r, err)
	}
	return res
}

func titles(res *search.Response, n int) []string {
	var out []string
	for i, h := range res.Hits {
		if i == n {
			break
		}
		out = append(out, h.Title)
	}
	return out
}

// Titles of the seed projects, shortened to a distinctive part.
const (
	migrant     = "Protecting Rights of Migrant Workers"
	mxAbility   = "Strengthening Workers' Ability to Exercise their Labor Rights in Mexico"
	mxGender    = "Improving Gender Equity in the Mexican Workplace"
	prep        = "Promoting Safe and Healthy Workplaces in Honduras"
	mxIndep     = "Building an Independent and Democratic Labor Movement"
	bangladesh  = "Improving respect for workers' rights In Bangladesh"
	southAm     = "Worker Empowerment in South America"
	observar    = "Observation and Engagement for Freedom of Association"
	jordan      = "Working in Freedom in Jordan"
	engage      = "Engaging Workers and Civil Society"
	rise        = "Research, Innovation and Strategic Engagement Project"
	lesotho     = "Supporting Safe and Inclusive Work Environments in Lesotho"
	indoPacific = "Improving Worker Rights in Rural Sectors of the Indo-Pacific"
	infra       = "Promoting Quality Jobs in Infrastructure Development"
	sweet       = "Strengthening Worker Engagement, Empowerment, and Trust"
	westAfrica  = "Elevating Women's Participation in the Workplace in West Africa"
	overview    = "M-POWER"
	partnerPage = "United States"
)

func hasPrefixIn(list []string, want string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, want) {
			return true
		}
	}
	return false
}

func TestRelevance(t *testing.T) {
	e := mustSeedEngine(t)
	tests := []struct {
		name    string
		req     search.Request
		top     int      // the expected titles must be within the first top hits
		want    []string // title prefixes
		notWant []string // title prefixes that must not be among the hits at all
	}{
		{"plain words", search.Request{Query: "migrant workers"}, 1, []string{migrant}, nil},
		{"single word in title and text", search.Request{Query: "sugarcane"}, 1, []string{sweet}, nil},
		{"stemming organizing finds organize", search.Request{Query: "organizing"}, 10, []string{mxIndep}, nil},
		{"stemming plural", search.Request{Query: "elections"}, 1, []string{mxIndep}, nil},
		{"prefix of last word", search.Request{Query: "migr"}, 1, []string{migrant}, nil},
		{"prefix after a full word", search.Request{Query: "palm oi"}, 1, []string{westAfrica}, nil},
		{"typo one edit", search.Request{Query: "Guatamala"}, 1, []string{prep}, nil},
		{"typo transposition", search.Request{Query: "Bangaldesh"}, 1, []string{bangladesh}, nil},
		{"typo transposition 8 letters", search.Request{Query: "Honduars"}, 1, []string{prep}, nil},
		{"accent folded", search.Request{Query: "México"}, 4, []string{mxAbility, mxGender, mxIndep, observar}, nil},
		{"country from metadata ranks its projects", search.Request{Query: "mexico"}, 4, []string{mxAbility, mxGender, mxIndep, observar}, nil},
		{"demonym", search.Request{Query: "Mexican workplace"}, 1, []string{mxGender}, nil},
		{"two-word country", search.Request{Query: "El Salvador"}, 1, []string{prep}, nil},
		{"region", search.Request{Query: "West Africa"}, 1, []string{westAfrica}, nil},
		{"synonym OSH finds the long form", search.Request{Query: "OSH"}, 4, []string{lesotho, bangladesh}, nil},
		{"synonym long form finds OSH", search.Request{Query: "occupational safety and health"}, 5, []string{prep, lesotho, bangladesh, indoPacific}, nil},
		{"synonym GBVH", search.Request{Query: "GBVH"}, 4, []string{westAfrica, lesotho, bangladesh}, nil},
		{"synonym gig platform", search.Request{Query: "gig"}, 1, []string{southAm}, nil},
		{"synonym QIZ", search.Request{Query: "qualified industrial zone"}, 1, []string{jordan}, nil},
		{"acronym defined in text", search.Request{Query: "CKDnt"}, 1, []string{prep}, nil},
		{"acronym the page defines, long form", search.Request{Query: "chronic kidney disease"}, 1, []string{prep}, nil},
		{"spelling labor finds labour", search.Request{Query: "labor rights Jordan"}, 1, []string{jordan}, nil},
		{"spelling labour finds labor", search.Request{Query: "labour law enforcement"}, 1, []string{engage}, nil},
		{"compound written apart", search.Request{Query: "work place gender"}, 1, []string{mxGender}, nil},
		{"Spanish phrase", search.Request{Query: "trabajadores migrantes"}, 1, []string{migrant}, nil},
		{"Spanish with accent", search.Request{Query: "caña de azúcar"}, 1, []string{sweet}, nil},
		{"Spanish single word", search.Request{Query: "acoso"}, 4, []string{mxGender, westAfrica}, nil},
		{"quoted phrase", search.Request{Query: `"collective bargaining"`}, 4, []string{observar, rise, mxIndep}, []string{migrant}},
		{"exclusion", search.Request{Query: "collective bargaining -Mexico"}, 1, []string{rise}, []string{observar, mxIndep}},
		{"sector words", search.Request{Query: "call center aerospace"}, 1, []string{mxAbility}, nil},
		{"shrimp farming", search.Request{Query: "shrimp farming"}, 1, []string{bangladesh}, nil},
		{"infrastructure", search.Request{Query: "infrastructure Philippines"}, 1, []string{infra}, nil},
		{"initiative page findable", search.Request{Query: "Biden-Harris democratic renewal"}, 1, []string{overview}, nil},
		{"partner page findable", search.Request{Query: "Impactt"}, 1, []string{partnerPage}, nil},
		{"projects above pages for a topic", search.Request{Query: "mining"}, 4, []string{mxAbility, southAm, indoPacific, westAfrica}, nil},
		{"filter country", search.Request{Query: "mining", Filters: map[string][]string{"country": {"Peru"}}}, 1, []string{southAm}, []string{mxAbility, westAfrica}},
		{"filter sector", search.Request{Filters: map[string][]string{"sector": {"Mining"}}}, 5, []string{mxAbility, southAm, indoPacific, westAfrica}, []string{migrant}},
		{"filter region", search.Request{Query: "women", Filters: map[string][]string{"region": {"West Africa"}}}, 1, []string{westAfrica}, []string{mxGender}},
		{"filter area", search.Request{Filters: map[string][]string{"area": {"Migrant Workers"}}}, 1, []string{migrant}, []string{jordan}},
		{"filter kind", search.Request{Filters: map[string][]string{"kind": {"initiative"}}}, 1, []string{overview}, []string{migrant, partnerPage}},
		{"filter status active", search.Request{Query: "mexico", Filters: map[string][]string{"status": {"active"}}}, 4, []string{mxAbility, mxGender, mxIndep}, []string{partnerPage}},
		{"filter status upcoming", search.Request{AsOf: time.Date(2023, 10, 15, 0, 0, 0, 0, time.UTC), Filters: map[string][]string{"status": {"upcoming"}}}, 2, []string{lesotho, rise}, []string{migrant, overview}},
		{"filter partner", search.Request{Filters: map[string][]string{"partner": {"Impactt"}}}, 1, []string{partnerPage}, []string{migrant}},
		{"date window overlap", search.Request{From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)}, 1, []string{migrant}, []string{mxAbility, overview}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			test.req.Facets = []string{}
			test.req.PerPage = 20
			res := mustSearch(t, e, test.req)
			top := titles(res, test.top)
			for _, w := range test.want {
				if !hasPrefixIn(top, w) {
					t.Errorf("%q: want %q in the top %d, got %q", test.req.Query, w, test.top, titles(res, 20))
				}
			}
			all := titles(res, 100)
			for _, w := range test.notWant {
				if hasPrefixIn(all, w) {
					t.Errorf("%q: %q must not match, got %q", test.req.Query, w, all)
				}
			}
		})
	}
}

// TestExactMatchesBeforeTypos: a word the index holds is taken as typed —
// near spellings never compete with it — and a word it lacks is matched by
// its closest spellings.
func TestExactMatchesBeforeTypos(t *testing.T) {
	e := mustSeedEngine(t)
	near := index.Document{ID: "minding", Kind: index.KindProject, Title: "Minding the mixing plants", Description: "Mixing and minding in plants."}
	if err := e.Upsert(context.Background(), []index.Document{near}); err != nil {
		t.Fatal(err)
	}
	exact := mustSearch(t, e, search.Request{Query: "mining ", Facets: []string{}, PerPage: 50})
	for _, h := range exact.Hits {
		if h.ID == near.ID {
			t.Errorf("mining (a word the index holds) also matched %q through a typo", h.Title)
		}
	}
	if exact.Total < 4 {
		t.Errorf("mining found %d documents, want the 4 mining projects at least", exact.Total)
	}
	typo := mustSearch(t, e, search.Request{Query: "minning ", Facets: []string{}, PerPage: 50})
	if typo.DidYouMean != "mining" || !hasPrefixIn(titles(typo, 50), mxAbility) {
		t.Errorf("minning: did_you_mean %q, hits %q; want mining and its projects", typo.DidYouMean, titles(typo, 5))
	}
}

func TestDidYouMean(t *testing.T) {
	e := mustSeedEngine(t)
	tests := []struct{ q, want string }{
		{"Guatamala", "Guatemala"},
		{"garmnet workers", "garment workers"},
		{"organizing", ""}, // a known word is never corrected (and never to a stem)
		{"migr", ""},       // a prefix being typed is not a typo
		{"labor", ""},      // understood through its spelling variant
	}
	for _, test := range tests {
		t.Run(test.q, func(t *testing.T) {
			res := mustSearch(t, e, search.Request{Query: test.q, Facets: []string{}})
			if res.DidYouMean != test.want {
				t.Errorf("did_you_mean for %q = %q, want %q", test.q, res.DidYouMean, test.want)
			}
			if test.want != "" {
				fixed := mustSearch(t, e, search.Request{Query: test.want, Facets: []string{}})
				if fixed.Total == 0 {
					t.Errorf("the corrected query %q finds nothing", test.want)
				}
			}
		})
	}
}

func facetMap(vals []search.FacetValue) map[string]int {
	m := map[string]int{}
	for _, v := range vals {
		m[v.Value] = v.Count
	}
	return m
}

func TestFacetCounts(t *testing.T) {
	e := mustSeedEngine(t)
	res := mustSearch(t, e, search.Request{Filters: map[string][]string{"kind": {"project"}}, Facets: []string{"country", "sector", "status", "kind"}})
	countries := facetMap(res.Facets["country"])
	for c, want := range map[string]int{"Mexico": 4, "Philippines": 2, "Indonesia": 2, "Peru": 1, "El Salvador": 1, "Dominican Republic": 1} {
		if countries[c] != want {
			t.Errorf("country %s = %d, want %d", c, countries[c], want)
		}
	}
	sectors := facetMap(res.Facets["sector"])
	if sectors["Mining"] != 4 || sectors["Textiles, clothing, leather, footwear"] != 3 {
		t.Errorf("sector counts = %v", sectors)
	}
	status := facetMap(res.Facets["status"])
	if status["active"]+status["ended"]+status["upcoming"] != 16 {
		t.Errorf("status counts %v do not add up to the 16 projects", status)
	}
	// As of 2024-06-01: RISE (starts 2023-11-01) is active; Lesotho started 2023-11-15.
	if status["ended"] != 0 || status["upcoming"] != 0 || status["active"] != 16 {
		// The seeds: the earliest end is 2024-11-30 and the latest start 2023-11-15.
		t.Errorf("status as of %s = %v, want all 16 active", asOf.Format("2006-01-02"), status)
	}
	// Facet values are ordered by count, then name.
	vals := res.Facets["country"]
	for i := 1; i < len(vals); i++ {
		a, b := vals[i-1], vals[i]
		if a.Count < b.Count || a.Count == b.Count && a.Value > b.Value {
			t.Errorf("country facet out of order at %d: %v then %v", i, a, b)
		}
	}
}

func TestStatusAsOf(t *testing.T) {
	e := mustSeedEngine(t)
	res := mustSearch(t, e, search.Request{Query: "migrant workers malaysia", AsOf: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Facets: []string{"status"}})
	if len(res.Hits) == 0 || res.Hits[0].Status == nil || *res.Hits[0].Status != search.StatusEnded {
		t.Fatalf("project ending 2026-12-31 seen on 2027-01-01 should be ended: %+v", res.Hits)
	}
	last := mustSearch(t, e, search.Request{Query: "migrant workers malaysia", AsOf: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Facets: []string{}})
	if *last.Hits[0].Status != search.StatusActive {
		t.Errorf("on its last day a project is active, got %s", *last.Hits[0].Status)
	}
	first := mustSearch(t, e, search.Request{Query: "migrant workers malaysia", AsOf: time.Date(2015, 11, 24, 0, 0, 0, 0, time.UTC), Facets: []string{}})
	if *first.Hits[0].Status != search.StatusUpcoming {
		t.Errorf("the day before its start a project is upcoming, got %s", *first.Hits[0].Status)
	}
	pages := mustSearch(t, e, search.Request{Filters: map[string][]string{"kind": {"initiative", "partner"}}, Facets: []string{}})
	for _, h := range pages.Hits {
		if h.Status != nil || h.Start != nil || h.End != nil {
			t.Errorf("%s has no dates but status=%v start=%v end=%v", h.Title, h.Status, h.Start, h.End)
		}
	}
}

func TestDisjunctiveFacets(t *testing.T) {
	e := mustSeedEngine(t)
	res := mustSearch(t, e, search.Request{Filters: map[string][]string{"country": {"Mexico"}}, Facets: []string{"country", "sector"}})
	if res.Total != 5 { // four projects and the partner page, which lists Mexico
		t.Errorf("total with country=Mexico = %d, want 5: %q", res.Total, titles(res, 10))
	}
	countries := facetMap(res.Facets["country"])
	if countries["Peru"] != 2 || countries["Mexico"] != 5 {
		t.Errorf("country counts ignore the country filter: want Peru 2 (project and partner page), Mexico 5, got %v", countries)
	}
	sectors := facetMap(res.Facets["sector"])
	if sectors["Mining"] != 2 { // the Mexico project and the partner page
		t.Errorf("sector counts apply the country filter: want Mining 2, got %v", sectors)
	}
	// OR within a facet, AND across facets.
	or := mustSearch(t, e, search.Request{Filters: map[string][]string{"country": {"Mexico", "Peru"}, "kind": {"project"}}, Facets: []string{}})
	if or.Total != 5 {
		t.Errorf("country Mexico OR Peru projects = %d, want 5", or.Total)
	}
	and := mustSearch(t, e, search.Request{Filters: map[string][]string{"country": {"Mexico", "Peru"}, "sector": {"Mining"}, "kind": {"project"}}, Facets: []string{}})
	if and.Total != 2 {
		t.Errorf("(Mexico OR Peru) AND Mining projects = %d, want 2", and.Total)
	}
	// A selected value is listed even outside the top facet_size.
	small := mustSearch(t, e, search.Request{Filters: map[string][]string{"country": {"Georgia"}}, Facets: []string{"country"}, FacetSize: 1})
	if !hasValueIn(small.Facets["country"], "Georgia") || len(small.Facets["country"]) != 2 {
		t.Errorf("facet_size 1 with Georgia selected = %v, want the top value and Georgia", small.Facets["country"])
	}
}

func hasValueIn(vals []search.FacetValue, v string) bool {
	for _, x := range vals {
		if x.Value == v {
			return true
		}
	}
	return false
}

func TestFiltersDoNotChangeRanking(t *testing.T) {
	e := mustSeedEngine(t)
	all := mustSearch(t, e, search.Request{Query: "workers rights", Facets: []string{}, PerPage: 50})
	mx := mustSearch(t, e, search.Request{Query: "workers rights", Filters: map[string][]string{"country": {"Mexico"}}, Facets: []string{}, PerPage: 50})
	scores := map[string]float64{}
	for _, h := range all.Hits {
		scores[h.ID] = h.Score
	}
	for _, h := range mx.Hits {
		if s, ok := scores[h.ID]; !ok || s != h.Score {
			t.Errorf("%s scored %v filtered, %v unfiltered", h.ID, h.Score, s)
		}
	}
}

func TestHighlights(t *testing.T) {
	e := mustSeedEngine(t)
	res := mustSearch(t, e, search.Request{Query: "migrant", Facets: []string{}})
	h := res.Hits[0]
	if got := h.Highlights["title"]; len(got) == 0 || !strings.Contains(got[0], "<mark>Migrant</mark>") {
		t.Errorf("title highlight = %q", got)
	}
	if got := h.Highlights["description"]; len(got) == 0 || !strings.Contains(got[0], "<mark>migrant</mark>") {
		t.Errorf("description highlight = %q", got)
	}
	off := mustSearch(t, e, search.Request{Query: "migrant", Facets: []string{}, NoHighlight: true})
	if off.Hits[0].Highlights != nil {
		t.Errorf("highlight off still returned %v", off.Hits[0].Highlights)
	}
}

// TestHighlightsOfEveryKindOfMatch: quoted phrases, synonyms, completions
// and the words kept by a relaxed query are all marked on every hit of
// the page, not only the first.
func TestHighlightsOfEveryKindOfMatch(t *testing.T) {
	e := mustSeedEngine(t)
	for _, c := range []struct {
		q, want string
	}{
		{`"occupational safety"`, "<mark>occupational</mark>"},
		{"migra", "<mark>migra"},
		{"mining zzyzzx", "<mark>mining</mark>"},
	} {
		res := mustSearch(t, e, search.Request{Query: c.q, Facets: []string{}})
		if len(res.Hits) == 0 {
			t.Errorf("%s: no hits", c.q)
			continue
		}
		for _, h := range res.Hits {
			if h.Kind != index.KindProject {
				continue
			}
			all := strings.ToLower(strings.Join(append(h.Highlights["title"], h.Highlights["description"]...), " "))
			if !strings.Contains(all, c.want) {
				t.Errorf("%s: %s highlights %q lack %s", c.q, h.ID, all, c.want)
			}
		}
	}
}

func TestHighlightsEscapeHTML(t *testing.T) {
	e := mustSeedEngine(t)
	doc := index.Document{ID: "xss", Kind: index.KindProject, Title: `<script>alert(1)</script> Cocoa`, Description: `<img src=x onerror=alert(1)> cocoa farms`}
	if err := e.Upsert(context.Background(), []index.Document{doc}); err != nil {
		t.Fatal(err)
	}
	res := mustSearch(t, e, search.Request{Query: "cocoa", Facets: []string{}})
	for _, frags := range res.Hits[0].Highlights {
		for _, f := range frags {
			if strings.Contains(f, "<script") || strings.Contains(f, "<img") {
				t.Errorf("highlight not escaped: %q", f)
			}
		}
	}
}

func TestSortAndPaging(t *testing.T) {
	e := mustSeedEngine(t)
	base := search.Request{Filters: map[string][]string{"kind": {"project"}}, Facets: []string{}, PerPage: 100}
	for _, s := range []search.Sort{search.SortStart, search.SortStartDesc, search.SortEnd, search.SortEndDesc, search.SortTitle, search.SortTitleDesc} {
		r := base
		r.Sort = s
		res := mustSearch(t, e, r)
		for i := 1; i < len(res.Hits); i++ {
			a, b := res.Hits[i-1], res.Hits[i]
			var ka, kb string
			switch strings.TrimPrefix(string(s), "-") {
			case "start":
				ka, kb = *a.Start, *b.Start
			case "end":
				ka, kb = *a.End, *b.End
			case "title":
				ka, kb = strings.ToLower(a.Title), strings.ToLower(b.Title)
			}
			if s[0] == '-' && ka < kb || s[0] != '-' && ka > kb {
				t.Errorf("sort %s: %q before %q", s, ka, kb)
			}
		}
	}
	// Pages do not overlap and together give every hit.
	seen := map[string]bool{}
	for page := 1; page <= 4; page++ {
		r := base
		r.PerPage, r.Page, r.Sort = 5, page, "title"
		res := mustSearch(t, e, r)
		for _, h := range res.Hits {
			if seen[h.ID] {
				t.Errorf("%s on two pages", h.ID)
			}
			seen[h.ID] = true
		}
	}
	if len(seen) != 16 {
		t.Errorf("4 pages of 5 gave %d projects, want 16", len(seen))
	}
}

func TestInvalidRequests(t *testing.T) {
	e := mustSeedEngine(t)
	tests := []struct {
		name  string
		req   search.Request
		param string
	}{
		{"q too long", search.Request{Query: strings.Repeat("a", 513)}, "q"},
		{"too many words", search.Request{Query: strings.Repeat("word ", 40)}, "q"},
		{"unknown facet", search.Request{Facets: []string{"colour"}}, "facets"},
		{"unknown filter", search.Request{Filters: map[string][]string{"contry": {"Mexico"}}}, "contry"},
		{"bad status", search.Request{Filters: map[string][]string{"status": {"finished"}}}, "status"},
		{"unknown sort", search.Request{Sort: "budget"}, "sort"},
		{"per_page too big", search.Request{PerPage: 101}, "per_page"},
		{"page negative", search.Request{Page: -1}, "page"},
		{"too deep", search.Request{Page: 1001, PerPage: 10}, "page"},
		{"facet_size too big", search.Request{FacetSize: 501}, "facet_size"},
		{"window reversed", search.Request{From: asOf, To: asOf.AddDate(0, 0, -1)}, "to"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := e.Search(context.Background(), test.req)
			var inv *search.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Search error = %v, want an InvalidError", err)
			}
			if inv.Param != test.param || inv.Message == "" {
				t.Errorf("InvalidError{Param: %q, Message: %q}, want param %q and a message", inv.Param, inv.Message, test.param)
			}
		})
	}
}

func TestMalformedSyntaxFallsBackToWords(t *testing.T) {
	e := mustSeedEngine(t)
	for _, q := range []string{`"migrant workers`, `unknownword migrant`, `- migrant`, `migrant -`, `migr*`, `title:migrant`, `migrant~2`, `migrant^3`, `(migrant)`, `/migr.*/`} {
		res, err := e.Search(context.Background(), search.Request{Query: q, Facets: []string{}})
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		if !hasPrefixIn(titles(res, 1), migrant) {
			t.Errorf("%q: top hit %q, want the migrant project", q, titles(res, 1))
		}
	}
}

func TestWritesChangeAnswers(t *testing.T) {
	e := mustSeedEngine(t)
	ctx := context.Background()
	before := mustSearch(t, e, search.Request{Facets: []string{"country"}, Filters: map[string][]string{"sector": {"Mining"}}})
	doc := index.Document{ID: "new-chile-mining", Kind: index.KindProject, Title: "Safer copper mining in Chile", Description: "Occupational safety and health for copper miners in Chile.", Start: "2024-01-01", End: "2026-01-01"}
	if err := e.Upsert(ctx, []index.Document{doc}); err != nil {
		t.Fatal(err)
	}
	after := mustSearch(t, e, search.Request{Facets: []string{"country"}, Filters: map[string][]string{"sector": {"Mining"}}})
	if facetMap(after.Facets["country"])["Chile"] != 1 || after.Total != before.Total+1 {
		t.Errorf("after a write: total %d -> %d, Chile count %d; enrichment or cache is stale", before.Total, after.Total, facetMap(after.Facets["country"])["Chile"])
	}
	got, err := e.Get(ctx, doc.ID)
	if err != nil || !contains(got.Countries, "Chile") || !contains(got.Sectors, "Mining") {
		t.Errorf("stored document not enriched: %+v, %v", got, err)
	}
	if err := e.Delete(ctx, doc.ID); err != nil {
		t.Fatal(err)
	}
	gone := mustSearch(t, e, search.Request{Facets: []string{"country"}, Filters: map[string][]string{"sector": {"Mining"}}})
	if facetMap(gone.Facets["country"])["Chile"] != 0 || gone.Total != before.Total {
		t.Errorf("after delete: total %d, Chile %d", gone.Total, facetMap(gone.Facets["country"])["Chile"])
	}
	if err := e.Delete(ctx, doc.ID); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	var inv *search.InvalidError
	if err := e.Upsert(ctx, []index.Document{{ID: "bad", Kind: "project", Title: "x", Start: "2020-02-30", End: "2021-01-01"}}); !errors.As(err, &inv) {
		t.Errorf("invalid document = %v, want InvalidError", err)
	}
}

func TestAcronymsLearnedFromWritesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() (*index.Index, *search.Engine) {
		ix, err := index.Open(dir, index.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := search.New(ix, search.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ix, e
	}
	ix, e := open()
	doc := index.Document{ID: "wash", Kind: index.KindProject, Title: "Clean water", Description: "Improving water, sanitation and hygiene (WASH) in schools."}
	if err := e.Upsert(ctx, []index.Document{doc, {ID: "other", Kind: index.KindProject, Title: "Sanitation and hygiene training", Description: "Training on water, sanitation and hygiene for farms."}}); err != nil {
		t.Fatal(err)
	}
	_ = ix.Close()
	ix, e = open()
	defer ix.Close()
	res := mustSearch(t, e, search.Request{Query: "WASH", Facets: []string{}})
	if !hasPrefixIn(titles(res, 5), "Sanitation and hygiene training") {
		t.Errorf("WASH should find the document that only spells out water, sanitation and hygiene: %q", titles(res, 5))
	}
}

func TestSuggest(t *testing.T) {
	e := mustSeedEngine(t)
	res, err := e.Suggest(context.Background(), search.SuggestRequest{Query: "migr", Limit: 8})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	var titleHit bool
	for _, s := range res.Suggestions {
		texts = append(texts, s.Text)
		if s.Kind == "title" && strings.HasPrefix(s.Text, migrant) {
			titleHit = true
		}
		if !strings.Contains(s.Highlight, "<mark>") {
			t.Errorf("suggestion %q has no marked part: %q", s.Text, s.Highlight)
		}
	}
	if len(texts) == 0 || !strings.HasPrefix(texts[0], "migra") {
		t.Errorf("suggestions for migr = %q", texts)
	}
	if !titleHit {
		t.Errorf("no title suggestion for the migrant-workers project in %q", texts)
	}
	// With a short list, completed words fill the places titles leave.
	short, err := e.Suggest(context.Background(), search.SuggestRequest{Query: "migr", Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range short.Suggestions {
		kinds = append(kinds, s.Kind+":"+s.Text)
	}
	if diff := cmp.Diff([]string{"query:migrant", "query:migration", "title:" + migrant + " through Empowerment and Advocacy"}, kinds); diff != "" {
		t.Errorf("suggestions for migr, limit 4 (-want +got):\n%s", diff)
	}
	typo, err := e.Suggest(context.Background(), search.SuggestRequest{Query: "bangaldesh", Limit: 5})
	if err != nil || len(typo.Suggestions) == 0 || typo.Suggestions[0].Text != "bangladesh" {
		t.Errorf("suggestions for a misspelled prefix = %+v, %v", typo, err)
	}
	if _, err := e.Suggest(context.Background(), search.SuggestRequest{Query: "x", Limit: 21}); err == nil {
		t.Error("limit 21 accepted")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestHighlightOffsetsWithMultibyteText(t *testing.T) {
	e := mustSeedEngine(t)
	doc := index.Document{ID: "mb", Kind: index.KindProject, Title: "Café workers’ rights in Perú", Description: "Women’s work in the “mining” sector of Perú and Côte d’Ivoire."}
	if err := e.Upsert(context.Background(), []index.Document{doc}); err != nil {
		t.Fatal(err)
	}
	res := mustSearch(t, e, search.Request{Query: "mining peru cote", Facets: []string{}})
	if len(res.Hits) == 0 || res.Hits[0].ID != "mb" {
		t.Fatalf("accent-folded words did not find the document: %q", titles(res, 3))
	}
	desc := strings.Join(res.Hits[0].Highlights["description"], " ")
	for _, want := range []string{"<mark>mining</mark>", "<mark>Perú</mark>", "<mark>Côte</mark>"} {
		if !strings.Contains(desc, want) {
			t.Errorf("description highlight %q lacks %q", desc, want)
		}
	}
}

func TestFacetCacheNeverServesStaleCounts(t *testing.T) {
	e := mustSeedEngine(t)
	ctx := context.Background()
	req := search.Request{Filters: map[string][]string{"country": {"Mexico"}}, Facets: []string{"country", "sector", "status"}}
	first := mustSearch(t, e, req)
	again := mustSearch(t, e, req) // served from the cache
	if diff := cmp.Diff(first.Facets, again.Facets); diff != "" {
		t.Fatalf("a cached answer differs (-first +again):\n%s", diff)
	}
	doc := index.Document{ID: "chile-copper", Kind: index.KindProject, Title: "Copper mining in Chile", Description: "Mining safety in Chile.", Start: "2020-01-01", End: "2030-01-01"}
	if err := e.Upsert(ctx, []index.Document{doc}); err != nil {
		t.Fatal(err)
	}
	after := mustSearch(t, e, req)
	if got := facetMap(after.Facets["country"])["Chile"]; got != 1 {
		t.Errorf("country facet after a write: Chile = %d, want 1 (stale cache?)", got)
	}
	if err := e.Delete(ctx, doc.ID); err != nil {
		t.Fatal(err)
	}
	if got := facetMap(mustSearch(t, e, req).Facets["country"])["Chile"]; got != 0 {
		t.Errorf("country facet after a delete: Chile = %d, want 0", got)
	}
	// A rebuild replaces everything, and the cache with it.
	if _, err := e.Rebuild(ctx, func(yield func([]index.Document) error) error {
		return yield([]index.Document{doc})
	}); err != nil {
		t.Fatal(err)
	}
	rebuilt := mustSearch(t, e, search.Request{Facets: []string{"country"}})
	if diff := cmp.Diff([]search.FacetValue{{Value: "Chile", Count: 1}}, rebuilt.Facets["country"]); diff != "" {
		t.Errorf("country facet after a rebuild (-want +got):\n%s", diff)
	}
}

// TestEveryHitPassesTheFilters: keyword filters (in the query), status
// and the date window (applied as document sets) hold for every hit, on
// plain, relaxed and browsing requests alike, and the total counts them.
func TestEveryHitPassesTheFilters(t *testing.T) {
	e := mustSeedEngine(t)
	from, to := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, r := range []search.Request{
		{Query: "workers", Filters: map[string][]string{"status": {"ended"}}, AsOf: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Query: "mining zzyzzx", Filters: map[string][]string{"country": {"Mexico", "Peru"}}},
		{Query: "labor rights zzyzzx", Filters: map[string][]string{"status": {"active", "upcoming"}}, AsOf: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)},
		{Query: "workers", From: from, To: to},
		{Filters: map[string][]string{"sector": {"Mining"}, "status": {"ended"}}, AsOf: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{From: from, To: to, Filters: map[string][]string{"country": {"Mexico"}}},
	} {
		r.PerPage, r.Facets = 100, []string{"country", "status"}
		res := mustSearch(t, e, r)
		if res.Total != uint64(len(res.Hits)) {
			t.Errorf("%+v: total %d, %d hits", r, res.Total, len(res.Hits))
		}
		if len(res.Hits) == 0 {
			t.Errorf("%+v: no hits; the case tests nothing", r)
		}
		for _, h := range res.Hits {
			if cs := r.Filters["country"]; cs != nil && !anyOf(h.Countries, cs) {
				t.Errorf("%+v: %s has countries %v", r, h.ID, h.Countries)
			}
			if ss := r.Filters["status"]; ss != nil && (h.Status == nil || !anyOf([]string{*h.Status}, ss)) {
				t.Errorf("%+v: %s has status %v", r, h.ID, h.Status)
			}
			if vs := r.Filters["sector"]; vs != nil && !anyOf(h.Sectors, vs) {
				t.Errorf("%+v: %s has sectors %v", r, h.ID, h.Sectors)
			}
			if !r.From.IsZero() && (h.Start == nil || h.End == nil || *h.Start > to.Format("2006-01-02") || *h.End < from.Format("2006-01-02")) {
				t.Errorf("%+v: %s runs %v to %v, outside the window", r, h.ID, h.Start, h.End)
			}
		}
	}
}

func anyOf(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

// TestFacetCountsMatchTheHits checks the facet counts against the hits
// themselves: each facet counts the documents the same request finds
// without that facet's own filter, each value once per document.
func TestFacetCountsMatchTheHits(t *testing.T) {
	e := mustSeedEngine(t)
	all := []string{"country", "region", "sector", "area", "partner", "kind", "status"}
	values := func(h search.Hit, f string) []string {
		switch f {
		case "country":
			return h.Countries
		case "region":
			return h.Regions
		case "sector":
			return h.Sectors
		case "area":
			return h.Areas
		case "partner":
			return h.Partners
		case "kind":
			return []string{h.Kind}
		}
		if h.Status != nil {
			return []string{*h.Status}
		}
		return nil
	}
	checked := 0
	for _, r := range []search.Request{
		{Facets: all},
		{Query: "workers", Facets: all},
		{Query: "mining", Filters: map[string][]string{"country": {"Peru", "Mexico"}, "status": {"active"}}, Facets: all},
		{Filters: map[string][]string{"sector": {"Mining"}}, AsOf: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), Facets: all},
		{Query: "labor", From: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC), Facets: all},
		{Query: "sugarcane cocoa", Facets: all}, // relaxed
	} {
		r.FacetSize = 500
		got := mustSearch(t, e, r)
		for _, f := range all {
			sub := r
			sub.Filters = map[string][]string{}
			for k, v := range r.Filters {
				if k != f {
					sub.Filters[k] = v
				}
			}
			sub.Facets, sub.PerPage, sub.NoHighlight = []string{}, 100, true
			hits := mustSearch(t, e, sub).Hits
			want := map[string]int{}
			if f == "status" {
				want = map[string]int{"active": 0, "ended": 0, "upcoming": 0}
			}
			for _, h := range hits {
				seen := map[string]bool{}
				for _, v := range values(h, f) {
					if v != "" && !seen[v] {
						seen[v] = true
						want[v]++
					}
				}
			}
			for _, sel := range r.Filters[f] {
				want[sel] += 0
			}
			gotCounts := map[string]int{}
			for _, v := range got.Facets[f] {
				gotCounts[v.Value] = v.Count
			}
			if diff := cmp.Diff(want, gotCounts); diff != "" {
				t.Errorf("%+v: facet %s differs from the %d hits without its filter (-hits +facet):\n%s", r, f, len(hits), diff)
			}
			checked += len(hits)
		}
	}
	if checked < 100 {
		t.Errorf("only %d hits checked", checked)
	}
}

// TestEveryWordOfTheSeedsIsFindable: every fact of the two pages is
// findable, at least by each of its words: searching any word of a seed
// document returns that document.
func TestEveryWordOfTheSeedsIsFindable(t *testing.T) {
	e := mustSeedEngine(t)
	docs, err := seeds.Documents()
	if err != nil {
		t.Fatal(err)
	}
	searched := 0
	for _, d := range docs {
		seen := map[string]bool{}
		for _, w := range strings.FieldsFunc(d.Title+" "+d.Description, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '\'' && r != '$'
		}) {
			w = strings.Trim(w, "-'")
			if w == "" || seen[strings.ToLower(w)] {
				continue
			}
			seen[strings.ToLower(w)] = true
			res := mustSearch(t, e, search.Request{Query: w + " ", Facets: []string{}, PerPage: 100, NoHighlight: true})
			if res.Total == 0 && res.Relaxed == nil {
				// A stop word ("the", "and") is not a fact on its own.
				continue
			}
			searched++
			found := false
			for _, h := range res.Hits {
				found = found || h.ID == d.ID
			}
			if !found {
				t.Errorf("searching %q does not find %q", w, d.Title)
			}
		}
	}
	if searched < 500 {
		t.Errorf("only %d words searched; the seeds hold far more", searched)
	}
}
