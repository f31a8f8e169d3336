package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/input"
)

// SynonymSet is a set of synonyms an editor owns, added to the seed
// vocabularies without a release. Without Root it is multi-way: a query
// for any of Synonyms also matches the others. With Root it is one-way: a
// query for Root also matches Synonyms, and a query for one of Synonyms
// matches only itself (as Typesense and Meilisearch define them).
//
// Expansion is one level: a query for a term matches the terms its sets
// name, never the terms of the sets those name in turn. With "gig" ~
// "platform work" and "platform work" ~ "crowdwork", "gig" does not match
// "crowdwork" unless an editor puts the two in one set. Chains through
// shared terms would otherwise widen a query with every set an editor ever
// linked, far past what any of them meant.
type SynonymSet struct {
	ID       string   `json:"id"`
	Root     string   `json:"root,omitempty"`
	Synonyms []string `json:"synonyms"`
}

// Bounds of the editors' synonym sets.
const (
	// MaxSynonymSets bounds the sets an index holds.
	MaxSynonymSets = 10000
	// MaxSynonymTerms bounds the terms of a set, the root included.
	MaxSynonymTerms = 32
	// MaxSynonymTermBytes bounds one term.
	MaxSynonymTermBytes = 100
	// MaxAlternatives bounds what one phrase also matches from the seed
	// synonyms and every set together: each is a clause of every query
	// that holds the phrase.
	MaxAlternatives = 64
	// MaxSynonymBytes bounds all the sets as stored. Bleve writes every
	// internal value again with each persisted snapshot, that is with
	// every document write, so this also bounds what a write costs.
	MaxSynonymBytes = 1 << 20
)

// ErrSynonymNotFound is returned for a synonym set id the index does not hold.
var ErrSynonymNotFound = errors.New("synonym set not found")

// SynonymError is a synonym set refused, naming the term and why. It
// unwraps to the *InvalidError of every other input problem.
type SynonymError struct{ Err *InvalidError }

func (e *SynonymError) Error() string { return e.Err.Message }
func (e *SynonymError) Unwrap() error { return e.Err }

func invalidSynonym(param, format string, args ...any) error {
	return &SynonymError{Err: &input.Error{Param: param, Message: fmt.Sprintf(format, args...)}}
}

// compiledSet is a set with the edges it adds to the synonym table: a
// normalised phrase, an alternative as it is matched, and that
// alternative's phrase key for telling repeats apart.
type compiledSet struct {
	set   SynonymSet
	edges []synonymEdge
}

type synonymEdge struct{ key, alt, altKey string }

// editorSynonyms are the sets and the table they make, replaced whole on
// every change so a search holding the old one reads it safely.
type editorSynonyms struct {
	sets  map[string]compiledSet
	table map[string][]string
}

var emptySynonyms = &editorSynonyms{sets: map[string]compiledSet{}, table: map[string][]string{}}

// isSynonymID: 1 to 64 of A-Z, a-z, 0-9, "_" and "-", so an id is one path
// segment and one log subject token as it is.
func isSynonymID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// cleanTerm trims a term and collapses its inner spaces, as it is stored.
func cleanTerm(t string) string { return strings.Join(strings.Fields(t), " ") }

// compile normalises a set and works out its edges, without refusing
// anything: the log's sets are applied as logged.
func (e *Engine) compile(s SynonymSet) compiledSet {
	s.Root = cleanTerm(s.Root)
	terms := make([]string, len(s.Synonyms))
	for i, t := range s.Synonyms {
		terms[i] = cleanTerm(t)
	}
	s.Synonyms = terms
	c := compiledSet{set: s}
	// Each term is analysed once: as a phrase looked up (its words) and as
	// an alternative matched (its phrase key).
	type analysed struct{ term, key, alt, altKey string }
	analyse := func(t string) analysed {
		alt := strings.ToLower(t)
		return analysed{term: t, key: strings.Join(e.words(t), " "), alt: alt, altKey: e.phraseKey(alt)}
	}
	add := func(from, to analysed) {
		if from.key == "" || to.altKey == "" || to.altKey == from.altKey {
			return
		}
		c.edges = append(c.edges, synonymEdge{key: from.key, alt: to.alt, altKey: to.altKey})
	}
	all := make([]analysed, len(terms))
	for i, t := range terms {
		all[i] = analyse(t)
	}
	if s.Root != "" {
		root := analyse(s.Root)
		for _, t := range all {
			add(root, t)
		}
		return c
	}
	for i, from := range all {
		for j, to := range all {
			if i != j {
				add(from, to)
			}
		}
	}
	return c
}

// newEditorSynonyms builds the table of sets, in id order so a phrase's
// alternatives come in the same order on every replica.
func newEditorSynonyms(sets map[string]compiledSet) *editorSynonyms {
	table := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, id := range sortedKeys(sets) {
		for _, ed := range sets[id].edges {
			if seen[[2]string{ed.key, ed.altKey}] {
				continue
			}
			seen[[2]string{ed.key, ed.altKey}] = true
			table[ed.key] = append(table[ed.key], ed.alt)
		}
	}
	return &editorSynonyms{sets: sets, table: table}
}

func (e *Engine) editorSynonyms() *editorSynonyms {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.editor
}

func (e *Engine) setEditorSynonyms(s *editorSynonyms) {
	e.mu.Lock()
	e.editor = s
	e.mu.Unlock()
}

// SynonymSets lists the editors' sets by id; the seed vocabularies are
// the default table and not listed.
func (e *Engine) SynonymSets() []SynonymSet {
	ed := e.editorSynonyms()
	out := make([]SynonymSet, 0, len(ed.sets))
	for _, id := range sortedKeys(ed.sets) {
		out = append(out, ed.sets[id].set)
	}
	return out
}

// SynonymSet returns one editors' set, or ErrSynonymNotFound.
func (e *Engine) SynonymSet(id string) (SynonymSet, error) {
	c, ok := e.editorSynonyms().sets[id]
	if !ok {
		return SynonymSet{}, ErrSynonymNotFound
	}
	return c.set, nil
}

// PrepareSynonymSet checks a set against the bounds and the sets the
// index holds (a *SynonymError says which term and why) and returns it as
// it would be stored: terms trimmed, inner spaces collapsed. In replicated
// mode the replica that receives the write checks it, and every replica
// applies it as logged.
func (e *Engine) PrepareSynonymSet(s SynonymSet) (SynonymSet, error) {
	_, c, err := e.withSet(e.editorSynonyms(), s)
	return c.set, err
}

// withSet is the sets of ed with s put in, once s passes every check.
func (e *Engine) withSet(ed *editorSynonyms, s SynonymSet) (map[string]compiledSet, compiledSet, error) {
	if !isSynonymID(s.ID) {
		return nil, compiledSet{}, invalidSynonym("id", "synonym set id %q must be 1 to 64 letters, digits, \"_\" or \"-\"", input.Clip(s.ID))
	}
	if err := e.checkTerms(s); err != nil {
		return nil, compiledSet{}, err
	}
	c := e.compile(s)
	if _, replaces := ed.sets[s.ID]; !replaces && len(ed.sets) >= MaxSynonymSets {
		return nil, compiledSet{}, invalidSynonym("id", "too many synonym sets: the index holds the most it may, %d; delete one or add these terms to an existing set", MaxSynonymSets)
	}
	sets := make(map[string]compiledSet, len(ed.sets)+1)
	for id, old := range ed.sets {
		sets[id] = old
	}
	sets[s.ID] = c
	next := newEditorSynonyms(sets)
	// Only the phrases this set adds to can pass the bound now.
	for _, ed := range c.edges {
		if n := e.alternatives(next, ed.key); n > MaxAlternatives {
			term := ed.key
			for _, t := range append([]string{c.set.Root}, c.set.Synonyms...) {
				if strings.Join(e.words(t), " ") == ed.key {
					term = t
					break
				}
			}
			return nil, compiledSet{}, invalidSynonym("synonyms", "term %q would match %d other phrases with this set, the synonym sets it shares terms with and the built-in synonyms, more than %d: a chain of sets through shared terms widens every query for it; split the set or remove terms", input.Clip(term), n, MaxAlternatives)
		}
	}
	if b, err := encodeSynonyms(sets); err != nil {
		return nil, compiledSet{}, err
	} else if len(b) > MaxSynonymBytes {
		return nil, compiledSet{}, invalidSynonym("synonyms", "the synonym sets would take %d bytes with this one, more than %d: delete sets no longer needed", len(b), MaxSynonymBytes)
	}
	return sets, c, nil
}

// checkTerms checks a set's own terms: their number, length, words and
// repeats.
func (e *Engine) checkTerms(s SynonymSet) error {
	terms := s.Synonyms
	minTerms, what := 2, "a multi-way set (no root) needs at least 2 synonyms"
	if s.Root != "" {
		terms = append([]string{s.Root}, s.Synonyms...)
		minTerms, what = 2, "a one-way set needs at least 1 synonym besides its root"
	}
	if len(terms) < minTerms {
		return invalidSynonym("synonyms", "%s", what)
	}
	if len(terms) > MaxSynonymTerms {
		return invalidSynonym("synonyms", "too many terms: %d, at most %d in one set (the root included)", len(terms), MaxSynonymTerms)
	}
	byWords := map[string]string{}
	for i, raw := range terms {
		name, param := fmt.Sprintf("synonym %d", i+1), "synonyms"
		if s.Root != "" {
			name = fmt.Sprintf("synonym %d", i)
			if i == 0 {
				name, param = "root", "root"
			}
		}
		t := cleanTerm(raw)
		switch {
		case t == "":
			return invalidSynonym(param, "%s is empty", name)
		case !utf8.ValidString(t):
			return invalidSynonym(param, "%s is not valid UTF-8", name)
		case len(t) > MaxSynonymTermBytes:
			return invalidSynonym(param, "%s %q is %d bytes long, more than %d", name, input.Clip(t), len(t), MaxSynonymTermBytes)
		}
		words := e.words(t)
		switch {
		case len(words) == 0:
			return invalidSynonym(param, "%s %q has no word a search can match (only stop words or punctuation)", name, input.Clip(t))
		case len(words) > maxSynonymWords:
			return invalidSynonym(param, "%s %q has %d words, more than %d: a query's phrases are looked up to %d words", name, input.Clip(t), len(words), maxSynonymWords, maxSynonymWords)
		}
		key := strings.Join(words, " ")
		if prev, dup := byWords[key]; dup {
			return invalidSynonym(param, "%s %q repeats %q: to a search they are the same words", name, input.Clip(t), input.Clip(prev))
		}
		byWords[key] = t
	}
	return nil
}

// alternatives is how many phrases key would also match from the seed
// synonyms and the editors' table ed.
func (e *Engine) alternatives(ed *editorSynonyms, key string) int {
	seen := map[string]bool{}
	for _, list := range [][]string{e.static[key], ed.table[key]} {
		for _, a := range list {
			seen[e.phraseKey(a)] = true
		}
	}
	return len(seen)
}

// PutSynonymSet checks and stores a set (replacing the one with its id),
// durably, and returns it as stored. The next search uses it.
func (e *Engine) PutSynonymSet(ctx context.Context, s SynonymSet) (SynonymSet, error) {
	if err := ctx.Err(); err != nil {
		return SynonymSet{}, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	sets, c, err := e.withSet(e.editorSynonyms(), s)
	if err != nil {
		return SynonymSet{}, err
	}
	if err := e.storeSynonyms(sets); err != nil {
		return SynonymSet{}, err
	}
	return c.set, nil
}

// DeleteSynonymSet removes a set, or returns ErrSynonymNotFound.
func (e *Engine) DeleteSynonymSet(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	ed := e.editorSynonyms()
	if _, ok := ed.sets[id]; !ok {
		return ErrSynonymNotFound
	}
	sets := make(map[string]compiledSet, len(ed.sets))
	for k, v := range ed.sets {
		if k != id {
			sets[k] = v
		}
	}
	return e.storeSynonyms(sets)
}

// storeSynonyms writes sets as the index's synonym sets (one durable
// batch) and makes them the table of the next search. The caller holds
// writeMu.
func (e *Engine) storeSynonyms(sets map[string]compiledSet) error {
	b, err := encodeSynonyms(sets)
	if err != nil {
		return err
	}
	if err := e.ix.SetInternal(index.KeySynonymSets, b); err != nil {
		return err
	}
	e.setEditorSynonyms(newEditorSynonyms(sets))
	e.purgeCaches()
	return nil
}

// encodeSynonyms is the stored form: the sets as a JSON array by id.
func encodeSynonyms(sets map[string]compiledSet) ([]byte, error) {
	list := make([]SynonymSet, 0, len(sets))
	for _, id := range sortedKeys(sets) {
		list = append(list, sets[id].set)
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("encode synonym sets: %w", err)
	}
	return b, nil
}

// loadSynonyms reads the index's synonym sets.
func (e *Engine) loadSynonyms() (*editorSynonyms, error) {
	raw, err := e.ix.GetInternal(index.KeySynonymSets)
	if err != nil {
		return nil, fmt.Errorf("load synonym sets: %w", err)
	}
	if len(raw) == 0 {
		return emptySynonyms, nil
	}
	var list []SynonymSet
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decode synonym sets: %w", err)
	}
	sets := make(map[string]compiledSet, len(list))
	for _, s := range list {
		sets[s.ID] = e.compile(s)
	}
	return newEditorSynonyms(sets), nil
}

// EncodeSynonymSet is a set as the replicated log carries it (the Value
// of an index.OpSynonymSet).
func EncodeSynonymSet(s SynonymSet) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode synonym set %q: %w", s.ID, err)
	}
	return b, nil
}

// applySynonymOps folds the synonym set operations of ops into sets, in
// order; ok is false when ops hold none.
func (e *Engine) applySynonymOps(sets map[string]compiledSet, ops []index.Op) (map[string]compiledSet, bool, error) {
	changed := false
	for _, op := range ops {
		if op.Kind != index.OpSynonymSet {
			continue
		}
		if !changed {
			next := make(map[string]compiledSet, len(sets)+1)
			for k, v := range sets {
				next[k] = v
			}
			sets, changed = next, true
		}
		if op.Value == nil {
			delete(sets, op.ID)
			continue
		}
		var s SynonymSet
		if err := json.Unmarshal(op.Value, &s); err != nil {
			return nil, false, fmt.Errorf("decode synonym set %q: %w", op.ID, err)
		}
		if s.ID != op.ID {
			return nil, false, fmt.Errorf("synonym set id %q differs from its operation's %q", s.ID, op.ID)
		}
		sets[s.ID] = e.compile(s)
	}
	return sets, changed, nil
}

// documentOps is ops without the synonym set operations.
func documentOps(ops []index.Op) []index.Op {
	out := ops[:0:0]
	for _, op := range ops {
		if op.Kind == index.OpDocument {
			out = append(out, op)
		}
	}
	return out
}
