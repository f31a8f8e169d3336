package seeds

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustPage(tb testing.TB) string {
	tb.Helper()
	b, err := files.ReadFile(partnerPageFile)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// lineOf is the 1-based line of the first line of text containing substr.
func lineOf(tb testing.TB, text, substr string) int {
	tb.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			return i + 1
		}
	}
	tb.Fatalf("%q not in text", substr)
	return 0
}

func mustReplaceOnce(tb testing.TB, text, old, new string) string {
	tb.Helper()
	if strings.Count(text, old) != 1 {
		tb.Fatalf("%q occurs %d times, want once", old, strings.Count(text, old))
	}
	return strings.Replace(text, old, new, 1)
}

func TestParsePartnerPageSeed(t *testing.T) {
	page, err := ParsePartnerPage(mustPage(t))
	if err != nil {
		t.Fatal(err)
	}
	want := &PartnerPage{
		Name: "United States",
		Areas: []string{"Capacity Building", "Gender", "GBVH", "Labor Inspections", "Migrant Workers",
			"Non-discrimination", "Occupational Safety and Health (OSH)", "Rural Workers", "Worker Voice",
			"Workers' Rights", "United States-Mexico-Canada Agreement (USMCA)"},
		Sectors: []string{"Agriculture, plantations, other rural sectors", "Construction", "Food, drink, tobacco",
			"Mechanical and electrical engineering", "Mining", "Oil and gas production", "Platform work",
			"Postal and telecommunications services", "Textiles, clothing, leather, footwear",
			"Transport (including civil aviation, railways, road transport)", "Transport equipment manufacturing"},
		Partners: []string{"American Center for International Labor Solidarity", "Impactt",
			"International Labor Organization", "La Isla Network", "Partners of the Americas"},
		Countries: []string{"Bangladesh", "Brazil", "Colombia", "Dominican Republic", "Georgia", "Guatemala",
			"Honduras", "Indonesia", "Jordan", "Lesotho", "Liberia", "Malaysia", "Mexico", "Nigeria", "Peru",
			"Philippines"},
	}
	got := *page
	got.Projects = nil
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("header mismatch (-want +got):\n%s", diff)
	}
	if len(page.Projects) != 16 {
		t.Fatalf("got %d projects, want 16", len(page.Projects))
	}
	first := Project{
		Title:       "Protecting Rights of Migrant Workers through Empowerment and Advocacy",
		Description: "The project builds the capacity of workers' organizations or other civil society organizations to assist foreign migrant workers in Malaysia.",
		Start:       "2015-11-25",
		End:         "2026-12-31",
		Line:        13,
	}
	if diff := cmp.Diff(first, page.Projects[0]); diff != "" {
		t.Errorf("first project mismatch (-want +got):\n%s", diff)
	}
	last := page.Projects[15]
	if last.Title != "Elevating Women's Participation in the Workplace in West Africa" || last.Start != "2022-12-01" || last.End != "2026-12-01" {
		t.Errorf("last project = %+v", last)
	}
	for _, p := range page.Projects {
		if strings.ContainsAny(p.Title+p.Description, "\u00a0\u2019\n") || strings.Contains(p.Description, "  ") {
			t.Errorf("project %q keeps NBSP, curly apostrophes, newlines or double spaces", p.Title)
		}
	}
}

// TestParsePartnerPageVariants checks that formatting noise does not change
// the result, and that a malformed page fails with the line it breaks on.
func TestParsePartnerPageVariants(t *testing.T) {
	seed := mustPage(t)
	want, err := ParsePartnerPage(seed)
	if err != nil {
		t.Fatal(err)
	}
	lesotho := lineOf(t, seed, "Supporting Safe and Inclusive Work Environments in Lesotho")
	sweetDates := lineOf(t, seed, "Start:\u00a02022-12-15 End:\u00a02026-12-14")
	sectors := lineOf(t, seed, "Sectors:")
	last := lineOf(t, seed, "Elevating Women's Participation in the Workplace in West Africa")

	tests := []struct {
		name    string
		edit    func(testing.TB, string) string
		wantErr string // "" = same result as the seed page
	}{
		{"seed", func(_ testing.TB, s string) string { return s }, ""},
		{"CRLF line endings", func(_ testing.TB, s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }, ""},
		{"plain spaces instead of NBSP", func(_ testing.TB, s string) string { return strings.ReplaceAll(s, "\u00a0", " ") }, ""},
		{"NBSP everywhere", func(_ testing.TB, s string) string {
			return strings.ReplaceAll(strings.ReplaceAll(s, " ", "\u00a0"), "\u00a0\u2022", " \u2022")
		}, ""},
		{"curly apostrophes everywhere", func(_ testing.TB, s string) string { return strings.ReplaceAll(s, "'", "\u2019") }, ""},
		{"extra blank lines", func(_ testing.TB, s string) string {
			return "\n\n" + strings.ReplaceAll(s, "\n\n", "\n\n\n \n\u00a0\n") + "\n\n\n"
		}, ""},
		{"no blank lines in blocks", func(_ testing.TB, s string) string {
			head, body, _ := strings.Cut(s, "\n\n\n")
			return head + "\n\n\n" + strings.ReplaceAll(body, "\n\n", "\n")
		}, ""},
		{"odd spacing in lists", func(tb testing.TB, s string) string {
			s = mustReplaceOnce(tb, s, "  \u2022 Sectors: Agriculture, plantations,", "\u2022Sectors :\tAgriculture,plantations ,")
			return mustReplaceOnce(tb, s, "Food, drink, tobacco, Mechanical", "Food,   drink,tobacco,  Mechanical")
		}, ""},
		{"description wrapped over lines", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "to assist foreign migrant workers", "to assist\nforeign migrant workers")
		}, ""},
		{"missing dates", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "Start:\u00a02023-11-15 End:\u00a02028-05-14\n", "")
		}, fmt.Sprintf("line %d: project %q has no \"Start: YYYY-MM-DD End: YYYY-MM-DD\" line", lesotho, "Supporting Safe and Inclusive Work Environments in Lesotho")},
		{"missing dates in the last block", func(_ testing.TB, s string) string {
			return s[:strings.LastIndex(s, "Start:")]
		}, fmt.Sprintf("line %d: project %q has no", last, "Elevating Women's Participation in the Workplace in West Africa")},
		{"date that does not parse", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "2022-12-15 End:\u00a02026-12-14", "2022-13-45 End:\u00a02026-12-14")
		}, fmt.Sprintf("line %d: project %q: start date \"2022-13-45\" is not a YYYY-MM-DD date", sweetDates, "Strengthening Worker Engagement, Empowerment, and Trust (DR)")},
		{"date in another format", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "End:\u00a02026-12-14", "End: 12/14/2026")
		}, fmt.Sprintf("line %d: project %q: end date \"12/14/2026\" is not a YYYY-MM-DD date", sweetDates, "Strengthening Worker Engagement, Empowerment, and Trust (DR)")},
		{"end before start", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "End:\u00a02026-12-14", "End: 2021-01-01")
		}, fmt.Sprintf("line %d: project %q: end date 2021-01-01 is before start date 2022-12-15", sweetDates, "Strengthening Worker Engagement, Empowerment, and Trust (DR)")},
		{"start without end", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "Start:\u00a02022-12-15 End:\u00a02026-12-14", "Start: 2022-12-15")
		}, fmt.Sprintf("line %d: project %q: want \"Start: YYYY-MM-DD End: YYYY-MM-DD\"", sweetDates, "Strengthening Worker Engagement, Empowerment, and Trust (DR)")},
		{"sector not in the vocabulary", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "Construction, Food", "Construction, Space tourism, Food")
		}, fmt.Sprintf("line %d: sector \"Space tourism\" is not in the sector vocabulary", sectors)},
		{"unknown list", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "  \u2022 Countries Covered:", "  \u2022 Budget: 10\n  \u2022 Countries Covered:")
		}, fmt.Sprintf("line %d: want a list", sectors+2)},
		{"unbalanced parenthesis", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "road transport),", "road transport,")
		}, fmt.Sprintf("line %d: Sectors: unclosed '('", sectors)},
		{"no partner name", func(tb testing.TB, s string) string {
			return mustReplaceOnce(tb, s, "\nUnited States\n", "\n\n")
		}, "no partner name before the lists"},
		{"dates without a title", func(tb testing.TB, s string) string {
			head, body, _ := strings.Cut(s, "\n\n\n")
			return head + "\n\n\nStart: 2020-01-01 End: 2021-01-01\n" + body
		}, fmt.Sprintf("line %d: a Start/End line without a project title", lineOf(t, seed, "Countries Covered")+3)},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := ParsePartnerPage(test.edit(t, seed))
			if test.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), test.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, test.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Line numbers move with the edits; everything else must not.
			ignoreLines := cmp.Transformer("noLines", func(ps []Project) []Project {
				out := append([]Project(nil), ps...)
				for i := range out {
					out[i].Line = 0
				}
				return out
			})
			if diff := cmp.Diff(want, got, ignoreLines); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Mining, Construction", []string{"Mining", "Construction"}},
		{"Food, drink, tobacco, Mining", []string{"Food, drink, tobacco", "Mining"}},
		{"Transport (including civil aviation, railways, road transport), Mining (coal, other mining)",
			[]string{"Transport (including civil aviation, railways, road transport)", "Mining (coal, other mining)"}},
		{" Utilities (water, gas, electricity) ,Public service,, ", []string{"Utilities (water, gas, electricity)", "Public service"}},
		{"Oil and gas production, oil refining, Commerce", []string{"Oil and gas production, oil refining", "Commerce"}},
		{"", nil},
	}
	for _, test := range tests {
		got, err := splitList(test.in)
		if err != nil {
			t.Errorf("splitList(%q): %v", test.in, err)
			continue
		}
		if diff := cmp.Diff(test.want, got); diff != "" {
			t.Errorf("splitList(%q) mismatch (-want +got):\n%s", test.in, diff)
		}
	}
}
