package seeds

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
)

func TestDocuments(t *testing.T) {
	docs := mustDocuments(t)
	page, err := embeddedPartnerPage()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 18 {
		t.Fatalf("got %d documents, want 18", len(docs))
	}
	kinds := map[string]int{}
	ids := map[string]bool{}
	for i, d := range docs {
		kinds[d.Kind]++
		if ids[d.ID] {
			t.Errorf("id %q repeats", d.ID)
		}
		ids[d.ID] = true
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", d.ID, err)
		}
		if d.Kind != index.KindProject {
			continue
		}
		p := page.Projects[i]
		want := index.Document{ID: Slug(p.Title), Kind: index.KindProject, Title: p.Title, Description: p.Description,
			Funder: "United States", Start: p.Start, End: p.End}
		got := d
		got.Countries, got.Regions, got.Sectors, got.Areas, got.Partners = nil, nil, nil, nil, nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("project %d mismatch (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff(map[string]int{index.KindProject: 16, index.KindInitiative: 1, index.KindPartner: 1}, kinds); diff != "" {
		t.Errorf("kinds mismatch (-want +got):\n%s", diff)
	}
	if !ids["strengthening-worker-engagement-empowerment-and-trust-dr"] || !ids["m-power"] || !ids["partner-united-states"] {
		t.Errorf("ids %v lack a stable expected one", ids)
	}
}

func TestOverviewDocumentKeepsEveryWord(t *testing.T) {
	raw, err := files.ReadFile(overviewPageFile)
	if err != nil {
		t.Fatal(err)
	}
	var d index.Document
	for _, doc := range mustDocuments(t) {
		if doc.ID == "m-power" {
			d = doc
		}
	}
	if d.Kind != index.KindInitiative || d.Title != "M-POWER" || d.Start != "" || d.End != "" {
		t.Fatalf("overview = %+v", d)
	}
	if strings.ContainsAny(d.Description, "\u00a0\u2022\u2019\r") || strings.Contains(d.Description, "  ") {
		t.Errorf("description keeps NBSP, bullets, curly apostrophes or double spaces")
	}
	// Cleaning changes spacing and marks only: the words, in order, are the page's.
	keys := func(s string) []string {
		var out []string
		for _, tok := range tokenize(strings.ReplaceAll(s, "\u2022", " ")) {
			out = append(out, tok.key)
		}
		return out
	}
	if diff := cmp.Diff(keys(string(raw)), keys(d.Description)); diff != "" {
		t.Errorf("words differ (-page +description):\n%s", diff)
	}
	for _, fact := range []string{"$130 million", "December 8, 2022", "International Trade Union Confederation (ITUC)",
		"Workers access ILO Fundamental Principles and Rights at Work.", "Fundación Avina"} {
		if !strings.Contains(d.Description, fact) {
			t.Errorf("description lacks %q", fact)
		}
	}
	if !slices.Contains(d.Partners, "International Trade Union Confederation") {
		t.Errorf("partners %q lack the ITUC", d.Partners)
	}
}

func TestPartnerDocument(t *testing.T) {
	page, err := embeddedPartnerPage()
	if err != nil {
		t.Fatal(err)
	}
	var d index.Document
	for _, doc := range mustDocuments(t) {
		if doc.Kind == index.KindPartner {
			d = doc
		}
	}
	if d.ID != "partner-united-states" || d.Title != "United States" {
		t.Errorf("partner id %q title %q", d.ID, d.Title)
	}
	got := [][]string{d.Areas, d.Sectors, d.Partners, d.Countries}
	want := [][]string{page.Areas, page.Sectors, page.Partners, page.Countries}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lists mismatch (-page +document):\n%s", diff)
	}
	for _, list := range want {
		for _, item := range list {
			if !strings.Contains(d.Description, item) {
				t.Errorf("description does not state %q", item)
			}
		}
	}
}

func TestCleanText(t *testing.T) {
	in := "\ufeffTitle\r\n\r\n  \u2022 First\u00a0item;  \r\n  - second  item\r\n* third\n-5% growth\n\n\nWorkers\u2019 voice\u00a0\u00a0matters"
	want := "Title\nFirst item;\nsecond item\nthird\n-5% growth\nWorkers' voice matters"
	if got := CleanText(in); got != want {
		t.Errorf("CleanText = %q, want %q", got, want)
	}
}
