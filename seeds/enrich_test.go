package seeds

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mpower/labor-search/index"
)

func mustEnricher(tb testing.TB) *Enricher {
	tb.Helper()
	e, err := NewEnricher()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func mustDocuments(tb testing.TB) []index.Document {
	tb.Helper()
	docs, err := Documents()
	if err != nil {
		tb.Fatal(err)
	}
	return docs
}

// Sector and area names, short.
const (
	agri      = "Agriculture, plantations, other rural sectors"
	textiles  = "Textiles, clothing, leather, footwear"
	mech      = "Mechanical and electrical engineering"
	oilGas    = "Oil and gas production"
	postal    = "Postal and telecommunications services"
	transEq   = "Transport equipment manufacturing"
	capacity  = "Capacity Building"
	gender    = "Gender"
	gbvh      = "GBVH"
	inspect   = "Labor Inspections"
	migrant   = "Migrant Workers"
	nondiscr  = "Non-discrimination"
	osh       = "Occupational Safety and Health (OSH)"
	rural     = "Rural Workers"
	voice     = "Worker Voice"
	rights    = "Workers' Rights"
	latAm     = "Latin America"
	northAm   = "North America"
	southeast = "Southeast Asia"
)

type geoTopics struct {
	Countries, Regions, Sectors, Areas []string
}

// TestEnrichSeedProjects is the enrichment of every seed project: what a
// visitor's facets show for it.
func TestEnrichSeedProjects(t *testing.T) {
	want := map[string]geoTopics{
		"protecting-rights-of-migrant-workers-through-empowerment-and-advocacy": {
			[]string{"Malaysia"}, []string{southeast, "Asia"}, nil, []string{capacity, migrant, voice}},
		"strengthening-workers-ability-to-exercise-their-labor-rights-in-mexico": {
			[]string{"Mexico"}, []string{northAm, latAm}, []string{"Mining", postal, transEq}, []string{capacity, voice, rights}},
		"improving-gender-equity-in-the-mexican-workplace": {
			[]string{"Mexico"}, []string{northAm, latAm}, nil, []string{gender, gbvh, nondiscr, voice}},
		"promoting-safe-and-healthy-workplaces-in-honduras-guatemala-and-el-salvador": {
			[]string{"Honduras", "Guatemala", "El Salvador"}, []string{"Central America", latAm}, []string{agri, textiles}, []string{osh, rural}},
		"building-an-independent-and-democratic-labor-movement-to-protect-worker-rights-in-mexico": {
			[]string{"Mexico"}, []string{northAm, latAm}, nil, []string{capacity, voice, rights}},
		"improving-respect-for-workers-rights-in-bangladesh": {
			[]string{"Bangladesh"}, []string{"South Asia", "Asia"}, []string{agri, "Construction", textiles}, []string{gender, gbvh, osh, rural, rights}},
		"worker-empowerment-in-south-america": {
			[]string{"Brazil", "Colombia", "Peru"}, []string{"South America", latAm}, []string{agri, mech, "Mining", "Platform work"}, []string{rural, voice, rights}},
		"observation-and-engagement-for-freedom-of-association-and-collective-bargaining-rights-realization": {
			[]string{"Mexico"}, []string{northAm, latAm}, nil, []string{capacity, voice, rights}},
		"working-in-freedom-in-jordans-qizs-supporting-fundamental-labour-rights-through-the-al-hassan-work": {
			[]string{"Jordan"}, []string{"Middle East"}, []string{textiles}, []string{voice, rights}},
		"engaging-workers-and-civil-society-to-strengthen-labor-law-enforcement-phase-ii-engage-2": {
			[]string{"Georgia"}, []string{"Europe"}, nil, []string{inspect, rights}},
		"research-innovation-and-strategic-engagement-project": {
			nil, []string{GlobalRegion}, nil, []string{voice, rights}},
		"supporting-safe-and-inclusive-work-environments-in-lesotho": {
			[]string{"Lesotho"}, []string{"Southern Africa", "Africa"}, nil, []string{gender, gbvh, nondiscr, osh}},
		"improving-worker-rights-in-rural-sectors-of-the-indo-pacific-with-a-focus-on-women": {
			[]string{"Philippines", "Indonesia"}, []string{"Indo-Pacific", southeast, "Asia"}, []string{agri, "Mining"}, []string{gender, osh, rural, rights}},
		"promoting-quality-jobs-in-infrastructure-development-in-indonesia-and-the-philippines": {
			[]string{"Indonesia", "Philippines"}, []string{southeast, "Asia"}, []string{"Construction"}, []string{rights}},
		"strengthening-worker-engagement-empowerment-and-trust-dr": {
			[]string{"Dominican Republic"}, []string{"Caribbean", latAm}, []string{agri}, []string{rural, voice}},
		"elevating-womens-participation-in-the-workplace-in-west-africa": {
			[]string{"Liberia", "Nigeria"}, []string{"West Africa", "Africa"}, []string{agri, "Mining", oilGas}, []string{gender, gbvh, nondiscr, rural}},
	}
	got := map[string]geoTopics{}
	for _, d := range mustDocuments(t) {
		if d.Kind == index.KindProject {
			got[d.ID] = geoTopics{d.Countries, d.Regions, d.Sectors, d.Areas}
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("enrichment mismatch (-want +got):\n%s", diff)
	}
}

// TestEnrichSeedFacetCounts pins the facet counts a visitor sees over the 16
// projects.
func TestEnrichSeedFacetCounts(t *testing.T) {
	count := map[string]int{}
	var mexico []string
	for _, d := range mustDocuments(t) {
		if d.Kind != index.KindProject {
			continue
		}
		for _, group := range [][]string{d.Countries, d.Regions, d.Sectors, d.Areas} {
			for _, v := range group {
				count[v]++
			}
		}
		for _, c := range d.Countries {
			if c == "Mexico" {
				mexico = append(mexico, d.Title)
			}
		}
	}
	want := map[string]int{
		"Mexico": 4, "Mining": 4, "Philippines": 2, "Indonesia": 2, textiles: 3,
		"El Salvador": 1, "Dominican Republic": 1, GlobalRegion: 1, "Central America": 1,
		"West Africa": 1, "South America": 1, "United States": 0,
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d projects, want %d", k, count[k], n)
		}
	}
	wantMexico := []string{
		"Strengthening Workers' Ability to Exercise their Labor Rights in Mexico",
		"Improving Gender Equity in the Mexican Workplace",
		"Building an Independent and Democratic Labor Movement to Protect Worker Rights in Mexico",
		"Observation and Engagement for Freedom of Association and Collective Bargaining Rights Realization",
	}
	if diff := cmp.Diff(wantMexico, mexico); diff != "" {
		t.Errorf("Mexico projects mismatch (-want +got):\n%s", diff)
	}
}

func TestEnrichGeography(t *testing.T) {
	e := mustEnricher(t)
	tests := []struct {
		text      string
		countries []string
		regions   []string
	}{
		{"Workers in Papua New Guinea and Equatorial Guinea.", []string{"Papua New Guinea", "Equatorial Guinea"}, []string{"Oceania", "Central Africa", "Africa"}},
		{"Cashew processing in Guinea-Bissau and Guinea.", []string{"Guinea-Bissau", "Guinea"}, []string{"West Africa", "Africa"}},
		{"Oil workers in Nigeria's Niger Delta and uranium miners in Niger.", []string{"Nigeria", "Niger"}, []string{"West Africa", "Africa"}},
		{"Nigerien and Nigerian migrants.", []string{"Niger", "Nigeria"}, []string{"West Africa", "Africa"}},
		{"Refugees from Chad work in Jordan and Turkey.", []string{"Chad", "Jordan", "Turkey"}, []string{"Central Africa", "Africa", "Middle East", "Europe"}},
		{"Chad will jordan the turkey in georgia to guinea china.", []string{"Chad"}, []string{"Central Africa", "Africa"}},
		{"Trade unions in Georgia and Armenia.", []string{"Georgia", "Armenia"}, []string{"Europe"}},
		{"Factories in Mexico City, Estado de México and Querétaro.", []string{"Mexico"}, []string{northAm, latAm}},
		{"Migrants from New Mexico.", nil, []string{GlobalRegion}},
		{"Cocoa farms in Côte d’Ivoire and the Ivory Coast.", []string{"Côte d'Ivoire"}, []string{"West Africa", "Africa"}},
		{"Cocoa farms in Cote d'Ivoire.", []string{"Côte d'Ivoire"}, []string{"West Africa", "Africa"}},
		{"Filipino and Bangladeshi seafarers; Filipinos abroad.", []string{"Philippines", "Bangladesh"}, []string{southeast, "Asia", "South Asia"}},
		{"Funded by the U.S. Department of Labor under the United States-Mexico-Canada Agreement.", nil, []string{GlobalRegion}},
		{"Part of the U.S. Multilateral Partnership; workers in the U.S. and Canada.", []string{"United States", "Canada"}, []string{northAm}},
		{"Sugarcane workers (DR).", nil, []string{GlobalRegion}},
		{"SWEET (DR): sugarcane workers in the Dominican Republic.", []string{"Dominican Republic"}, []string{"Caribbean", latAm}},
		{"Cobalt mining in the DR Congo and the Democratic Republic of the Congo.", []string{"Democratic Republic of the Congo"}, []string{"Central Africa", "Africa"}},
		{"Timber in the Republic of the Congo.", []string{"Republic of the Congo"}, []string{"Central Africa", "Africa"}},
		{"Garment workers in South Africa and Southern Africa.", []string{"South Africa"}, []string{"Southern Africa", "Africa"}},
		{"Projects across Latin America and the Caribbean.", nil, []string{latAm, "Caribbean"}},
		{"Fishing in Southeast Asia and the Indo-Pacific.", nil, []string{southeast, "Asia", "Indo-Pacific"}},
		{"Fishing in South-East Asia.", nil, []string{southeast, "Asia"}},
		{"Sub-Saharan Africa and the Horn of Africa.", nil, []string{"Sub-Saharan Africa", "Africa", "East Africa"}},
		{"Workers in Türkiye and TURKEY.", []string{"Turkey"}, []string{"Europe", "Middle East"}},
		{"Funded by the European Union in Kenya.", []string{"Kenya"}, []string{"East Africa", "Africa"}},
		{"Promoting rights globally.", nil, []string{GlobalRegion}},
		{"ENGAGING WORKERS IN GUATEMALA.", []string{"Guatemala"}, []string{"Central America", latAm}},
	}
	for _, test := range tests {
		d := index.Document{Title: "t", Description: test.text}
		e.Enrich(&d)
		if diff := cmp.Diff(test.countries, d.Countries, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%q countries mismatch (-want +got):\n%s", test.text, diff)
		}
		if diff := cmp.Diff(test.regions, d.Regions, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%q regions mismatch (-want +got):\n%s", test.text, diff)
		}
	}
}

func TestEnrichTopics(t *testing.T) {
	e := mustEnricher(t)
	tests := []struct {
		text     string
		sectors  []string
		areas    []string
		partners []string
	}{
		{"Garments and GARMENT workers.", []string{textiles}, nil, nil},
		{"Strengthening labour inspection in the apparel sector.", []string{textiles}, []string{inspect}, nil},
		{"With the International Labour Organization (ILO) and the Solidarity Center.", nil, nil,
			[]string{"American Center for International Labor Solidarity", "International Labor Organization"}},
		{"The ilo and solidarity centers.", nil, nil, nil},
		{"Civil society organizations and employers' organizations.", nil, nil, nil},
		{"Workers' organizations and trade unions organise.", nil, []string{voice}, nil},
		{"Better Work factories; better work for women.", nil, []string{gender}, []string{"Better Work"}},
		{"Gender-based violence and harassment (GBVH) in tea plantations.", []string{agri}, []string{gender, gbvh, rural}, nil},
		{"Garment manufacturing and electronics manufacturing.", []string{mech, textiles}, nil, nil},
		{"Tobacco farming and tobacco processing.", []string{agri, "Food, drink, tobacco"}, []string{rural}, nil},
		{"Palm oil plantations and the oil sector.", []string{agri, oilGas}, []string{rural}, nil},
		{"Ride-hailing drivers in the gig economy.", []string{"Platform work"}, nil, nil},
		{"Occupational safety and health (OSH) and heat stress.", nil, []string{osh}, nil},
		{"Enforcing the USMCA labor chapter.", nil, []string{"United States-Mexico-Canada Agreement (USMCA)"}, nil},
		{"Part of the U.S. Multilateral Partnership for Organizing, Worker Empowerment, and Rights (M-POWER).", nil, nil, nil},
		{"Call centre and aerospace workers.", []string{postal, transEq}, nil, nil},
		{"A train of events determines the mineral water supply.", []string{"Food, drink, tobacco"}, nil, nil},
		{"Conflict minerals and artisanal miners.", []string{"Mining"}, nil, nil},
		{"Food security for farmers; data mining of food prices.", []string{agri}, []string{rural}, nil},
		{"Workers in food and beverage plants.", []string{"Food, drink, tobacco"}, nil, nil},
	}
	for _, test := range tests {
		d := index.Document{Title: "t", Description: test.text}
		e.Enrich(&d)
		got := []([]string){d.Sectors, d.Areas, d.Partners}
		want := []([]string){test.sectors, test.areas, test.partners}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%q sectors/areas/partners mismatch (-want +got):\n%s", test.text, diff)
		}
	}
}

func TestEnrichKeepsExplicitValues(t *testing.T) {
	e := mustEnricher(t)
	d := index.Document{
		Title:       "Garment workers in Bangladesh",
		Description: "Occupational safety and health with the ILO in Dhaka.",
		Countries:   []string{"India"},
		Sectors:     []string{"Mining"},
		Partners:    []string{"Someone"},
	}
	e.Enrich(&d)
	want := index.Document{
		Title:       d.Title,
		Description: d.Description,
		Countries:   []string{"India"},
		Regions:     []string{"South Asia", "Asia"}, // from the explicit country
		Sectors:     []string{"Mining"},
		Areas:       []string{osh},
		Partners:    []string{"Someone"},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	full := index.Document{Title: "Mexico", Countries: []string{"Peru"}, Regions: []string{"Andes"},
		Sectors: []string{"Mining"}, Areas: []string{gender}, Partners: []string{"Someone"}}
	before := full
	e.Enrich(&full)
	if diff := cmp.Diff(before, full); diff != "" {
		t.Errorf("a complete document in the vocabularies' own terms changed (-want +got):\n%s", diff)
	}
	e.Enrich(nil) // must not panic
}

// TestEnrichCanonicalMetadata: metadata in the writer's words is kept, and
// the canonical values it names are added, so facets agree whatever the
// source; a country's other names become its canonical name.
func TestEnrichCanonicalMetadata(t *testing.T) {
	e := mustEnricher(t)
	tests := []struct {
		name string
		in   index.Document
		want index.Document
	}{
		{"country names", index.Document{Countries: []string{"Viet Nam", "Burma", "Côte d’Ivoire", "Perú", "Atlantis"}},
			index.Document{Countries: []string{"Vietnam", "Myanmar", "Côte d'Ivoire", "Peru", "Atlantis"}}},
		{"the same country twice", index.Document{Countries: []string{"Türkiye", "Turkey"}},
			index.Document{Countries: []string{"Turkey"}}},
		{"sectors in free text", index.Document{Sectors: []string{"Garments", "Artisanal gold mining", "Seafood processing"}},
			index.Document{Sectors: []string{"Garments", "Artisanal gold mining", "Seafood processing", "Food, drink, tobacco", "Mining", "Textiles, clothing, leather, footwear"}}},
		{"a canonical sector is not repeated", index.Document{Sectors: []string{"Mining", "gold mining"}},
			index.Document{Sectors: []string{"Mining", "gold mining"}}},
		{"areas", index.Document{Areas: []string{"Sexual harassment"}},
			index.Document{Areas: []string{"Sexual harassment", gender, "GBVH"}}},
		{"regions", index.Document{Regions: []string{"Western Africa", "Andes"}},
			index.Document{Regions: []string{"Western Africa", "Andes", "West Africa", "Africa"}}},
		{"partners by alias", index.Document{Partners: []string{"ILO"}},
			index.Document{Partners: []string{"ILO", "International Labor Organization"}}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			d := test.in
			d.Title = "x"
			e.canonicalize(&d)
			d.Title = ""
			if diff := cmp.Diff(test.want, d); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnrichConcurrent(t *testing.T) {
	e := mustEnricher(t)
	docs := mustDocuments(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, want := range docs {
				d := index.Document{Kind: want.Kind, Title: want.Title, Description: want.Description,
					Countries: want.Countries, Sectors: want.Sectors, Areas: want.Areas, Partners: want.Partners}
				if want.Kind != index.KindPartner {
					d.Countries, d.Sectors, d.Areas, d.Partners = nil, nil, nil, nil
				}
				e.Enrich(&d)
				if !cmp.Equal(want.Countries, d.Countries, cmpopts.EquateEmpty()) || !cmp.Equal(want.Areas, d.Areas, cmpopts.EquateEmpty()) {
					t.Errorf("%s: concurrent enrichment differs", want.ID)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkEnrich enriches the seed projects, about 60 words each, with
// every field empty.
func BenchmarkEnrich(b *testing.B) {
	e := mustEnricher(b)
	var projects []index.Document
	for _, d := range mustDocuments(b) {
		if d.Kind == index.KindProject {
			projects = append(projects, index.Document{Title: d.Title, Description: d.Description})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := projects[i%len(projects)]
		e.Enrich(&d)
	}
}
