package seeds

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
)

// Data files, embedded with the package (see seeds.go).
const (
	countriesFile       = "data/countries.tsv"
	countryNamesFile    = "data/country_names.tsv"
	cldrExclusionsFile  = "data/cldr_exclusions.txt"
	regionsFile         = "data/regions.tsv"
	abbreviationsFile   = "data/abbreviations.tsv"
	caseSensitiveFile   = "data/case_sensitive.txt"
	geoExclusionsFile   = "data/geo_exclusions.txt"
	topicExclusionsFile = "data/topic_exclusions.txt"
	sectorsFile         = "data/sectors.txt"
	sectorKeywordsFile  = "data/sector_keywords.tsv"
	areaKeywordsFile    = "data/area_keywords.tsv"
	sectorAreasFile     = "data/sector_areas.tsv"
	partnersFile        = "data/partners.tsv"
	synonymsFile        = "data/synonyms.txt"
	spellingFile        = "data/spelling.txt"
	spanishFile         = "data/spanish.tsv"
)

// glossaryFiles map terms of the portal's other languages to English, one
// way: a query in Spanish, French or Portuguese also matches the English.
var glossaryFiles = []string{spanishFile}

// record is one data line split into tab-separated fields.
type record struct {
	line   int
	fields []string
}

// readRecords reads a data file: one record a line, fields separated by
// tabs, blank lines and lines starting with # ignored. Each record must have
// between min and max fields.
func readRecords(name string, min, max int) ([]record, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var out []record
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if len(fields) < min || len(fields) > max || fields[0] == "" {
			return nil, fmt.Errorf("%s:%d: want %d to %d tab-separated fields, got %d", name, n, min, max, len(fields))
		}
		for len(fields) < max {
			fields = append(fields, "")
		}
		out = append(out, record{line: n, fields: fields})
	}
	return out, sc.Err()
}

// readList reads a data file of one item a line.
func readList(name string) ([]string, error) {
	recs, err := readRecords(name, 1, 1)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.fields[0]
	}
	return out, nil
}

// splitPipes splits "a|b | c" into its non-empty parts.
func splitPipes(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Country is a country or territory of the vocabulary with its primary region.
type Country struct {
	Name   string
	Region string
}

// Vocab is what a corpus generator needs to write plausible documents.
type Vocab struct {
	Countries []Country
	Sectors   []string // the partner page's sector list
	Areas     []string // the partner page's areas of work
	Partners  []string // canonical implementation partner names
}

// Vocabulary returns the controlled vocabularies, read from the embedded
// partner page and data files.
func Vocabulary() (*Vocab, error) {
	page, err := embeddedPartnerPage()
	if err != nil {
		return nil, err
	}
	countries, err := loadCountries()
	if err != nil {
		return nil, err
	}
	partners, err := readRecords(partnersFile, 1, 2)
	if err != nil {
		return nil, err
	}
	v := &Vocab{
		Sectors: append([]string(nil), page.Sectors...),
		Areas:   append([]string(nil), page.Areas...),
	}
	for _, c := range countries {
		v.Countries = append(v.Countries, Country{Name: c.name, Region: c.regions[0]})
	}
	for _, r := range partners {
		v.Partners = append(v.Partners, r.fields[0])
	}
	return v, nil
}

// Synonyms returns the search vocabularies merged into one table: a
// normalised phrase (see Normalize) -> the normalised phrases a query for it
// should also match, sorted. Groups of synonyms.txt and spelling.txt are
// two-way: each phrase maps to every other phrase of its groups. Entries of
// spanish.tsv are one-way, Spanish -> English, and the Spanish term also
// gets the two-way partners of its English phrase ("sindicato" -> "union",
// "trade union", "labor union"). Nothing is closed transitively beyond that,
// so one loose group cannot chain into unrelated terms.
func Synonyms() (map[string][]string, error) {
	table := map[string]map[string]bool{}
	link := func(from, to string) {
		if from == "" || to == "" || from == to {
			return
		}
		if table[from] == nil {
			table[from] = map[string]bool{}
		}
		table[from][to] = true
	}
	var groups [][]string
	for _, name := range []string{synonymsFile, spellingFile} {
		g, err := readGroups(name)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g...)
	}
	// Every name of a country in the portal's languages, and its demonyms,
	// reach each other: "Burma" finds Myanmar, "Ivory Coast" Côte d'Ivoire.
	countries, err := loadCountries()
	if err != nil {
		return nil, err
	}
	for _, c := range countries {
		var g []string
		for _, n := range c.names {
			if k := Normalize(n); k != "" {
				g = appendNew(g, k)
			}
		}
		groups = append(groups, g)
	}
	for _, g := range groups {
		for _, a := range g {
			for _, b := range g {
				link(a, b)
			}
		}
	}
	twoWay := make(map[string][]string, len(table))
	for k, set := range table {
		for v := range set {
			twoWay[k] = append(twoWay[k], v)
		}
	}
	glossary, err := readGlossaries()
	if err != nil {
		return nil, err
	}
	for _, g := range glossary {
		link(g.term, g.english)
		for _, v := range twoWay[g.english] {
			link(g.term, v)
		}
	}
	out := make(map[string][]string, len(table))
	for k, set := range table {
		vs := make([]string, 0, len(set))
		for v := range set {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		out[k] = vs
	}
	return out, nil
}

// glossaryEntry is one line of a glossary: a term of another language and
// the English it means, both normalised.
type glossaryEntry struct {
	term, english string
}

// readGlossaries reads the glossaries of the portal's other languages, in
// file order.
func readGlossaries() ([]glossaryEntry, error) {
	var out []glossaryEntry
	for _, name := range glossaryFiles {
		recs, err := readRecords(name, 2, 2)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			term, en := Normalize(r.fields[0]), Normalize(r.fields[1])
			if term == "" || en == "" {
				return nil, fmt.Errorf("%s:%d: empty term after normalisation", name, r.line)
			}
			out = append(out, glossaryEntry{term: term, english: en})
		}
	}
	return out, nil
}

// readGroups reads a file of " | "-separated groups, normalised.
func readGroups(name string) ([][]string, error) {
	lines, err := readList(name)
	if err != nil {
		return nil, err
	}
	groups := make([][]string, 0, len(lines))
	for _, l := range lines {
		var g []string
		for _, p := range strings.Split(l, " | ") {
			if n := Normalize(p); n != "" {
				g = appendNew(g, n)
			}
		}
		if len(g) < 2 {
			return nil, fmt.Errorf("%s: group %q has fewer than two distinct phrases", name, l)
		}
		groups = append(groups, g)
	}
	return groups, nil
}
