package index

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
)

// docBuilder turns a Document into the Bleve document the mapping would
// make of toFields' map, without the mapping's reflection walk, and analyses
// each text once: the words analyzer is the text analyzer without its last
// filter (the stemmer), so the unstemmed tokens of the title, the
// description and the metadata lists are the "words" field and, stemmed,
// the text fields. Bleve indexes exactly the terms, frequencies, positions
// and offsets it indexed before (TestBuilderMatchesMapping compares them),
// so the on-disk format and MappingVersion do not change.
type docBuilder struct {
	words   analysis.Analyzer    // the unstemmed chain
	stem    analysis.TokenFilter // nil: the analyzers do not share a chain
	text    analysis.Analyzer
	sort    analysis.Analyzer
	keyword analysis.Analyzer
	opts    map[string]bindex.FieldIndexingOptions
}

func newDocBuilder(im *mapping.IndexMappingImpl) (*docBuilder, error) {
	b := &docBuilder{
		words:   im.AnalyzerNamed(AnalyzerWords),
		text:    im.AnalyzerNamed(AnalyzerText),
		sort:    im.AnalyzerNamed(analyzerSort),
		keyword: im.AnalyzerNamed(keyword.Name),
		opts:    map[string]bindex.FieldIndexingOptions{},
	}
	if b.words == nil || b.text == nil || b.sort == nil || b.keyword == nil {
		return nil, fmt.Errorf("document builder: an analyzer of the mapping is missing")
	}
	for name, dm := range im.DefaultMapping.Properties {
		if !dm.Enabled {
			continue // _all
		}
		if len(dm.Fields) != 1 {
			return nil, fmt.Errorf("document builder: field %s has %d mappings, want 1", name, len(dm.Fields))
		}
		b.opts[name] = dm.Fields[0].Options()
	}
	w, wok := b.words.(*analysis.DefaultAnalyzer)
	t, tok := b.text.(*analysis.DefaultAnalyzer)
	if wok && tok && w.Tokenizer == t.Tokenizer && len(w.CharFilters) == 0 && len(t.CharFilters) == 0 &&
		len(t.TokenFilters) == len(w.TokenFilters)+1 {
		same := true
		for i, f := range w.TokenFilters {
			same = same && f == t.TokenFilters[i]
		}
		if same {
			b.stem = t.TokenFilters[len(t.TokenFilters)-1]
		}
	}
	return b, nil
}

// Streams of one document's shared analysis.
const (
	streamTitle = iota
	streamDescription
	streamWords
	streamLists // then one per list of metadata, in the order of build
)

// sharedAnalysis analyses a document's texts the first time Bleve asks for
// one of its fields, inside Bleve's analysis workers (so a batch is
// analysed in parallel, as it was through the mapping), and hands each
// field its stream once: a stream is dropped as soon as it is taken, so a
// batch holds its tokens only field by field.
type sharedAnalysis struct {
	b     *docBuilder
	texts []string // title, description, then the joined lists
	mu    sync.Mutex
	ready bool
	taken uint64
	out   []analysis.TokenStream
}

func (a *sharedAnalysis) run() {
	a.out = make([]analysis.TokenStream, streamLists+len(a.texts)-2)
	var words analysis.TokenStream
	for i, text := range a.texts {
		u := a.b.words.Analyze([]byte(text))
		words = append(words, u...)
		slot := i
		if i >= 2 {
			slot = streamLists + i - 2
		}
		a.out[slot] = a.b.stemmed(u)
	}
	// The words of all parts, as the analyzer makes them of the parts
	// joined by " . ": the separator is no token and tokens never span it.
	// The field has no term vectors, so positions are not indexed.
	a.out[streamWords] = words
	a.ready, a.taken = true, 0
}

// stream hands out stream i; asked twice, it analyses again.
func (a *sharedAnalysis) stream(i int) analysis.TokenStream {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ready || a.taken&(1<<i) != 0 {
		a.run()
	}
	s := a.out[i]
	a.out[i] = nil
	a.taken |= 1 << i
	return s
}

// sharedField is the analyzer of one field of a sharedAnalysis.
type sharedField struct {
	a *sharedAnalysis
	i int
}

func (f sharedField) Analyze([]byte) analysis.TokenStream { return f.a.stream(f.i) }

// stemmed is a copy of ts with each term stemmed; ts keeps its terms.
func (b *docBuilder) stemmed(ts analysis.TokenStream) analysis.TokenStream {
	toks := make([]analysis.Token, len(ts))
	out := make(analysis.TokenStream, len(ts))
	for i, t := range ts {
		toks[i] = *t
		out[i] = &toks[i]
	}
	return b.stem.Filter(out)
}

// analyzer is the analyzer of text field i (a stream of a).
func (b *docBuilder) analyzer(a *sharedAnalysis, i int) analysis.Analyzer {
	if b.stem == nil {
		return b.text
	}
	return sharedField{a: a, i: i}
}

func (b *docBuilder) field(name string, positions []uint64, v string, a analysis.Analyzer) document.Field {
	return document.NewTextFieldCustom(name, positions, []byte(v), b.opts[name], a)
}

// build makes the Bleve document of d.
func (b *docBuilder) build(d *Document) (*document.Document, error) {
	src, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode document %q: %w", d.ID, err)
	}
	doc := document.NewDocument(d.ID)
	a := &sharedAnalysis{b: b, texts: []string{d.Title, d.Description}}
	doc.AddField(b.field(FieldKind, nil, d.Kind, b.keyword))
	doc.AddField(b.field(FieldTitle, nil, d.Title, b.analyzer(a, streamTitle)))
	doc.AddField(b.field(FieldDescription, nil, d.Description, b.analyzer(a, streamDescription)))
	doc.AddField(b.field(FieldTitleSort, nil, d.Title, b.sort))
	doc.AddField(document.NewTextFieldCustom(FieldSource, nil, src, b.opts[FieldSource], nil))
	lists := []struct {
		name   string
		values []string
	}{
		{FieldCountries, d.Countries}, {FieldRegions, d.Regions}, {FieldSectors, d.Sectors},
		{FieldAreas, d.Areas}, {FieldPartners, d.Partners},
	}
	var joined []string
	for _, l := range lists {
		if len(l.values) == 0 {
			continue
		}
		for i, v := range l.values {
			doc.AddField(b.field(l.name, []uint64{uint64(i)}, v, b.keyword))
		}
		// Sentences keep list items apart for phrase queries.
		j := strings.Join(l.values, " . ")
		doc.AddField(b.field(l.name+TextSuffix, nil, j, b.analyzer(a, streamLists+len(a.texts)-2)))
		a.texts = append(a.texts, j)
		joined = append(joined, j)
	}
	if d.Funder != "" {
		doc.AddField(b.field(FieldFunder, nil, d.Funder, b.keyword))
	}
	if b.stem == nil {
		all := strings.Join(append([]string{d.Title, d.Description}, joined...), " . ")
		doc.AddField(b.field(FieldWords, nil, all, b.words))
	} else {
		doc.AddField(document.NewTextFieldCustom(FieldWords, nil, nil, b.opts[FieldWords], sharedField{a: a, i: streamWords}))
	}
	if d.Start != "" {
		if err := b.date(doc, FieldStart, d.ID, d.Start); err != nil {
			return nil, err
		}
		doc.AddField(b.field(FieldStartYear, nil, d.Start[:4], b.keyword))
	}
	if d.End != "" {
		if err := b.date(doc, FieldEnd, d.ID, d.End); err != nil {
			return nil, err
		}
	}
	doc.SetIndexed()
	return doc, nil
}

func (b *docBuilder) date(doc *document.Document, name, id, v string) error {
	t, err := time.Parse(DateLayout, v)
	if err != nil {
		return fmt.Errorf("document %q: %s %q is not a YYYY-MM-DD date", id, name, v)
	}
	// The layout is the one the mapping's walk gives a time.Time.
	f, err := document.NewDateTimeFieldWithIndexingOptions(name, nil, t, time.RFC3339, b.opts[name])
	if err != nil {
		return fmt.Errorf("document %q: %s %q: %w", id, name, v, err)
	}
	doc.AddField(f)
	return nil
}
