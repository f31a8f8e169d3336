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
	conventionsFile     = "data/ilo_conventions.txt"
	frenchFile          = "data/french.tsv"
	portugueseFile      = "data/portuguese.tsv"
	everydayFile        = "data/everyday.tsv"
	spanishFile         = "data/spanish.tsv"
	optionalWordsFile   = "data/optional_words.txt"
)

// languageGlossaries map terms of the portal's other languages to English,
// one way: a query in Spanish, French or Portuguese also matches the English,
// and a record's metadata in those languages is read in English too.
var languageGlossaries = []string{spanishFile, frenchFile, portugueseFile}

// queryGlossaries add everyday English words ("kids" -> children, "seafood"
// -> fishing) for queries only: they widen what a visitor's word reaches,
// but are too loose to assign a record's sectors ("Seafood processing" is
// not fishing).
var queryGlossaries = append(append([]string(nil), languageGlossaries...), everydayFile)

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

// Synonyms returns the search vocabularies of one language merged into one
// table: a normalised phrase (see Normalize) -> the normalised phrases a
// query for it should also match, sorted. Groups of synonyms.txt and
// spelling.txt are two-way: each phrase maps to every other phrase of its
// groups; so do every name and demonym of a country. Each phrase is also
// looked up, and matched, in the other spellings of its words ("labour
// migration" = "labor migration"). Nothing is closed transitively beyond
// that, so one loose group cannot chain into unrelated terms.
func Synonyms() (map[string][]string, error) {
	t, err := synonymTable()
	if err != nil {
		return nil, err
	}
	return t.sorted(), nil
}

// Translations returns the glossaries' table: a normalised term of another
// language (spanish.tsv, french.tsv, portuguese.tsv, everyday.tsv) -> the
// normalised English phrases a query for it should also match, one way,
// with the two-way synonyms of each English phrase and its other spellings
// ("sindicato" -> "union", "trade union", "labor union"; "trabajo
// infantil" -> "child labor", "child labour").
func Translations() (map[string][]string, error) {
	syn, err := synonymTable()
	if err != nil {
		return nil, err
	}
	glossary, err := readGlossaries(queryGlossaries)
	if err != nil {
		return nil, err
	}
	variants, err := spellingVariants()
	if err != nil {
		return nil, err
	}
	out := phraseTable{}
	for _, g := range glossary {
		for _, en := range phraseVariants(g.english, variants) {
			out.link(g.term, en)
			for v := range syn[en] {
				out.link(g.term, v)
			}
		}
	}
	return out.sorted(), nil
}

// phraseTable maps a phrase to the phrases it also matches.
type phraseTable map[string]map[string]bool

func (t phraseTable) link(from, to string) {
	if from == "" || to == "" || from == to {
		return
	}
	if t[from] == nil {
		t[from] = map[string]bool{}
	}
	t[from][to] = true
}

func (t phraseTable) sorted() map[string][]string {
	out := make(map[string][]string, len(t))
	for k, set := range t {
		vs := make([]string, 0, len(set))
		for v := range set {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		out[k] = vs
	}
	return out
}

// synonymTable builds the two-way table Synonyms returns.
func synonymTable() (phraseTable, error) {
	var groups [][]string
	for _, name := range []string{synonymsFile, spellingFile, conventionsFile} {
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
	variants, err := spellingVariants()
	if err != nil {
		return nil, err
	}
	table := phraseTable{}
	for _, g := range groups {
		// Each phrase of a group in every spelling reaches every other.
		var all []string
		for _, p := range g {
			all = appendNew(all, phraseVariants(p, variants)...)
		}
		for _, a := range all {
			for _, b := range all {
				table.link(a, b)
			}
		}
	}
	return table, nil
}

// spellingVariants maps each word of a one-word group of spelling.txt to
// its group.
func spellingVariants() (map[string][]string, error) {
	groups, err := readGroups(spellingFile)
	if err != nil {
		return nil, err
	}
	return wordVariants(groups), nil
}

// wordVariants maps each word of a one-word spelling group to the group.
func wordVariants(groups [][]string) map[string][]string {
	out := map[string][]string{}
	for _, g := range groups {
		if strings.Contains(strings.Join(g, "|"), " ") {
			continue // compounds written apart are phrases of their own
		}
		for _, w := range g {
			out[w] = g
		}
	}
	return out
}

// maxPhraseVariants bounds the spellings of one phrase.
const maxPhraseVariants = 4

// phraseVariants is a phrase in each spelling of its words (the phrase
// itself first), at most maxPhraseVariants.
func phraseVariants(phrase string, variants map[string][]string) []string {
	out := []string{phrase}
	words := strings.Fields(phrase)
	for i, w := range words {
		group, ok := variants[w]
		if !ok {
			continue
		}
		n := len(out)
		for _, have := range out[:n] {
			hw := strings.Fields(have)
			for _, alt := range group {
				if alt == w || len(out) >= maxPhraseVariants {
					continue
				}
				hw[i] = alt
				out = appendNew(out, strings.Join(hw, " "))
			}
		}
	}
	return out
}

// OptionalWords lists the words a query never needs to match: question
// words and words that mean "a project", in the portal's languages.
func OptionalWords() ([]string, error) {
	return readList(optionalWordsFile)
}

// glossaryEntry is one line of a glossary: a term of another language and
// the English it means, both normalised.
type glossaryEntry struct {
	term, english string
}

// readGlossaries reads the glossaries of the portal's other languages, in
// file order.
func readGlossaries(files []string) ([]glossaryEntry, error) {
	var out []glossaryEntry
	for _, name := range files {
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
