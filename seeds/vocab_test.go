package seeds

import (
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Occupational Safety and Health", "occupational safety and health"},
		{"  Gender-based   violence ", "gender based violence"},
		{"Caña de azúcar", "cana de azucar"},
		{"Workers’ Rights", "workers rights"},
		{"workers' rights", "workers rights"},
		{"Côte d'Ivoire", "cote ivoire"},
		{"L’Enfant qu'il aide", "enfant il aide"},
		{"rock 'n' roll", "rock n roll"},
		{"U.S. Department of Labor", "u s department of labor"},
		{"COVID-19", "covid 19"},
		{"Straße\u00a0Œuvre", "strasse oeuvre"},
		{"¿Trabajo forzoso?", "trabajo forzoso"},
		{"", ""},
	}
	for _, test := range tests {
		if got := Normalize(test.in); got != test.want {
			t.Errorf("Normalize(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Strengthening Workers' Ability to Exercise their Labor Rights in Mexico", "strengthening-workers-ability-to-exercise-their-labor-rights-in-mexico"},
		{"Working in Freedom in Jordan’s QIZs: supporting", "working-in-freedom-in-jordans-qizs-supporting"},
		{"Strengthening Worker Engagement, Empowerment, and Trust (DR)", "strengthening-worker-engagement-empowerment-and-trust-dr"},
		{"Côte d’Ivoire — Phase II", "cote-divoire-phase-ii"},
		{"Trabajo 北京 decente", "trabajo-decente"},
	}
	for _, test := range tests {
		if got := Slug(test.in); got != test.want {
			t.Errorf("Slug(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func mustSynonyms(tb testing.TB) map[string][]string {
	tb.Helper()
	syn, err := Synonyms()
	if err != nil {
		tb.Fatal(err)
	}
	return syn
}

func TestSynonyms(t *testing.T) {
	syn := mustSynonyms(t)
	tests := []struct {
		from    string
		want    []string // must be among the expansions
		notWant []string
	}{
		// domain synonyms, both directions
		{"osh", []string{"occupational safety and health", "occupational health and safety"}, nil},
		{"occupational safety and health", []string{"osh"}, nil},
		{"gbvh", []string{"gender based violence and harassment"}, nil},
		{"gender based violence and harassment", []string{"gbvh"}, nil},
		{"gig", []string{"platform"}, nil},
		{"platform", []string{"gig"}, nil},
		{"foa", []string{"freedom of association"}, nil},
		{"freedom of association", []string{"foa"}, nil},
		{"ckdnt", []string{"chronic kidney disease of non traditional causes"}, nil},
		{"qiz", []string{"qualified industrial zone"}, nil},
		{"usmca", []string{"united states mexico canada agreement"}, nil},
		{"united states mexico canada agreement", []string{"usmca"}, nil},
		{"ilo", []string{"international labor organization"}, nil},
		// spelling, both directions
		{"labour", []string{"labor"}, nil},
		{"labor", []string{"labour"}, nil},
		{"organisation", []string{"organization"}, nil},
		{"organizing", []string{"organising"}, nil},
		{"programme", []string{"program"}, nil},
		{"work place", []string{"workplace"}, nil},
		{"workplace", []string{"work place"}, nil},
		{"healthcare", []string{"health care"}, nil},
		// a phrase in every spelling of its words
		{"ilo", []string{"international labor organization", "international labour organization"}, nil},
		{"international labour organization", []string{"ilo"}, nil},
		// countries by any name, demonyms
		{"burma", []string{"myanmar", "birmania"}, nil},
		{"ivory coast", []string{"cote ivoire", "costa do marfim"}, nil},
		{"myanmar", []string{"burma", "burmese"}, nil},
		// translations are not synonyms
		{"migrant workers", []string{"foreign workers"}, []string{"trabajadores migrantes"}},
		{"trabajo forzoso", nil, []string{"forced labor"}},
		// no chaining through a shared phrase
		{"compulsory labor", []string{"forced labor"}, []string{"modern slavery"}},
	}
	for _, test := range tests {
		got := syn[test.from]
		for _, w := range test.want {
			if !slices.Contains(got, w) {
				t.Errorf("Synonyms()[%q] = %q, want it to contain %q", test.from, got, w)
			}
		}
		for _, w := range test.notWant {
			if slices.Contains(got, w) {
				t.Errorf("Synonyms()[%q] = %q, must not contain %q", test.from, got, w)
			}
		}
	}
}

func TestTranslations(t *testing.T) {
	tr, err := Translations()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from    string
		want    []string // must be among the expansions
		notWant []string
	}{
		// one way, with the English phrase's own synonyms and spellings
		{"trabajadores migrantes", []string{"migrant workers", "foreign workers"}, nil},
		{"trabajo forzoso", []string{"forced labor", "forced labour"}, nil},
		{"acoso", []string{"harassment"}, nil},
		{"cana de azucar", []string{"sugarcane", "sugar cane"}, nil},
		{"seguridad y salud", []string{"occupational safety and health", "osh"}, nil},
		{"sindicato", []string{"union", "trade union"}, nil},
		{"negociacion colectiva", []string{"collective bargaining"}, nil},
		{"trabajo infantil", []string{"child labor", "child labour"}, nil},
		{"mujeres", []string{"women"}, nil},
		{"mineria", []string{"mining"}, nil},
		{"travailleurs migrants", []string{"migrant workers"}, nil},
		{"travail des enfants", []string{"child labor", "child labour"}, nil},
		{"trabalho escravo", []string{"forced labor"}, nil},
		{"trabalhadores domesticos", []string{"domestic workers"}, nil},
		// everyday words, one way
		{"kids", []string{"children"}, nil},
		{"seafood", []string{"fishing"}, nil},
		{"apparel", []string{"garment"}, nil},
		{"children", nil, []string{"kids"}},
		{"forced labor", nil, []string{"trabajo forzoso", "trabajo forzado"}},
		{"child labour", nil, []string{"trabajo infantil"}},
	}
	for _, test := range tests {
		got := tr[test.from]
		for _, w := range test.want {
			if !slices.Contains(got, w) {
				t.Errorf("Translations()[%q] = %q, want it to contain %q", test.from, got, w)
			}
		}
		for _, w := range test.notWant {
			if slices.Contains(got, w) {
				t.Errorf("Translations()[%q] = %q, must not contain %q", test.from, got, w)
			}
		}
	}
}

func TestSynonymsShape(t *testing.T) {
	syn := mustSynonyms(t)
	for k, vs := range syn {
		if Normalize(k) != k {
			t.Errorf("key %q is not normalised", k)
		}
		if !sort.StringsAreSorted(vs) || len(slices.Compact(slices.Clone(vs))) != len(vs) {
			t.Errorf("%q: values %q are not sorted and unique", k, vs)
		}
		for _, v := range vs {
			if v == k || Normalize(v) != v {
				t.Errorf("%q: value %q is the key itself or not normalised", k, v)
			}
		}
	}
	// Every pair of a two-way group appears in both directions.
	for _, name := range []string{synonymsFile, spellingFile} {
		groups, err := readGroups(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			for _, a := range g {
				for _, b := range g {
					if a != b && !slices.Contains(syn[a], b) {
						t.Errorf("%s: %q does not expand to %q", name, a, b)
					}
				}
			}
		}
	}
	spanish, err := readRecords(spanishFile, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	spelling, err := readList(spellingFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(spanish) < 300 || len(spelling) < 100 {
		t.Errorf("%d Spanish terms and %d spelling groups, want at least 300 and 100", len(spanish), len(spelling))
	}
}

func TestVocabulary(t *testing.T) {
	v, err := Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	page, err := embeddedPartnerPage()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Countries) < 200 {
		t.Errorf("%d countries, want the world's (at least 200)", len(v.Countries))
	}
	region := map[string]string{}
	for _, c := range v.Countries {
		region[c.Name] = c.Region
	}
	for name, want := range map[string]string{
		"El Salvador": "Central America", "Mexico": "North America", "Brazil": "South America",
		"Dominican Republic": "Caribbean", "Liberia": "West Africa", "Lesotho": "Southern Africa",
		"Jordan": "Middle East", "Bangladesh": "South Asia", "Philippines": "Southeast Asia",
		"China": "East Asia", "Georgia": "Europe", "Fiji": "Oceania", "Kazakhstan": "Central Asia",
		"Egypt": "North Africa", "Kenya": "East Africa", "Cameroon": "Central Africa", "Canada": "North America",
	} {
		if region[name] != want {
			t.Errorf("%s: region %q, want %q", name, region[name], want)
		}
	}
	// The partner page's lists are in the vocabularies, so its countries
	// get regions and a search by any listed value has a facet to land on.
	for _, c := range page.Countries {
		if _, ok := region[c]; !ok {
			t.Errorf("covered country %q is not in %s", c, countriesFile)
		}
	}
	if diff := cmp.Diff(page.Sectors, v.Sectors); diff != "" {
		t.Errorf("sectors mismatch (-page +vocabulary):\n%s", diff)
	}
	if diff := cmp.Diff(page.Areas, v.Areas); diff != "" {
		t.Errorf("areas mismatch (-page +vocabulary):\n%s", diff)
	}
	for _, p := range page.Partners {
		if !slices.Contains(v.Partners, p) {
			t.Errorf("implementation partner %q is not in %s", p, partnersFile)
		}
	}
}

// TestKeywordTablesUseThePageLists: enrichment maps onto the partner page's
// own sector and area lists, nothing else.
func TestKeywordTablesUseThePageLists(t *testing.T) {
	page, err := embeddedPartnerPage()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		file   string
		column int
		list   []string
	}{
		{sectorKeywordsFile, 0, page.Sectors},
		{areaKeywordsFile, 0, page.Areas},
		{sectorAreasFile, 0, page.Sectors},
		{sectorAreasFile, 1, page.Areas},
	} {
		recs, err := readRecords(f.file, 2, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if v := r.fields[f.column]; !slices.Contains(f.list, v) {
				t.Errorf("%s:%d: %q is not on the partner page's list", f.file, r.line, v)
			}
		}
	}
}

// TestGlossaries: the portal's other languages are covered by at least a
// thousand terms of the field, and every term maps to English that is not
// the term itself (a line that only repeats its key matches nothing new).
func TestGlossaries(t *testing.T) {
	entries, err := readGlossaries(languageGlossaries)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 1000 {
		t.Errorf("the Spanish, French and Portuguese glossaries hold %d entries, want at least 1,000", len(entries))
	}
	for _, g := range entries {
		if g.term == g.english {
			t.Errorf("glossary term %q maps to itself", g.term)
		}
	}
}

// TestConventions: the ways texts cite an ILO convention reach each other.
func TestConventions(t *testing.T) {
	syn, err := Synonyms()
	if err != nil {
		t.Fatal(err)
	}
	for from, want := range map[string]string{
		"c190":                   "convention no 190",
		"convention 87":          "c87",
		"convenio 189":           "domestic workers convention",
		"minimum age convention": "c138",
	} {
		if !slices.Contains(syn[from], want) {
			t.Errorf("Synonyms()[%q] = %q, want it to contain %q", from, syn[from], want)
		}
	}
}
