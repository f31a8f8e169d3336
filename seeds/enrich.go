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
	glossary       map[string]string   // Normalize(a foreign term) -> its English
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
		glossary:       map[string]string{},
		plural:         en.NewEnglishPluralStemmerFilter(),
	}
	if err := e.loadSpelling(); err != nil {
		return nil, err
	}
	if err := e.loadGlossary(); err != nil {
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

// maxGlossaryWords bounds the foreign phrases looked up in a metadata value.
const maxGlossaryWords = 5

func (e *Enricher) loadGlossary() error {
	entries, err := readGlossaries(languageGlossaries)
	if err != nil {
		return err
	}
	for _, g := range entries {
		if _, ok := e.glossary[g.term]; !ok && len(strings.Fields(g.term)) <= maxGlossaryWords {
			e.glossary[g.term] = g.english
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

	countries, err := loadCountries()
	if err != nil {
		return err
	}
	for _, c := range countries {
		if _, dup := e.countryRegions[c.name]; dup {
			return fmt.Errorf("%s:%d: country %q listed twice", countriesFile, c.line, c.name)
		}
		var regs []string
		for _, reg := range c.regions {
			if _, ok := broader[reg]; !ok {
				return fmt.Errorf("%s:%d: region %q is not in %s", countriesFile, c.line, reg, regionsFile)
			}
			regs = appendNew(regs, withBroader(reg)...)
		}
		if len(regs) == 0 {
			return fmt.Errorf("%s:%d: country %q has no region", countriesFile, c.line, c.name)
		}
		e.countryRegions[c.name] = regs
		for _, n := range c.names {
			if err := e.geo.add(n, countryKind, []string{c.name}, false, false); err != nil {
				return fmt.Errorf("%s:%d: %w", countriesFile, c.line, err)
			}
			e.countryByName[Normalize(n)] = c.name
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
// with values keep them, in the writer's words, and gain the canonical
// values those words name, so facets agree across sources: a sector
// "Garments" also counts under "Textiles, clothing, leather, footwear", a
// region "Afrique de l'Ouest" under "West Africa". Countries are the
// exception: a known name of a country is replaced by its canonical name
// ("Viet Nam" -> "Vietnam"), since two spellings of one country would
// split its facet in two.
func (e *Enricher) Enrich(d *index.Document) {
	if d == nil {
		return
	}
	e.canonicalize(d)
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

// canonicalize maps the metadata a document arrives with onto the
// vocabularies: canonical country names, and the regions, sectors, areas
// and partners its values name added after them.
func (e *Enricher) canonicalize(d *index.Document) {
	if len(d.Countries) > 0 {
		var out []string
		for _, c := range d.Countries {
			if name, ok := e.countryByName[Normalize(c)]; ok {
				c = name
			}
			out = appendNew(out, c)
		}
		d.Countries = out
	}
	if len(d.Regions) > 0 {
		var found []string
		for _, r := range d.Regions {
			e.geo.scan(e.metadataWords(r, false), func(p *pattern) {
				if p.kind == regionKind {
					found = appendNew(found, p.values...)
				}
			})
		}
		d.Regions = appendNew(d.Regions, found...)
	}
	for _, f := range []struct {
		values *[]string
		m      *matcher
	}{{&d.Sectors, e.sectors}, {&d.Areas, e.areas}, {&d.Partners, e.partners}} {
		if len(*f.values) == 0 {
			continue
		}
		var found []string
		for _, v := range *f.values {
			f.m.scan(e.metadataWords(v, true), func(p *pattern) { found = appendNew(found, p.values...) })
		}
		e.sortByRank(found)
		*f.values = appendNew(*f.values, found...)
	}
}

// metadataWords are the words of one metadata value, followed by the
// English of the glossary phrases it holds ("Trabajo infantil" -> child
// labor), for matching against the English vocabularies.
func (e *Enricher) metadataWords(value string, topics bool) []word {
	toks := tokenize(value)
	keys := make([]string, len(toks))
	for i, t := range toks {
		keys[i] = t.key
	}
	for i := 0; i < len(keys); i++ {
		for n := min(maxGlossaryWords, len(keys)-i); n >= 1; n-- {
			if en, ok := e.glossary[strings.Join(keys[i:i+n], " ")]; ok {
				// A sentence break keeps the translation apart from the
				// words before it.
				toks = append(toks, token{raw: ".", key: "."})
				toks = append(toks, tokenize(en)...)
				i += n - 1
				break
			}
		}
	}
	if topics {
		return e.topicWords(toks)
	}
	words := make([]word, len(toks))
	for i, t := range toks {
		words[i] = word{raw: t.raw, key: t.key}
	}
	return words
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
