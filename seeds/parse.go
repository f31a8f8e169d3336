package seeds

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/mpower/labor-search/index"
)

// PartnerPage is an M-POWER partner page: the partner's name, the lists of
// its header, and its projects in page order.
type PartnerPage struct {
	Name      string
	Areas     []string
	Sectors   []string
	Partners  []string
	Countries []string
	Projects  []Project
}

// Project is one block of a partner page: a title line, a description
// paragraph and a "Start: YYYY-MM-DD End: YYYY-MM-DD" line.
type Project struct {
	Title       string
	Description string
	Start       string
	End         string
	Line        int // line of the title, 1-based
}

// isLinkLabel reports link labels of the page header, which are not names.
func isLinkLabel(line string) bool {
	switch strings.ToLower(line) {
	case "visit site", "view the fact sheet":
		return true
	}
	return false
}

// ParsePartnerPage reads a partner page by its structure:
//
//	header lines       the partner's name (site labels ending in ":" and link
//	                   labels such as "Visit Site" are skipped)
//	• Label: a, b, c   bullet lists: Areas of Work, Sectors, Implementation
//	                   Partners, Countries Covered
//	title              then repeated project blocks: a title line,
//	description        one description paragraph (it may wrap over lines),
//	Start: … End: …    and the period.
//
// It tolerates Windows line endings, non-breaking spaces, curly apostrophes
// (made straight), odd spacing and extra blank lines, and rejects a malformed
// page with an error naming the line.
func ParsePartnerPage(text string) (*PartnerPage, error) {
	sectorVocab, err := readList(sectorsFile)
	if err != nil {
		return nil, err
	}
	knownSector := make(map[string]bool, len(sectorVocab))
	for _, s := range sectorVocab {
		knownSector[Normalize(s)] = true
	}

	lines := strings.Split(normalizeChars(text), "\n")
	page := &PartnerPage{}
	i, err := parseHeader(page, lines, knownSector)
	if err != nil {
		return nil, err
	}
	if err := parseProjects(page, lines, i); err != nil {
		return nil, err
	}
	return page, nil
}

// parseHeader reads the name and the bullet lists and returns the index of
// the first line after them.
func parseHeader(page *PartnerPage, lines []string, knownSector map[string]bool) (int, error) {
	lists := map[string]*[]string{
		"areas of work":           &page.Areas,
		"sectors":                 &page.Sectors,
		"implementation partners": &page.Partners,
		"countries covered":       &page.Countries,
	}
	seen := map[string]int{}
	i := 0
	for ; i < len(lines); i++ {
		line, bullet := stripBullet(lines[i])
		line = collapseSpaces(line)
		n := i + 1
		switch {
		case line == "":
			continue
		case !bullet && len(seen) > 0:
			// The first plain line after the lists starts the projects.
			return i, checkName(page, n)
		case !bullet:
			if page.Name == "" && !strings.HasSuffix(line, ":") && !isLinkLabel(line) {
				page.Name = line
			}
			continue
		}
		label, items, ok := strings.Cut(line, ":")
		key := strings.ToLower(strings.TrimSpace(label))
		target := lists[key]
		if !ok || target == nil {
			return 0, fmt.Errorf("line %d: want a list \"• Label: items\" with a label among Areas of Work, Sectors, Implementation Partners, Countries Covered; got %q", n, line)
		}
		if prev, dup := seen[key]; dup {
			return 0, fmt.Errorf("line %d: list %q appears again (first at line %d)", n, label, prev)
		}
		seen[key] = n
		parsed, err := splitList(items)
		if err != nil {
			return 0, fmt.Errorf("line %d: %s: %w", n, label, err)
		}
		if key == "sectors" {
			for _, s := range parsed {
				if !knownSector[Normalize(s)] {
					return 0, fmt.Errorf("line %d: sector %q is not in the sector vocabulary (%s)", n, s, sectorsFile)
				}
			}
		}
		*target = parsed
	}
	if len(seen) == 0 {
		return 0, fmt.Errorf("line %d: no \"• Label: items\" lists found", len(lines))
	}
	return i, checkName(page, len(lines))
}

func checkName(page *PartnerPage, line int) error {
	if page.Name == "" {
		return fmt.Errorf("line %d: no partner name before the lists", line)
	}
	return nil
}

// splitList splits a list whose items may themselves contain commas (ILO
// sector names such as "Textiles, clothing, leather, footwear"): it splits at
// commas outside parentheses, then glues a piece that starts in lower case
// back onto the item before it, since every item starts with a capital.
func splitList(s string) ([]string, error) {
	var pieces []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced ')' in %q", s)
			}
		case ',':
			if depth == 0 {
				pieces = append(pieces, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unclosed '(' in %q", s)
	}
	pieces = append(pieces, s[start:])

	var items []string
	for _, p := range pieces {
		p = collapseSpaces(p)
		if p == "" {
			continue
		}
		if first, _ := firstRune(p); unicode.IsLower(first) && len(items) > 0 {
			items[len(items)-1] += ", " + p
			continue
		}
		items = append(items, p)
	}
	return items, nil
}

// parseProjects reads the project blocks from lines[from:].
func parseProjects(page *PartnerPage, lines []string, from int) error {
	var (
		cur  *Project
		desc []string
		gap  bool // a blank line has ended the description
	)
	for i := from; i < len(lines); i++ {
		n := i + 1
		line := collapseSpaces(lines[i])
		switch {
		case line == "":
			gap = len(desc) > 0
		case isPeriodLine(line):
			if cur == nil {
				return fmt.Errorf("line %d: a Start/End line without a project title before it", n)
			}
			start, end, err := parsePeriod(line)
			if err != nil {
				return fmt.Errorf("line %d: project %q: %w", n, cur.Title, err)
			}
			cur.Description, cur.Start, cur.End = strings.Join(desc, " "), start, end
			page.Projects = append(page.Projects, *cur)
			cur, desc, gap = nil, nil, false
		case cur == nil:
			cur = &Project{Title: line, Line: n}
		case gap:
			return fmt.Errorf("line %d: project %q has no \"Start: YYYY-MM-DD End: YYYY-MM-DD\" line after its description (more text follows at line %d)", cur.Line, cur.Title, n)
		default:
			desc = append(desc, line)
		}
	}
	if cur != nil {
		return fmt.Errorf("line %d: project %q has no \"Start: YYYY-MM-DD End: YYYY-MM-DD\" line", cur.Line, cur.Title)
	}
	return nil
}

func isPeriodLine(line string) bool {
	return hasPrefixFold(line, "start:") || hasPrefixFold(line, "end:")
}

// parsePeriod reads "Start: YYYY-MM-DD End: YYYY-MM-DD".
func parsePeriod(line string) (start, end string, err error) {
	at := indexFold(line, "end:")
	if !hasPrefixFold(line, "start:") || at < len("start:") {
		return "", "", fmt.Errorf("want \"Start: YYYY-MM-DD End: YYYY-MM-DD\", got %q", line)
	}
	start = strings.TrimSpace(line[len("start:"):at])
	end = strings.TrimSpace(line[at+len("end:"):])
	s, err := time.Parse(index.DateLayout, start)
	if err != nil {
		return "", "", fmt.Errorf("start date %q is not a YYYY-MM-DD date", start)
	}
	e, err := time.Parse(index.DateLayout, end)
	if err != nil {
		return "", "", fmt.Errorf("end date %q is not a YYYY-MM-DD date", end)
	}
	if e.Before(s) {
		return "", "", fmt.Errorf("end date %s is before start date %s", end, start)
	}
	return start, end, nil
}

// hasPrefixFold and indexFold match an ASCII word in any case. They compare
// bytes of the line itself: strings.ToLower may change the length of a line
// (invalid UTF-8, some capitals), so offsets found in a lowered copy do not
// fit the original.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && asciiEqualFold(s[:len(prefix)], prefix)
}

func indexFold(s, word string) int {
	for i := 0; i+len(word) <= len(s); i++ {
		if asciiEqualFold(s[i:i+len(word)], word) {
			return i
		}
	}
	return -1
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func collapseSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func firstRune(s string) (rune, bool) {
	for _, r := range s {
		return r, true
	}
	return 0, false
}
