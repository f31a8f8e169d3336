package search_test

import (
	"testing"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// vocabularyCorpus holds records written the way project texts cite things
// (a convention by number with a stop word inside, the field's words for
// populations and industries), with a decoy for each case that shares a
// word with the query but not its meaning.
func vocabularyCorpus() []index.Document {
	doc := func(id, title, desc string, countries ...string) index.Document {
		return index.Document{ID: id, Kind: index.KindProject, Title: title, Description: desc, Countries: countries}
	}
	return []index.Document{
		doc("hotels", "Harassment-free hotels", "Employers adopt policies in line with ILO Convention No. 190, with panic buttons for housekeepers."),
		doc("ratify", "Ratification campaign", "Supports ratification of the Violence and Harassment Convention, 2019 (C190)."),
		doc("c87", "Union law review", "Reviewed the trade union law against ILO Convention No. 87 on freedom of association."),
		doc("mica", "Mica mining without child labour", "Children leave the mica pits for school.", "Madagascar"),
		doc("quarry-adults", "Quarry safety", "Dust masks for adult quarry workers.", "India"),
		doc("fishers", "Migrant fishers' support", "Pre-departure training for fishers on distant-water vessels.", "Indonesia"),
		doc("garment", "Garment factory unions", "Organising in garment factories.", "Cambodia"),
		doc("coffee", "Coffee farms", "Harvest workers on coffee farms.", "Brazil"),
		doc("forced", "Forced labour in cattle ranching", "Labour inspectors free workers from forced labour.", "Brazil"),
		doc("migrants", "Migrant workers' rights", "Legal aid for migrant workers.", "Thailand"),
		doc("kids-club", "Youth football club", "A club for youth."),
		{ID: "tagged", Kind: index.KindProject, Title: "Erradicación del criadazgo", Description: "Niñas enviadas a vivir con otra familia.", Areas: []string{"Child labour"}},
	}
}

// TestVocabularies: a visitor's everyday word, a convention's number, or a
// French or Portuguese term reaches the records that use the field's
// English words, and not the decoys.
func TestVocabularies(t *testing.T) {
	e := mustEngineOver(t, vocabularyCorpus())
	tests := []struct {
		name    string
		q       string
		want    []string // the first hits, in any order
		notWant []string // never hits
	}{
		{"convention by C-number reaches 'Convention No. 190'", "C190", []string{"hotels", "ratify"}, []string{"c87"}},
		{"convention cited with No. reaches C-number", "Convention 87", []string{"c87"}, nil},
		{"everyday word for children", "kids mining", []string{"mica"}, []string{"kids-club"}},
		{"everyday word for an industry", "seafood", []string{"fishers"}, []string{"coffee"}},
		{"everyday word for garment", "apparel Cambodia", []string{"garment"}, nil},
		{"French population", "travailleurs migrants", []string{"migrants"}, []string{"garment"}},
		{"French issue", "travail forcé", []string{"forced"}, []string{"migrants"}},
		{"Portuguese issue", "trabalho forçado", []string{"forced"}, []string{"migrants"}},
		{"Portuguese commodity", "café", []string{"coffee"}, []string{"forced"}},
		{"Spanish demonym", "trabajadores tailandeses", []string{"migrants"}, nil},
		{"French country name CLDR has", "Cambodge", []string{"garment"}, nil},
		{"translation reaches a metadata value", "trabajo infantil", []string{"mica", "tagged"}, []string{"forced"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			res := mustSearch(t, e, search.Request{Query: test.q, PerPage: 20, Facets: []string{}})
			got := ids(res)
			first := got[:min(len(test.want), len(got))]
			for _, w := range test.want {
				if !contains(first, w) {
					t.Errorf("%q: want %s among the first %d hits, got %v", test.q, w, len(test.want), got)
				}
			}
			for _, w := range test.notWant {
				if contains(got, w) {
					t.Errorf("%q: %s is not about it, got %v", test.q, w, got)
				}
			}
		})
	}
}
