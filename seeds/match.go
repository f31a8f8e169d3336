package seeds

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// caseRule says how a pattern word must be capitalised in the text.
type caseRule uint8

const (
	anyCase    caseRule = iota
	initialCap          // "Jordan" or "JORDAN", never "jordan"
	exactCase           // acronyms: "ILO", "U.S.", "DR"
)

// kind says what a pattern's values are.
type kind uint8

const (
	exclusion kind = iota // matched only to blank the words out
	valueKind             // topic values (sectors, areas, partners)
	countryKind
	regionKind
	abbrevKind // a country, counted only when also named in full
)

// word is one word of a text as a matcher compares it.
type word struct {
	raw string // accent-folded, as written
	key string // comparison key: lowercased, and for topics also spelling- and plural-folded
}

type patternWord struct {
	key  string
	raw  string
	rule caseRule
}

type pattern struct {
	phrase string // as written in the data, for error messages
	words  []patternWord
	kind   kind
	values []string
}

// matcher finds vocabulary phrases in a text, word by word, by a hash lookup
// on each word: the cost is linear in the text and independent of the size
// of the vocabulary.
type matcher struct {
	byFirst map[string][]*pattern // by first word key, longest first
	byWords map[string]*pattern   // dedup while building
	// overlap reports every pattern that starts at a word, not only the
	// longest, and moves on by one word: topics are labels that may nest
	// ("gender-based violence" is both Gender and GBVH). Without it the
	// longest match wins and consumes its words, so "Papua New Guinea" never
	// also yields "Guinea".
	overlap bool
	// plural lets a text word carry a plural "s" ("Filipinos", "Bangladeshis").
	plural bool
	// keyOf turns a lowercased word into the comparison key.
	keyOf func(string) string
	// initialCaps lists words that must be capitalised in the text.
	initialCaps map[string]bool
}

func newMatcher(keyOf func(string) string, initialCaps map[string]bool) *matcher {
	return &matcher{
		byFirst:     map[string][]*pattern{},
		byWords:     map[string]*pattern{},
		keyOf:       keyOf,
		initialCaps: initialCaps,
	}
}

// add registers phrase. proper makes every capitalised word of the phrase
// require a capital in the text (organisation names: "Better Work" is a
// partner, "better work" is not).
func (m *matcher) add(phrase string, k kind, values []string, proper, abbrev bool) error {
	toks := tokenize(phrase)
	if len(toks) == 0 {
		return fmt.Errorf("phrase %q has no words", phrase)
	}
	p := &pattern{phrase: phrase, kind: k, values: values}
	var id strings.Builder
	for _, t := range toks {
		w := patternWord{key: m.keyOf(t.key), raw: t.raw, rule: anyCase}
		switch {
		case abbrev || isAcronym(t.raw):
			w.rule = exactCase
		case m.initialCaps[t.key] || proper && startsUpper(t.raw):
			w.rule = initialCap
		}
		p.words = append(p.words, w)
		fmt.Fprintf(&id, "%s/%d/%s ", w.key, w.rule, rawIfExact(w))
	}
	if old, ok := m.byWords[id.String()]; ok {
		if old.kind != k {
			return fmt.Errorf("phrase %q is defined twice with different meanings (also %q)", phrase, old.phrase)
		}
		if k == countryKind || k == abbrevKind {
			if !slices.Equal(old.values, values) {
				return fmt.Errorf("phrase %q names both %v and %v", phrase, old.values, values)
			}
			return nil
		}
		old.values = appendNew(old.values, values...)
		return nil
	}
	m.byWords[id.String()] = p
	first := p.words[0].key
	list := append(m.byFirst[first], p)
	sort.SliceStable(list, func(i, j int) bool { return len(list[i].words) > len(list[j].words) })
	m.byFirst[first] = list
	return nil
}

func rawIfExact(w patternWord) string {
	if w.rule == exactCase {
		return w.raw
	}
	return ""
}

// isAcronym: a word with a capital after its first letter ("ILO", "BiH",
// "CKDnt") or a single capital letter (the parts of "U.S.").
func isAcronym(raw string) bool {
	for i, r := range raw {
		if i > 0 && unicode.IsUpper(r) {
			return true
		}
	}
	return len(raw) == 1 && unicode.IsUpper(rune(raw[0]))
}

func startsUpper(s string) bool {
	for _, r := range s {
		return unicode.IsUpper(r)
	}
	return false
}

// scan calls emit for every pattern found in words, left to right.
func (m *matcher) scan(words []word, emit func(*pattern)) {
	var at []*pattern // patterns matching at i, reused
	for i := 0; i < len(words); {
		var best *pattern
		at = at[:0]
		m.eachAt(words, i, func(p *pattern) {
			if best == nil || len(p.words) > len(best.words) {
				best = p
			}
			at = append(at, p)
		})
		switch {
		case best == nil:
			i++
		case best.kind == exclusion:
			i += len(best.words)
		case m.overlap:
			for _, p := range at {
				if p.kind != exclusion {
					emit(p)
				}
			}
			i++
		default:
			emit(best)
			i += len(best.words)
		}
	}
}

// eachAt calls fn for each pattern matching at words[i].
func (m *matcher) eachAt(words []word, i int, fn func(*pattern)) {
	key := words[i].key
	try := func(list []*pattern) {
		for _, p := range list {
			if m.matchesAt(p, words, i) {
				fn(p)
			}
		}
	}
	try(m.byFirst[key])
	if m.plural && len(key) > 3 && key[len(key)-1] == 's' {
		try(m.byFirst[key[:len(key)-1]])
	}
}

func (m *matcher) matchesAt(p *pattern, words []word, i int) bool {
	if i+len(p.words) > len(words) {
		return false
	}
	for j, pw := range p.words {
		w := words[i+j]
		switch pw.rule {
		case exactCase:
			if w.raw != pw.raw && w.raw != pw.raw+"s" {
				return false
			}
		default:
			if w.key != pw.key && !(m.plural && w.key == pw.key+"s") {
				return false
			}
			if pw.rule == initialCap && !startsUpper(w.raw) {
				return false
			}
		}
	}
	return true
}

// appendNew appends the values not already in list, keeping order.
func appendNew(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}
