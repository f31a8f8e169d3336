package seeds

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/mpower/labor-search/index"
)

// GlobalRegion is the region of a document that names no country and no
// region: it works globally.
const GlobalRegion = "Global"

// Enricher derives a document's countries, regions, sectors, areas of work
// and partners from its title and description, with the vocabularies of
// data/. It is immutable once built, so it is safe for concurrent use.
type Enricher struct {
	geo      *matcher // countries, regions, abbreviations, exclusions
	sectors  *matcher
	areas    *matcher
	partners *matcher

	countryRegions map[string][]string // country -> its regions, broader ones included
	countryByName  map[string]string   // Normalize(any name of a country) -> country
	sectorAreas    map[string][]string // sector -> areas it implies
	rank           map[string]int      // topic value -> position in its data file, for a stable order
	spelling       map[string]string   // one-word spelling variant -> the first of its group
	plural         *en.EnglishPluralStemmerFilter
}

// NewEnricher reads the vocabularies and compiles their matchers.
func NewEnricher() (*Enricher, error) {
	e := &Enricher{
		countryRegions: map[string][]string{},
		countryByName:  map[string]string{},
		sectorAreas:    map[string][]string{},
		rank:           map[string]int{},
		spelling:       map[string]string{},
		plural:         en.NewEnglishPluralStemmerFilter(),
	}
	if err := e.loadSpelling(); err != nil {
		return nil, err
	}
	if err := e.loadGeo(); err != nil {
		return nil, err
	}
	if err := e.loadTopics(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Enricher) loadSpelling() error {
	groups, err := readGroups(spellingFile)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if strings.Contains(strings.Join(g, "|"), " ") {
			continue // compounds ("work place") are phrases, not word variants
		}
		for _, w := range g {
			e.spelling[w] = g[0]
		}
	}
	return nil
}

func (e *Enricher) loadGeo() error {
	caseList, err := readList(caseSensitiveFile)
	if err != nil {
		return err
	}
	initialCaps := map[string]bool{}
	for _, w := range caseList {
		initialCaps[strings.ToLower(fold(w))] = true
	}
	e.geo = newMatcher(func(k string) string { return k }, initialCaps)
	e.geo.plural = true

	regions, err := readRecords(regionsFile, 1, 3)
	if err != nil {
		return err
	}
	broader := map[string][]string{}
	for _, r := range regions {
		broader[r.fields[0]] = splitPipes(r.fields[1])
	}
	withBroader := func(name string) []string { return expandRegion(name, broader, nil) }
	for _, r := range regions {
		for _, b := range broader[r.fields[0]] {
			if _, ok := broader[b]; !ok {
				return fmt.Errorf("%s:%d: broader region %q is not a region of the file", regionsFile, r.line, b)
			}
		}
		values := withBroader(r.fields[0])
		for _, name := range append([]string{r.fields[0]}, splitPipes(r.fields[2])...) {
			if err := e.geo.add(name, regionKind, values, false, false); err != nil {
				return fmt.Errorf("%s:%d: %w", regionsFile, r.line, err)
			}
		}
	}

	countries, err := readRecords(countriesFile, 2, 3)
	if err != nil {
		return err
	}
	for _, r := range countries {
		name := r.fields[0]
		if _, dup := e.countryRegions[name]; dup {
			return fmt.Errorf("%s:%d: country %q listed twice", countriesFile, r.line, name)
		}
		var regs []string
		for _, reg := range splitPipes(r.fields[1]) {
			if _, ok := broader[reg]; !ok {
				return fmt.Errorf("%s:%d: region %q is not in %s", countriesFile, r.line, reg, regionsFile)
			}
			regs = appendNew(regs, withBroader(reg)...)
		}
		if len(regs) == 0 {
			return fmt.Errorf("%s:%d: country %q has no region", countriesFile, r.line, name)
		}
		e.countryRegions[name] = regs
		for _, n := range append([]string{name}, splitPipes(r.fields[2])...) {
			if err := e.geo.add(n, countryKind, []string{name}, false, false); err != nil {
				return fmt.Errorf("%s:%d: %w", countriesFile, r.line, err)
			}
			e.countryByName[Normalize(n)] = name
		}
	}

	abbrevs, err := readRecords(abbreviationsFile, 2, 2)
	if err != nil {
		return err
	}
	for _, r := range abbrevs {
		country := r.fields[1]
		if _, ok := e.countryRegions[country]; !ok {
			return fmt.Errorf("%s:%d: country %q is not in %s", abbreviationsFile, r.line, country, countriesFile)
		}
		if err := e.geo.add(r.fields[0], abbrevKind, []string{country}, false, true); err != nil {
			return fmt.Errorf("%s:%d: %w", abbreviationsFile, r.line, err)
		}
	}

	exclusions, err := readRecords(geoExclusionsFile, 1, 1)
	if err != nil {
		return err
	}
	for _, r := range exclusions {
		if err := e.geo.add(r.fields[0], exclusion, nil, false, false); err != nil {
			return fmt.Errorf("%s:%d: %w", geoExclusionsFile, r.line, err)
		}
	}
	return nil
}

// expandRegion returns name and every region above it; seen guards against
// a cycle in the data.
func expandRegion(name string, broader map[string][]string, seen []string) []string {
	out := []string{name}
	seen = append(seen, name)
	for _, b := range broader[name] {
		if !slices.Contains(seen, b) {
			out = appendNew(out, expandRegion(b, broader, seen)...)
		}
	}
	return out
}

func (e *Enricher) loadTopics() error {
	sectorVocab, err := readList(sectorsFile)
	if err != nil {
		return err
	}
	knownSector := map[string]bool{}
	for _, s := range sectorVocab {
		knownSector[s] = true
	}

	e.sectors = newMatcher(e.term, nil)
	e.areas = newMatcher(e.term, nil)
	e.areas.overlap = true
	e.partners = newMatcher(e.term, nil)

	load := func(m *matcher, file string, check func(string) error) error {
		recs, err := readRecords(file, 2, 2)
		if err != nil {
			return err
		}
		for i, r := range recs {
			value := r.fields[0]
			if check != nil {
				if err := check(value); err != nil {
					return fmt.Errorf("%s:%d: %w", file, r.line, err)
				}
			}
			if _, ok := e.rank[value]; !ok {
				e.rank[value] = i
			}
			for _, kw := range splitPipes(r.fields[1]) {
				if err := m.add(kw, valueKind, []string{value}, false, false); err != nil {
					return fmt.Errorf("%s:%d: %w", file, r.line, err)
				}
			}
		}
		return nil
	}
	if err := load(e.sectors, sectorKeywordsFile, func(s string) error {
		if !knownSector[s] {
			return fmt.Errorf("sector %q is not in %s", s, sectorsFile)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := load(e.areas, areaKeywordsFile, nil); err != nil {
		return err
	}

	partners, err := readRecords(partnersFile, 1, 2)
	if err != nil {
		return err
	}
	// Organisation and programme names are blanked out before sectors and
	// areas are matched: "International Labor Organization" is not a "labor
	// organization", the "Worker Rights Consortium" not a project on rights.
	names := map[string]bool{}
	for i, r := range partners {
		e.rank[r.fields[0]] = i
		for _, n := range append([]string{r.fields[0]}, splitPipes(r.fields[1])...) {
			if err := e.partners.add(n, valueKind, []string{r.fields[0]}, true, false); err != nil {
				return fmt.Errorf("%s:%d: %w", partnersFile, r.line, err)
			}
			names[n] = true
		}
	}
	programmes, err := readList(topicExclusionsFile)
	if err != nil {
		return err
	}
	for _, n := range programmes {
		names[n] = true
	}
	for n := range names {
		for _, m := range []*matcher{e.sectors, e.areas} {
			if err := m.add(n, exclusion, nil, true, false); err != nil {
				return fmt.Errorf("exclude name %q from topics: %w", n, err)
			}
		}
	}

	pairs, err := readRecords(sectorAreasFile, 2, 2)
	if err != nil {
		return err
	}
	for _, r := range pairs {
		if !knownSector[r.fields[0]] {
			return fmt.Errorf("%s:%d: sector %q is not in %s", sectorAreasFile, r.line, r.fields[0], sectorsFile)
		}
		e.sectorAreas[r.fields[0]] = appendNew(e.sectorAreas[r.fields[0]], r.fields[1])
	}
	return nil
}

// term is the comparison key of a lowercased word for topics: one spelling
// of each variant ("labour" = "labor"), plurals folded ("garments" =
// "garment") with Bleve's English plural stemmer. A light stemmer on purpose:
// a full one would make "organizations" match the keyword "organizing".
func (e *Enricher) term(key string) string {
	if c, ok := e.spelling[key]; ok {
		key = c
	}
	// Only a word ending in "s" can be a plural; skipping the others keeps
	// the stemmer's allocations off most words.
	if len(key) < 3 || key[len(key)-1] != 's' {
		return key
	}
	tok := &analysis.Token{Term: []byte(key)}
	return string(e.plural.Filter(analysis.TokenStream{tok})[0].Term)
}

// Enrich fills the countries, regions, sectors, areas and partners of d that
// are empty from what its title and description name. Fields that arrive
// with values keep them.
func (e *Enricher) Enrich(d *index.Document) {
	if d == nil {
		return
	}
	needGeo := len(d.Countries) == 0 || len(d.Regions) == 0
	needTopics := len(d.Sectors) == 0 || len(d.Areas) == 0 || len(d.Partners) == 0
	if !needGeo && !needTopics {
		return
	}
	toks := tokenize(d.Title + "\n" + d.Description)
	if needGeo {
		words := make([]word, len(toks))
		for i, t := range toks {
			words[i] = word{raw: t.raw, key: t.key}
		}
		e.enrichGeo(d, words)
	}
	if needTopics {
		e.enrichTopics(d, e.topicWords(toks))
	}
}

func (e *Enricher) enrichGeo(d *index.Document, words []word) {
	var hits []*pattern
	e.geo.scan(words, func(p *pattern) { hits = append(hits, p) })

	fillCountries := len(d.Countries) == 0
	named := map[string]bool{}
	for _, p := range hits {
		if p.kind == countryKind {
			named[p.values[0]] = true
		}
	}
	var countries, regions []string
	if !fillCountries {
		for _, c := range d.Countries {
			regions = appendNew(regions, e.countryRegions[e.countryByName[Normalize(c)]]...)
		}
	}
	for _, p := range hits {
		switch p.kind {
		case abbrevKind:
			// "DR" counts only when the text also names the country in full;
			// it then places the country at its first mention.
			if !named[p.values[0]] {
				continue
			}
			fallthrough
		case countryKind:
			countries = appendNew(countries, p.values[0])
			if fillCountries {
				regions = appendNew(regions, e.countryRegions[p.values[0]]...)
			}
		case regionKind:
			regions = appendNew(regions, p.values...)
		}
	}
	if fillCountries {
		d.Countries = countries
	}
	if len(d.Regions) == 0 {
		if len(regions) == 0 && len(d.Countries) == 0 {
			regions = []string{GlobalRegion}
		}
		d.Regions = regions
	}
}

// topicWords folds the words' spelling and plurals.
func (e *Enricher) topicWords(toks []token) []word {
	words := make([]word, len(toks))
	for i, t := range toks {
		words[i] = word{raw: t.raw, key: e.term(t.key)}
	}
	return words
}

func (e *Enricher) enrichTopics(d *index.Document, words []word) {
	if len(d.Sectors) == 0 {
		d.Sectors = e.values(e.sectors, words)
	}
	if len(d.Areas) == 0 {
		areas := e.values(e.areas, words)
		for _, s := range d.Sectors {
			areas = appendNew(areas, e.sectorAreas[s]...)
		}
		e.sortByRank(areas)
		d.Areas = areas
	}
	if len(d.Partners) == 0 {
		d.Partners = e.values(e.partners, words)
	}
}

// values returns the values m finds in words, in the order of the data file.
func (e *Enricher) values(m *matcher, words []word) []string {
	var out []string
	m.scan(words, func(p *pattern) { out = appendNew(out, p.values...) })
	e.sortByRank(out)
	return out
}

func (e *Enricher) sortByRank(values []string) {
	sort.SliceStable(values, func(i, j int) bool { return e.rank[values[i]] < e.rank[values[j]] })
}
