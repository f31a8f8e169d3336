// Package synthetic generates large, deterministic sets of project documents
// that read like the portal's own (the labor-rights vocabulary of the seed
// pages, the world's countries with their regions, the seed sectors, areas and
// partners) and the fixed query mix the benchmarks drive them with.
//
// A document depends only on the seed and on what came before it, so the
// first k documents of a million-document corpus are the k documents of a
// k-document corpus with the same seed: a benchmark on 10,000 documents and
// a load test on a million draw from the same population.
package synthetic

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"

	"github.com/mpower/labor-search/index"
)

// Country is a country and the regions it belongs to, primary first.
type Country struct {
	Name    string
	Regions []string
}

// Taxonomy is what the generator draws from: the vocabularies of the seed
// pages and their running text.
type Taxonomy struct {
	Countries []Country
	Sectors   []string
	Areas     []string
	Partners  []string
	// Texts are running texts whose words, most frequent first, make the
	// head of the generated vocabulary.
	Texts []string
}

// Shape of the generated documents.
const (
	minTitleWords = 4
	maxTitleWords = 9
	minDescWords  = 30
	maxDescWords  = 80
	// FillerWords is how many made-up words follow the seed words in the
	// vocabulary. With the seed words this gives the ~30,000 distinct words
	// a million real project descriptions hold; without a long tail every
	// word would be common and every query broad.
	FillerWords = 28000
	// generatedPartners is the size of the made-up partner pool beside the
	// real partners.
	generatedPartners = 300
)

// Word frequencies follow Zipf's law, as words of real text do; the countries,
// sectors, areas and partners a project names are skewed the same way (a few
// countries hold many projects, most hold a few).
const (
	wordZipfS, wordZipfV       = 1.0, 2.7
	countryZipfS, countryZipfV = 1.1, 12.0
	sectorZipfS, sectorZipfV   = 1.2, 3.0
	areaZipfS, areaZipfV       = 1.2, 2.0
	partnerZipfS, partnerZipfV = 1.1, 15.0
)

// funders pay for projects; a few donors pay for most.
var funders = []string{
	"United States", "United States", "United States", "European Union", "Canada",
	"Germany", "Netherlands", "United Kingdom", "Sweden", "Japan", "Norway", "Switzerland",
}

// Period bounds: starts are spread over 2000-2030, ends come 1-6 years later.
var (
	firstStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	startDays  = int(time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC).Sub(firstStart).Hours()/24) + 1
)

// Generator produces documents one after another.
type Generator struct {
	rng *rand.Rand

	words     []string // by rank, most frequent first
	titleForm []string // words[i] as a title shows it
	stop      []bool   // words[i] is a stop word
	anyWord   *zipf    // over all words
	content   *zipf    // over the words that are not stop words
	contentAt []int    // rank of the i-th content word

	countries   []Country
	countryZipf *zipf
	sectors     []string
	sectorZipf  *zipf
	areas       []string
	areaZipf    *zipf
	partners    []string
	partnerZipf *zipf

	next int
	buf  []byte
}

// New builds a generator; the same taxonomy and seed always yield the same
// documents in the same order.
func New(tax Taxonomy, seed uint64) (*Generator, error) {
	switch {
	case len(tax.Countries) == 0:
		return nil, errors.New("corpus: taxonomy has no countries")
	case len(tax.Sectors) == 0:
		return nil, errors.New("corpus: taxonomy has no sectors")
	case len(tax.Areas) == 0:
		return nil, errors.New("corpus: taxonomy has no areas")
	}
	for _, c := range tax.Countries {
		if c.Name == "" || len(c.Regions) == 0 {
			return nil, fmt.Errorf("corpus: country %q has no regions", c.Name)
		}
	}
	// The vocabulary and the pools come from their own stream so that the
	// document stream starts at the same point whatever the pool sizes are.
	setup := rand.New(rand.NewPCG(seed, 0x766f636162756c61))
	seedWords := rankWords(tax.Texts)
	if len(seedWords) == 0 {
		return nil, errors.New("corpus: taxonomy texts hold no words")
	}
	g := &Generator{rng: rand.New(rand.NewPCG(seed, 0x646f63756d656e74))}
	filler := fillerWords(setup, FillerWords, seedWords)
	g.words = append(append(g.words, seedWords...), filler...)
	stopWords := analysis.NewTokenMap()
	if err := stopWords.LoadBytes(en.EnglishStopWords); err != nil {
		return nil, fmt.Errorf("corpus: load English stop words: %w", err)
	}
	g.stop = make([]bool, len(g.words))
	g.titleForm = make([]string, len(g.words))
	for i := range g.words {
		w := g.words[i]
		// The analysers drop these; they fill sentences but never start or
		// end a title.
		if _, g.stop[i] = stopWords[strings.ToLower(w)]; g.stop[i] {
			g.words[i] = strings.ToLower(w)
		}
		g.titleForm[i] = titleCase(g.words[i], g.stop[i])
	}
	weights := zipfWeights(len(g.words), wordZipfS, wordZipfV)
	g.anyWord = newZipf(weights)
	var contentWeights []float64
	for i, w := range weights {
		if !g.stop[i] {
			g.contentAt = append(g.contentAt, i)
			contentWeights = append(contentWeights, w)
		}
	}
	g.content = newZipf(contentWeights)

	g.countries = append([]Country(nil), tax.Countries...)
	setup.Shuffle(len(g.countries), func(i, j int) { g.countries[i], g.countries[j] = g.countries[j], g.countries[i] })
	g.countryZipf = newZipf(zipfWeights(len(g.countries), countryZipfS, countryZipfV))
	g.sectors = shuffled(setup, tax.Sectors)
	g.sectorZipf = newZipf(zipfWeights(len(g.sectors), sectorZipfS, sectorZipfV))
	g.areas = shuffled(setup, tax.Areas)
	g.areaZipf = newZipf(zipfWeights(len(g.areas), areaZipfS, areaZipfV))
	// Real partners first: they are the big ones.
	g.partners = append(append([]string(nil), tax.Partners...), partnerNames(setup, generatedPartners, filler)...)
	g.partnerZipf = newZipf(zipfWeights(len(g.partners), partnerZipfS, partnerZipfV))
	return g, nil
}

func shuffled(r *rand.Rand, in []string) []string {
	out := append([]string(nil), in...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Vocabulary is the generator's words, most frequent first.
func (g *Generator) Vocabulary() []string { return append([]string(nil), g.words...) }

// Next returns the next document.
func (g *Generator) Next() index.Document {
	g.next++
	d := index.Document{
		ID:   docID(g.next),
		Kind: index.KindProject,
	}
	d.Countries = g.pickCountries(1 + g.weighted(60, 30, 10))
	for _, c := range d.Countries {
		for _, r := range g.countryRegions(c) {
			if !containsString(d.Regions, r) {
				d.Regions = append(d.Regions, r)
			}
		}
	}
	d.Sectors = g.pickDistinct(g.sectors, g.sectorZipf, 1+g.weighted(75, 25))
	d.Areas = g.pickDistinct(g.areas, g.areaZipf, 1+g.weighted(50, 35, 15))
	d.Partners = g.pickDistinct(g.partners, g.partnerZipf, 1+g.weighted(70, 30))
	d.Funder = funders[g.rng.IntN(len(funders))]
	d.Title = g.title()
	d.Description = g.description(d.Countries)
	start := firstStart.AddDate(0, 0, g.rng.IntN(startDays))
	end := start.AddDate(1+g.rng.IntN(5), 0, g.rng.IntN(365))
	d.Start = start.Format(index.DateLayout)
	d.End = end.Format(index.DateLayout)
	return d
}

// Documents returns the next n documents.
func (g *Generator) Documents(n int) []index.Document {
	out := make([]index.Document, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

func (g *Generator) weighted(weights ...int) int { return weighted(g.rng, weights...) }

// weighted returns i with probability proportional to weights[i].
func weighted(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *Generator) pickCountries(n int) []string {
	out := make([]string, 0, n)
	for tries := 0; len(out) < n && tries < 8*n; tries++ {
		c := g.countries[g.countryZipf.draw(g.rng)].Name
		if !containsString(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (g *Generator) countryRegions(name string) []string {
	for _, c := range g.countries {
		if c.Name == name {
			return c.Regions
		}
	}
	return nil
}

func (g *Generator) pickDistinct(pool []string, z *zipf, n int) []string {
	n = min(n, len(pool))
	out := make([]string, 0, n)
	for tries := 0; len(out) < n && tries < 8*n; tries++ {
		v := pool[z.draw(g.rng)]
		if !containsString(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// word draws a word rank; content asks for a word that is not a stop word
// (titles neither start nor end with "of").
func (g *Generator) word(content bool) int {
	if content {
		return g.contentAt[g.content.draw(g.rng)]
	}
	return g.anyWord.draw(g.rng)
}

// docID is "gen-" and the document's number in seven digits.
func docID(n int) string {
	b := make([]byte, 0, 16)
	b = append(b, "gen-"...)
	digits := strconv.Itoa(n)
	for i := len(digits); i < 7; i++ {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}

// zipf draws i in [0, n) with probability proportional to weights[i] by
// Vose's alias method: one random number and two table reads per draw,
// several times faster than math/rand's Zipf (an Exp and a Log per draw),
// which matters at a hundred words per document.
type zipf struct {
	n     uint64
	keep  []uint32 // keep i when the low 32 bits fall below keep[i]
	alias []int32  // else take alias[i]
}

// zipfWeights are the Zipf-Mandelbrot weights 1/(i+v)^s of n ranks.
func zipfWeights(n int, s, v float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = math.Pow(float64(i)+v, -s)
	}
	return w
}

func newZipf(weights []float64) *zipf {
	n := len(weights)
	total := 0.0
	for _, w := range weights {
		total += w
	}
	scaled := make([]float64, n)
	var small, large []int
	for i, w := range weights {
		scaled[i] = w * float64(n) / total
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	z := &zipf{n: uint64(n), keep: make([]uint32, n), alias: make([]int32, n)}
	for i := range z.alias {
		z.alias[i] = int32(i)
		z.keep[i] = math.MaxUint32
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		z.keep[s] = uint32(scaled[s] * (1 << 32))
		z.alias[s] = int32(l)
		scaled[l] += scaled[s] - 1
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	return z
}

func (z *zipf) draw(r *rand.Rand) int {
	u := r.Uint64()
	i := ((u >> 32) * z.n) >> 32
	if uint32(u) < z.keep[i] {
		return int(i)
	}
	return int(z.alias[i])
}

func (g *Generator) title() string {
	n := minTitleWords + g.rng.IntN(maxTitleWords-minTitleWords+1)
	b := g.buf[:0]
	for i := 0; i < n; i++ {
		w := g.word(i == 0 || i == n-1)
		if i > 0 {
			b = append(b, ' ')
		}
		if i == 0 {
			b = append(b, titleCase(g.words[w], false)...)
		} else {
			b = append(b, g.titleForm[w]...)
		}
	}
	g.buf = b
	return string(b)
}

// description writes sentences of 6-18 words; two in five name the
// project's countries, as real descriptions do.
func (g *Generator) description(countries []string) string {
	n := minDescWords + g.rng.IntN(maxDescWords-minDescWords+1)
	b := g.buf[:0]
	written := 0
	if g.rng.IntN(5) < 2 {
		b = append(b, "In "...)
		written++
		for i, c := range countries {
			switch {
			case i == 0:
			case i == len(countries)-1:
				b = append(b, " and "...)
				written++
			default:
				b = append(b, ", "...)
			}
			b = append(b, c...)
			written += len(strings.Fields(c))
		}
		b = append(b, ',')
	}
	sentenceLeft := 0
	for written < n {
		if sentenceLeft == 0 {
			sentenceLeft = min(6+g.rng.IntN(13), n-written)
			w := g.word(true)
			switch {
			case len(b) == 0:
				b = append(b, titleCase(g.words[w], false)...)
			case b[len(b)-1] == '.':
				b = append(b, ' ')
				b = append(b, titleCase(g.words[w], false)...)
			default: // after "In Mexico,"
				b = append(b, ' ')
				b = append(b, g.words[w]...)
			}
		} else {
			b = append(b, ' ')
			w := g.word(sentenceLeft == 1)
			b = append(b, g.words[w]...)
		}
		written++
		sentenceLeft--
		if sentenceLeft == 0 {
			b = append(b, '.')
		}
	}
	if len(b) > 0 && b[len(b)-1] != '.' {
		b = append(b, '.')
	}
	g.buf = b
	return string(b)
}

// rankWords returns the words of texts, most frequent first (ties in
// alphabetical order). A word keeps its capital when the texts never write it
// in lowercase (names: Honduras, Solidarity; acronyms: OSH).
func rankWords(texts []string) []string {
	counts := map[string]int{}
	form := map[string]string{} // lowercase -> how the texts write it
	for _, t := range texts {
		for _, w := range splitWords(t) {
			key := strings.ToLower(w)
			counts[key]++
			if f, ok := form[key]; !ok || w == key || f != key && w < f {
				form[key] = w
			}
		}
	}
	out := make([]string, 0, len(counts))
	for w := range counts {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if counts[out[i]] != counts[out[j]] {
			return counts[out[i]] > counts[out[j]]
		}
		return out[i] < out[j]
	})
	for i, w := range out {
		out[i] = form[w]
	}
	return out
}

// splitWords splits running text into words as written: runs of letters and
// digits, with inner hyphens and apostrophes kept ("non-discrimination";
// "workers'" loses its trailing apostrophe).
func splitWords(text string) []string {
	var out []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.Trim(text[start:end], "-'’")
		start = -1
		// Single letters are debris of abbreviations ("U.S.").
		if w == "" || !hasLetter(w) || utf8.RuneCountInString(w) == 1 && w != "a" {
			return
		}
		out = append(out, strings.ReplaceAll(w, "’", "'"))
	}
	for i, r := range text {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || (start >= 0 && (r == '-' || r == '\'' || r == '’'))
		switch {
		case inWord && start < 0:
			start = i
		case !inWord:
			flush(i)
		}
	}
	flush(len(text))
	return out
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// isAcronym: two or more capitals and no lowercase run longer than the
// capitals ("OSH", "USMCA", "CKDnt", "M-POWER").
func isAcronym(w string) bool {
	upper, lower := 0, 0
	for _, r := range w {
		switch {
		case unicode.IsUpper(r):
			upper++
		case unicode.IsLower(r):
			lower++
		}
	}
	return upper >= 2 && lower <= upper
}

func titleCase(w string, stop bool) string {
	if stop || isAcronym(w) {
		return w
	}
	r, size := utf8.DecodeRuneInString(w)
	if !unicode.IsLower(r) {
		return w
	}
	return string(unicode.ToUpper(r)) + w[size:]
}

// Syllables of the made-up words: pronounceable, mostly unlike English so
// they neither collide with the seed words nor stem into them.
var (
	onsets = []string{"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr", "tr", "st", "pl", "sk", "ch", "sh"}
	nuclei = []string{"a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ou", "io"}
	codas  = []string{"", "", "", "", "", "n", "r", "l", "m", "s", "k"}
)

// fillerWords makes n distinct words of two or three syllables that are not
// among the seed words.
func fillerWords(r *rand.Rand, n int, seedWords []string) []string {
	seen := make(map[string]bool, n+len(seedWords))
	for _, w := range seedWords {
		seen[w] = true
	}
	out := make([]string, 0, n)
	var b []byte
	for len(out) < n {
		b = b[:0]
		syl := 2 + r.IntN(2)
		for i := 0; i < syl; i++ {
			b = append(b, onsets[r.IntN(len(onsets))]...)
			b = append(b, nuclei[r.IntN(len(nuclei))]...)
		}
		b = append(b, codas[r.IntN(len(codas))]...)
		w := string(b)
		if seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// partnerNames makes organisation names from made-up words, in the shapes
// real implementing partners have.
func partnerNames(r *rand.Rand, n int, filler []string) []string {
	shapes := []string{
		"%s Workers Center", "%s Labor Institute", "Fundación %s", "%s Foundation",
		"%s Federation of Trade Unions", "Association for %s Workers", "%s Alliance for Decent Work",
		"%s Rights Network", "%s Development Consultants", "Centro %s",
	}
	seen := map[string]bool{}
	out := make([]string, 0, n)
	for len(out) < n {
		name := fmt.Sprintf(shapes[r.IntN(len(shapes))], titleCase(filler[r.IntN(len(filler))], false))
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}

// WriteJSONL writes the next n documents to w as JSON Lines, the indexer's
// input format.
func (g *Generator) WriteJSONL(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := 0; i < n; i++ {
		d := g.Next()
		if err := enc.Encode(&d); err != nil {
			return fmt.Errorf("write document %d: %w", g.next, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write documents: %w", err)
	}
	return nil
}
