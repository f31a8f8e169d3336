package search

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/index"
)

// Options are the engine's dependencies beyond the index.
type Options struct {
	// Synonyms maps a phrase to phrases that a query for it also matches.
	// Keys and values are normalised by the engine with the index's word
	// analyser, so callers may pass them as written. Two-way groups must
	// appear in both directions.
	Synonyms map[string][]string
	// Translations maps a term of another language to the English a query
	// for it also matches, one way, normalised like Synonyms. A translation
	// ranks below the term itself and below synonyms, so records in the
	// query's own language come first.
	Translations map[string][]string
	// OptionalWords never have to match: question words and words that mean
	// "a project" ("which", "projects", "helping", "programas"). A query's
	// word among them still ranks the documents that have it. Normalised by
	// the engine, like Synonyms.
	OptionalWords []string
	// Enrich fills what a written document lacks (countries, sectors, ...).
	Enrich func(*index.Document)
	// Now gives the current time; nil = time.Now.
	Now func() time.Time
	// ResponseCache is how many whole answers the engine keeps for repeated
	// requests (browse pages, popular queries); 0 turns the cache off, as
	// benchmarks of computed answers need. Search-as-you-type traffic is
	// mostly unique, so the cache helps browsing far more than typing.
	ResponseCache int
	// Registerer, when set, receives the engine's metrics: search time by
	// kind, hits, zero results, did-you-mean, and the response cache's
	// hits and misses.
	Registerer prometheus.Registerer
	// RebuildWriters is how many batches Rebuild writes at once; 0 = one
	// per CPU. Each holds its batch analysed in memory until durable.
	RebuildWriters int
}

// DefaultResponseCache is the response cache searchd keeps unless told:
// a response is one page of hits and its facets, tens of KiB at most.
const DefaultResponseCache = 1024

// Engine answers searches and applies writes over one index.
type Engine struct {
	ix   *index.Index
	opts Options

	// static synonyms and translations, normalised once.
	static, translations map[string][]string
	// optional holds the normalised optional words.
	optional map[string]bool

	// mu guards learned: acronyms that documents define themselves
	// ("occupational safety and health (OSH)"), acronym -> long forms. They
	// are stored inside the index so they survive restarts and rebuilds.
	mu      sync.RWMutex
	learned map[string][]string
	// editor holds the editors' synonym sets (guarded by mu), stored in
	// the index too: they add to static for the next search.
	editor *editorSynonyms
	// writeMu serialises writes so learned acronyms and the index agree.
	writeMu sync.Mutex

	// responses holds whole answers to repeated requests (browse pages,
	// popular queries); nil when off.
	responses *lru[*Response]
	metrics   *metrics
}

const internalAcronyms = "acronyms"

// New builds an engine over an open index.
func New(ix *index.Index, opts Options) (*Engine, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ResponseCache < 0 {
		return nil, fmt.Errorf("response cache of %d entries: want 0 (off) or more", opts.ResponseCache)
	}
	m, err := newMetrics(opts.Registerer, opts.ResponseCache > 0)
	if err != nil {
		return nil, err
	}
	e := &Engine{ix: ix, opts: opts, learned: map[string][]string{}, editor: emptySynonyms, metrics: m}
	if opts.ResponseCache > 0 {
		e.responses = newLRU[*Response](opts.ResponseCache)
	}
	static, err := e.normalizeTable(opts.Synonyms)
	if err != nil {
		return nil, err
	}
	e.static = static
	if e.translations, err = e.normalizeTable(opts.Translations); err != nil {
		return nil, err
	}
	e.optional = map[string]bool{}
	for _, w := range opts.OptionalWords {
		for _, n := range e.words(w) {
			e.optional[n] = true
		}
	}
	if e.learned, err = e.loadLearned(); err != nil {
		return nil, err
	}
	if e.editor, err = e.loadSynonyms(); err != nil {
		return nil, err
	}
	return e, nil
}

// normalizeTable analyses every key with the word analyser, so a table
// written by hand ("Occupational Safety and Health") matches query words as
// they are analysed. Values keep their stop words: they are matched as
// phrases, and "safety and health" must stay two positions apart.
func (e *Engine) normalizeTable(in map[string][]string) (map[string][]string, error) {
	out := make(map[string][]string, len(in))
	for k, vs := range in {
		nk := strings.Join(e.words(k), " ")
		if nk == "" {
			continue
		}
		for _, v := range vs {
			e.addSynonym(out, nk, v)
		}
	}
	return out, nil
}

// addSynonym records that the normalised key nk also matches phrase v,
// unless v says the same thing or is already known; it reports a change.
func (e *Engine) addSynonym(m map[string][]string, nk, v string) bool {
	v = strings.TrimSpace(strings.ToLower(v))
	nv := e.phraseKey(v)
	if nv == "" || nv == nk {
		return false
	}
	for _, old := range m[nk] {
		if e.phraseKey(old) == nv {
			return false
		}
	}
	m[nk] = append(m[nk], v)
	return true
}

// synonymsOf returns what a normalised phrase also matches: its synonyms
// (the seeds', then the editors'), the acronyms documents taught, its
// translations. The alternatives are not looked up in turn: expansion is
// one level.
func (e *Engine) synonymsOf(phrase string) []string {
	out := e.static[phrase]
	e.mu.RLock()
	learned, editor := e.learned[phrase], e.editor.table[phrase]
	e.mu.RUnlock()
	for _, list := range [][]string{editor, learned, e.translations[phrase]} {
		for _, l := range list {
			if !contains(out, l) {
				out = append(append([]string(nil), out...), l)
			}
		}
	}
	return out
}

// altBoost is how much a match of alt, an alternative of phrase, counts:
// a translation less than a synonym, an editor's synonym as a seed one.
func (e *Engine) altBoost(phrase, alt string) float64 {
	if contains(e.translations[phrase], alt) && !contains(e.static[phrase], alt) && !contains(e.editorSynonyms().table[phrase], alt) {
		return boostTranslation
	}
	return boostSynonym
}

// isOptional says whether a unit is only optional words. A quoted phrase
// is always meant.
func (e *Engine) isOptional(u unit) bool {
	if u.quoted || len(u.words) == 0 {
		return false
	}
	for _, w := range u.words {
		if !e.optional[w] {
			return false
		}
	}
	return true
}

// maxSynonymWords bounds the phrase length looked up in the tables.
const maxSynonymWords = 8

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// now is today's instant from the engine's clock.
func (e *Engine) now() time.Time { return e.opts.Now().UTC() }

// Get returns one stored document, or ErrNotFound.
func (e *Engine) Get(ctx context.Context, id string) (*index.Document, error) {
	d, ok, err := e.ix.Get(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return d, nil
}

// Count is the number of documents in the index.
func (e *Engine) Count() (uint64, error) { return e.ix.Count() }

// Refusal is a document a write left out, and why.
type Refusal struct {
	// Index is the document's position in the written slice.
	Index int
	// ID is the document's id, "" when it has none.
	ID string
	// Err says what is wrong with it, in the writer's terms.
	Err error
}

// prepare fills defaults, validates and enriches documents for writing. It
// returns the documents that pass, in order, and a refusal for each that
// does not.
func (e *Engine) prepare(docs []index.Document) ([]index.Document, []Refusal) {
	var refused []Refusal
	kept := docs[:0:0]
	for i := range docs {
		d := docs[i]
		d.ApplyDefaults()
		if err := d.Validate(); err != nil {
			refused = append(refused, Refusal{Index: i, ID: d.ID, Err: err})
			continue
		}
		if e.opts.Enrich != nil {
			e.opts.Enrich(&d)
		}
		kept = append(kept, d)
	}
	return kept, refused
}

// Upsert validates, enriches and writes documents (in the index's batches), all of them
// or, when one is invalid, none; it returns once the batch is durable (for
// an on-disk index). A validation problem is an *InvalidError naming the
// document when there are several.
func (e *Engine) Upsert(ctx context.Context, docs []index.Document) error {
	refused, err := e.Write(ctx, docs, true)
	if err != nil || len(refused) == 0 {
		return err
	}
	r := refused[0]
	switch {
	case len(docs) == 1:
		return Invalid("document", "%v", r.Err)
	case r.ID != "":
		return Invalid("document", "document %q: %v", r.ID, r.Err)
	}
	return Invalid("document", "document %d: %v", r.Index+1, r.Err)
}

// Write validates, enriches and writes the valid documents of docs, durably
// (as one batch or, beyond index.Options.BatchBytes, several), and lists
// the others. With atomic set, any refusal keeps
// every document out (nothing is written). Refusals are not errors: the
// error is for a write that failed.
func (e *Engine) Write(ctx context.Context, docs []index.Document, atomic bool) ([]Refusal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kept, refused := e.prepare(docs)
	if len(kept) == 0 || atomic && len(refused) > 0 {
		return refused, nil
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	learned, changed := e.learn(e.snapshotLearned(), kept)
	if changed {
		// Stored before the documents: a crash in between leaves an unused
		// synonym at worst, never a document whose acronym is unknown.
		if err := e.storeLearned(e.ix.SetInternal, learned); err != nil {
			return nil, err
		}
		e.setLearned(learned)
	}
	if err := e.ix.Batch(kept, nil); err != nil {
		return nil, err
	}
	e.purgeCaches()
	return refused, nil
}

// Delete removes a document, or returns ErrNotFound.
func (e *Engine) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	_, ok, err := e.ix.Get(id)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	if err := e.ix.Batch(nil, []string{id}); err != nil {
		return err
	}
	e.purgeCaches()
	return nil
}

// Source yields documents in batches to Rebuild; it stops at the first error.
type Source func(yield func([]index.Document) error) error

// Rebuild replaces the whole index with the documents from src, built
// beside the live index and swapped in atomically once complete. If src
// fails (a malformed input line) the live index is untouched.
//
// Batches are written by one writer per CPU: Bleve analyses a batch on a
// worker pool but builds its segment on the calling goroutine, so concurrent
// batches are what keeps every core busy.
func (e *Engine) Rebuild(ctx context.Context, src Source) (int, error) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	learned := map[string][]string{}
	n := 0
	err := e.ix.Rebuild(func(b *index.Builder) error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		batches := make(chan []index.Document)
		var wg sync.WaitGroup
		writers := e.opts.RebuildWriters
		if writers <= 0 {
			writers = runtime.GOMAXPROCS(0)
		}
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for docs := range batches {
					if err := b.Batch(docs); err != nil {
						cancel(err)
					}
				}
			}()
		}
		err := src(func(docs []index.Document) error {
			docs, refused := e.prepare(docs)
			if len(refused) > 0 {
				r := refused[0]
				if r.ID != "" {
					return Invalid("document", "document %q: %v", r.ID, r.Err)
				}
				return Invalid("document", "document %d of a batch: %v", r.Index+1, r.Err)
			}
			learned, _ = e.learn(learned, docs)
			n += len(docs)
			select {
			case batches <- docs:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		close(batches)
		wg.Wait()
		if err == nil {
			err = context.Cause(ctx)
		}
		if err != nil {
			return err
		}
		return e.storeLearned(b.SetInternal, learned)
	})
	if err != nil {
		return 0, err
	}
	e.setLearned(learned)
	e.purgeCaches()
	return n, nil
}

func (e *Engine) purgeCaches() {
	e.responses.purge()
}

func (e *Engine) snapshotLearned() map[string][]string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make(map[string][]string, len(e.learned))
	for k, v := range e.learned {
		out[k] = v
	}
	return out
}

// loadLearned reads the acronyms the index's documents defined.
func (e *Engine) loadLearned() (map[string][]string, error) {
	raw, err := e.ix.GetInternal(internalAcronyms)
	if err != nil {
		return nil, fmt.Errorf("load learned acronyms: %w", err)
	}
	learned := map[string][]string{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &learned); err != nil {
			return nil, fmt.Errorf("decode learned acronyms: %w", err)
		}
	}
	return learned, nil
}

func (e *Engine) setLearned(m map[string][]string) {
	e.mu.Lock()
	e.learned = m
	e.mu.Unlock()
}

func (e *Engine) storeLearned(set func(string, []byte) error, m map[string][]string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode learned acronyms: %w", err)
	}
	return set(internalAcronyms, b)
}

// learn adds the acronyms docs define to m (in both directions), and says
// whether anything was new.
func (e *Engine) learn(m map[string][]string, docs []index.Document) (map[string][]string, bool) {
	changed := false
	add := func(k, v string) {
		// A phrase that every document defines differently is noise; a
		// bounded list keeps query expansion bounded too.
		if k == "" || len(m[k]) >= 4 {
			return
		}
		if e.addSynonym(m, k, v) {
			changed = true
		}
	}
	for i := range docs {
		for _, text := range []string{docs[i].Title, docs[i].Description} {
			for _, def := range findAcronyms(text) {
				add(strings.Join(e.words(def.short), " "), def.long)
				add(strings.Join(e.words(def.long), " "), def.short)
			}
		}
	}
	return m, changed
}

// words analyses text with the index's word analyser: lowercased, accents
// folded, stop words dropped, not stemmed.
func (e *Engine) words(text string) []string {
	toks := e.tokens(text, index.AnalyzerWords)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.term
	}
	return out
}

// phraseKey is the words of a phrase with a "_" where a stop word was:
// "convention no 190" and "convention 190" are different phrases to match,
// since a phrase query asks for the words at their distances.
func (e *Engine) phraseKey(text string) string {
	toks := e.tokens(text, index.AnalyzerWords)
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
			for gap := t.position - toks[i-1].position; gap > 1; gap-- {
				b.WriteString("_ ")
			}
		}
		b.WriteString(t.term)
	}
	return b.String()
}

type token struct {
	term       string
	start, end int // byte offsets in the analysed text
	position   int
}

func (e *Engine) tokens(text, analyzer string) []token {
	ts, err := e.ix.Analyze(analyzer, text)
	if err != nil {
		return nil
	}
	out := make([]token, 0, len(ts))
	for _, t := range ts {
		out = append(out, token{term: t.Term, start: t.Start, end: t.End, position: t.Position})
	}
	return out
}

// stem analyses one word as the text fields do.
func (e *Engine) stem(word string) string {
	toks := e.tokens(word, index.AnalyzerText)
	if len(toks) != 1 {
		return ""
	}
	return toks[0].term
}

// statusOf computes a document's status on a day, with a missing bound
// open: a start only is active from its start on (upcoming before), an end
// only is active up to its end (ended after). Nil without any date.
func statusOf(start, end string, asOf time.Time) *string {
	if start == "" && end == "" {
		return nil
	}
	day := asOf.Format(index.DateLayout)
	s := StatusActive
	switch {
	case start != "" && day < start:
		s = StatusUpcoming
	case end != "" && day > end:
		s = StatusEnded
	}
	return &s
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
