package synthetic

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// Class is a kind of request whose latency the benchmarks report apart.
type Class string

// The classes of the mix.
const (
	// Selective: 1-3 words found in few documents, the typical search.
	Selective Class = "selective"
	// Broad: words found in more than a tenth of the documents, so facets
	// count over a large share of the index.
	Broad Class = "broad"
	// Browse: no text, filters only, as a portal's listing page asks.
	Browse Class = "browse"
	// Suggest: what a search box asks on every keystroke.
	Suggest Class = "suggest"
)

// Classes in the order reports list them.
var Classes = []Class{Selective, Broad, Browse, Suggest}

// MixFacets are the facets every search of the mix asks for; a filtered
// facet is counted without its own filter (disjunctive).
var MixFacets = []string{search.FieldCountry, search.FieldSector, search.FieldArea, search.FieldStatus}

// SuggestLimit is the number of suggestions the mix asks for.
const SuggestLimit = 8

// Query is one request of the mix, in the API's terms.
type Query struct {
	Class   Class
	Text    string
	Filters map[string][]string // API filter name -> values
}

// Path is the request as a URL path and query for the HTTP API.
func (q Query) Path() string {
	v := url.Values{}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.Class == Suggest {
		v.Set("limit", fmt.Sprint(SuggestLimit))
		return "/v1/suggest?" + v.Encode()
	}
	v.Set("facets", strings.Join(MixFacets, ","))
	for f, vals := range q.Filters {
		for _, val := range vals {
			v.Add(f, val)
		}
	}
	return "/v1/search?" + v.Encode()
}

// SearchRequest is the request for search.Engine.Search (not for Suggest).
func (q Query) SearchRequest() search.Request {
	r := search.Request{Query: q.Text, Facets: MixFacets}
	if len(q.Filters) > 0 {
		r.Filters = map[string][]string{}
		for f, vals := range q.Filters {
			r.Filters[f] = append([]string(nil), vals...)
		}
	}
	return r
}

// SuggestRequest is the request for search.Engine.Suggest.
func (q Query) SuggestRequest() search.SuggestRequest {
	return search.SuggestRequest{Query: q.Text, Limit: SuggestLimit}
}

// Mix is a fixed list of queries per class.
type Mix map[Class][]Query

// Distinct is the number of different requests among qs.
func Distinct(qs []Query) int {
	seen := map[string]bool{}
	for _, q := range qs {
		seen[q.Path()] = true
	}
	return len(seen)
}

// Document-frequency bands, as a share of the documents, that make a word
// selective or broad.
const (
	selectiveMaxShare     = 0.01 // a one-word selective query
	selectivePartMaxShare = 0.05 // each word of a 2-3 word selective query
	broadMinShare         = 0.10
	broadMaxShare         = 0.60
)

// NewMix builds perClass queries of each class from a sample of the corpus
// (the first ten or twenty thousand documents are plenty): words are chosen
// by how many sample documents hold them, so "broad" matches more than a
// tenth of any corpus drawn from the same generator and "selective" few.
// asOf is the day status filters are drawn for. The same sample and seed give
// the same mix.
func NewMix(sample []index.Document, perClass int, seed uint64, asOf time.Time) (Mix, error) {
	if len(sample) < 100 {
		return nil, fmt.Errorf("corpus: a mix needs at least 100 sample documents, got %d", len(sample))
	}
	m, err := index.NewMapping()
	if err != nil {
		return nil, err
	}
	words := func(text string) []string {
		toks, err := m.AnalyzeText(index.AnalyzerWords, []byte(text))
		if err != nil {
			return nil
		}
		seen := map[string]bool{}
		out := make([]string, 0, len(toks))
		for _, t := range toks {
			w := string(t.Term)
			// Numbers and fragments of hyphenated names are not what
			// visitors type.
			if len(w) < 3 || !hasLetter(w) || seen[w] {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
		return out
	}
	b := &mixBuilder{
		r:      rand.New(rand.NewPCG(seed, 0x6d6978)),
		sample: sample,
		asOf:   asOf.UTC().Format(index.DateLayout),
		df:     map[string]int{},
		docs:   make([][]string, len(sample)),
		titles: make([][]string, len(sample)),
	}
	for i := range sample {
		b.titles[i] = words(sample[i].Title)
		b.docs[i] = words(sample[i].Title + " . " + sample[i].Description)
		for _, w := range b.docs[i] {
			b.df[w]++
		}
		b.descs = append(b.descs, words(sample[i].Description))
	}
	for w, n := range b.df {
		if s := b.share(n); s >= broadMinShare && s <= broadMaxShare {
			b.broad = append(b.broad, w)
		}
	}
	sort.Strings(b.broad)
	b.postings = map[string][]int{}
	for i, ws := range b.docs {
		for _, w := range ws {
			if s := b.share(b.df[w]); s >= broadMinShare && s <= broadMaxShare {
				b.postings[w] = append(b.postings[w], i)
			}
		}
	}
	if len(b.broad) == 0 {
		return nil, errors.New("corpus: no word of the sample is in more than a tenth of its documents")
	}
	// Queries repeat as often as the draw makes them (the front page, the
	// common words): traffic does, and caches may earn from it.
	mix := Mix{}
	for _, c := range Classes {
		for tries := 0; len(mix[c]) < perClass && tries < perClass*50; tries++ {
			if q, ok := b.query(c); ok {
				mix[c] = append(mix[c], q)
			}
		}
		if len(mix[c]) == 0 {
			return nil, fmt.Errorf("corpus: the sample gives no %s query", c)
		}
	}
	return mix, nil
}

type mixBuilder struct {
	r      *rand.Rand
	sample []index.Document
	asOf   string
	df     map[string]int
	docs   [][]string // analysed words of title and description
	titles [][]string
	descs  [][]string
	broad  []string
	// postings lists the sample documents of each broad word, in order.
	postings map[string][]int
}

// intersection counts the values two ascending lists share.
func intersection(a, b []int) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

func (b *mixBuilder) share(n int) float64 { return float64(n) / float64(len(b.sample)) }

func (b *mixBuilder) doc() int { return b.r.IntN(len(b.sample)) }

func (b *mixBuilder) query(c Class) (Query, bool) {
	switch c {
	case Selective:
		return b.selective()
	case Broad:
		return b.broadQuery()
	case Browse:
		return b.browse(), true
	default:
		return b.suggest()
	}
}

// selective: words of one document's description, so the query finds at
// least that document both with the engine and with plain Bleve over the
// description; half the time narrowed to one of its countries or sectors.
func (b *mixBuilder) selective() (Query, bool) {
	i := b.doc()
	n := 1 + b.weighted(40, 40, 20)
	limit := selectivePartMaxShare
	if n == 1 {
		limit = selectiveMaxShare
	}
	var cands []string
	for _, w := range b.descs[i] {
		if b.share(b.df[w]) <= limit {
			cands = append(cands, w)
		}
	}
	if len(cands) < n {
		return Query{}, false
	}
	picked := b.r.Perm(len(cands))[:n]
	sort.Ints(picked) // in the order the description has them
	ws := make([]string, n)
	for k, p := range picked {
		ws[k] = cands[p]
	}
	q := Query{Class: Selective, Text: strings.Join(ws, " ")}
	if b.r.IntN(2) == 0 {
		d := b.sample[i]
		if b.r.IntN(2) == 0 {
			q.Filters = map[string][]string{search.FieldCountry: {d.Countries[b.r.IntN(len(d.Countries))]}}
		} else {
			q.Filters = map[string][]string{search.FieldSector: {d.Sectors[b.r.IntN(len(d.Sectors))]}}
		}
	}
	return q, true
}

// broadQuery: one common word, or two whose documents still make more than
// a tenth of the sample; half the time with status=ended, which keeps most
// documents but makes the status facet a disjunctive one.
func (b *mixBuilder) broadQuery() (Query, bool) {
	w := b.broad[b.r.IntN(len(b.broad))]
	text := w
	if b.r.IntN(10) < 3 {
		v := b.broad[b.r.IntN(len(b.broad))]
		if v == w {
			return Query{}, false
		}
		if b.share(intersection(b.postings[w], b.postings[v])) < broadMinShare {
			return Query{}, false
		}
		text = w + " " + v
	}
	q := Query{Class: Broad, Text: text}
	if b.r.IntN(2) == 0 {
		q.Filters = map[string][]string{search.FieldStatus: {search.StatusEnded}}
	}
	return q, true
}

// browse: no text; no filter (the portal's front page), one, or two on
// different fields, with values as common as the documents make them.
func (b *mixBuilder) browse() Query {
	q := Query{Class: Browse, Filters: map[string][]string{}}
	fields := append([]string(nil), MixFacets...)
	b.r.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	for _, f := range fields[:b.weighted(20, 50, 30)] {
		d := b.sample[b.doc()]
		var vals []string
		switch f {
		case search.FieldCountry:
			vals = d.Countries
		case search.FieldSector:
			vals = d.Sectors
		case search.FieldArea:
			vals = d.Areas
		case search.FieldStatus:
			vals = []string{b.status(d)}
		}
		q.Filters[f] = []string{vals[b.r.IntN(len(vals))]}
	}
	return q
}

func (b *mixBuilder) status(d index.Document) string {
	switch {
	case b.asOf < d.Start:
		return search.StatusUpcoming
	case b.asOf > d.End:
		return search.StatusEnded
	}
	return search.StatusActive
}

// suggest: the first 2-6 letters of a title word, sometimes after another
// word of the same title typed in full.
func (b *mixBuilder) suggest() (Query, bool) {
	ws := b.titles[b.doc()]
	var long []string
	for _, w := range ws {
		if len([]rune(w)) >= 4 {
			long = append(long, w)
		}
	}
	if len(long) == 0 {
		return Query{}, false
	}
	w := []rune(long[b.r.IntN(len(long))])
	typed := string(w[:2+b.r.IntN(min(len(w), 6)-1)])
	if len(ws) > 1 && b.r.IntN(10) < 3 {
		if head := ws[b.r.IntN(len(ws))]; head != string(w) {
			typed = head + " " + typed
		}
	}
	return Query{Class: Suggest, Text: typed}, true
}

func (b *mixBuilder) weighted(weights ...int) int { return weighted(b.r, weights...) }
