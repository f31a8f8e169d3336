// Package seeds turns the two M-POWER source pages into index documents and
// holds the vocabularies that enrich every document (countries, regions,
// sectors, areas of work, partners) and expand queries (synonyms, spelling
// variants, Spanish terms). Pages and vocabularies are data files embedded in
// the binary; see README.md for the rules.
package seeds

import (
	"embed"
	"fmt"
	"strings"

	"github.com/mpower/labor-search/index"
)

//go:embed pages/*.txt data/*
var files embed.FS

const (
	partnerPageFile  = "pages/mpower-partner-united-states.txt"
	overviewPageFile = "pages/mpower-initiative-overview.txt"

	// The overview page has no heading of its own: it is the page of the
	// initiative itself.
	overviewID    = "m-power"
	overviewTitle = "M-POWER"
)

func embeddedPartnerPage() (*PartnerPage, error) {
	b, err := files.ReadFile(partnerPageFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", partnerPageFile, err)
	}
	page, err := ParsePartnerPage(string(b))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", partnerPageFile, err)
	}
	return page, nil
}

// Documents returns the seed documents, enriched: every project of the
// partner page, the initiative overview and the partner profile.
func Documents() ([]index.Document, error) {
	page, err := embeddedPartnerPage()
	if err != nil {
		return nil, err
	}
	overview, err := files.ReadFile(overviewPageFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", overviewPageFile, err)
	}
	enricher, err := NewEnricher()
	if err != nil {
		return nil, err
	}

	docs := make([]index.Document, 0, len(page.Projects)+2)
	seen := map[string]int{}
	for _, p := range page.Projects {
		id := Slug(p.Title)
		// Titles are unique on the page; a repeated one still gets its own id.
		if seen[id]++; seen[id] > 1 {
			id = fmt.Sprintf("%s-%d", id, seen[id])
		}
		docs = append(docs, index.Document{
			ID:          id,
			Kind:        index.KindProject,
			Title:       p.Title,
			Description: p.Description,
			Funder:      page.Name,
			Start:       p.Start,
			End:         p.End,
		})
	}
	docs = append(docs, index.Document{
		ID:          overviewID,
		Kind:        index.KindInitiative,
		Title:       overviewTitle,
		Description: CleanText(string(overview)),
	})
	docs = append(docs, partnerDocument(page))

	for i := range docs {
		enricher.Enrich(&docs[i])
		if err := docs[i].Validate(); err != nil {
			return nil, fmt.Errorf("seed document %q: %w", docs[i].ID, err)
		}
	}
	return docs, nil
}

// partnerDocument is the partner profile. Its description states the lists
// in words, so a search for any listed fact finds the profile.
func partnerDocument(page *PartnerPage) index.Document {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is a partner of M-POWER.", page.Name)
	for _, l := range []struct {
		label string
		items []string
	}{
		{"Areas of work", page.Areas},
		{"Sectors", page.Sectors},
		{"Implementation partners", page.Partners},
		{"Countries covered", page.Countries},
	} {
		if len(l.items) > 0 {
			fmt.Fprintf(&b, "\n%s: %s.", l.label, strings.Join(l.items, "; "))
		}
	}
	return index.Document{
		ID:          "partner-" + Slug(page.Name),
		Kind:        index.KindPartner,
		Title:       page.Name,
		Description: b.String(),
		Areas:       page.Areas,
		Sectors:     page.Sectors,
		Partners:    page.Partners,
		Countries:   page.Countries,
	}
}

// CleanText tidies a page for display and search without dropping anything
// it says: Windows line endings, non-breaking spaces, curly apostrophes and
// bullets are normalised, runs of spaces collapse, blank lines go, and each
// paragraph or list item stays on a line of its own.
func CleanText(s string) string {
	var lines []string
	for _, l := range strings.Split(normalizeChars(s), "\n") {
		l, _ = stripBullet(l)
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// stripBullet removes a list marker ("•", "◦", "-", "*" ...) from the start
// of a line and reports whether there was one. "-" and "*" count only when a
// space follows, so "-5%" stays as it is.
func stripBullet(line string) (string, bool) {
	line = strings.TrimSpace(line)
	for _, b := range []string{"•", "‣", "◦", "▪", "·", "- ", "* "} {
		if rest, ok := strings.CutPrefix(line, b); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return line, false
}

// normalizeChars makes line endings "\n", every kind of space a plain
// space and curly apostrophes straight ones.
func normalizeChars(s string) string {
	return strings.NewReplacer(
		"\r\n", "\n", "\r", "\n",
		"\u00a0", " ", "\u202f", " ", "\u2007", " ", "\u2009", " ", "\t", " ",
		"\u2019", "'", "\u2018", "'", "\u02bc", "'",
		"\ufeff", "",
	).Replace(s)
}
