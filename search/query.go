package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mpower/labor-search/index"
)

// MaxQueryWords bounds the words of one query: each word becomes a bounded
// clause, so this bounds the whole query.
const MaxQueryWords = 32

// segment is one piece of the typed text: a word run, a "quoted phrase", or
// either excluded with a leading "-".
type segment struct {
	text    string
	offset  int // byte offset in the query
	quoted  bool
	exclude bool
}

// lex splits query text into segments. Malformed syntax never errors: an
// unclosed quote or a lone "-" falls back to plain words.
func lex(q string) []segment {
	var out []segment
	i := 0
	for i < len(q) {
		r, size := utf8.DecodeRuneInString(q[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		exclude := false
		if r == '-' && i+1 < len(q) {
			next, _ := utf8.DecodeRuneInString(q[i+1:])
			if !unicode.IsSpace(next) && next != '-' {
				exclude = true
				i++
				r, size = utf8.DecodeRuneInString(q[i:])
			}
		}
		if r == '"' {
			if end := strings.IndexByte(q[i+1:], '"'); end >= 0 {
				out = append(out, segment{text: q[i+1 : i+1+end], offset: i + 1, quoted: true, exclude: exclude})
				i += end + 2
				continue
			}
			// Unclosed quote: the rest is plain words.
			i += size
			continue
		}
		start := i
		for i < len(q) {
			r, size := utf8.DecodeRuneInString(q[i:])
			if unicode.IsSpace(r) || r == '"' {
				break
			}
			i += size
		}
		out = append(out, segment{text: neutralize(q[start:i]), offset: start, exclude: exclude})
	}
	return out
}

// syntaxChars are query-language characters of other engines (fields,
// boosts, fuzziness, wildcards, regular expressions, grouping). They are not
// interpreted; they separate words. Replaced one byte for one byte, so
// offsets into the query stay valid.
const syntaxChars = ":^~*?()[]{}/\\!+=&|<>"

func neutralize(s string) string {
	if !strings.ContainsAny(s, syntaxChars) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if strings.IndexByte(syntaxChars, c) >= 0 {
			b[i] = ' '
		}
	}
	return string(b)
}

// unit is one required part of a query: a word, a multi-word phrase that a
// synonym table or a compound names, or a quoted phrase. Relaxation drops
// whole units from the end.
type unit struct {
	words []string // analysed words (lowercase, folded, unstemmed)
	// spans are the byte offsets in the query of each word as typed.
	spans  [][2]int
	raw    string // as typed
	start  int    // byte offsets of raw in the query
	end    int
	quoted bool
	prefix bool     // the last word, still being typed
	alts   []string // phrases it also matches (synonyms, compounds)
}

// parsed is a query broken into units.
type parsed struct {
	units    []unit
	excluded []unit
	words    int
}

// parse analyses query text into units, finding synonym phrases (longest
// first) and compounds written apart.
func (e *Engine) parse(q string, v *vocab) (parsed, error) {
	var p parsed
	type tok struct {
		word       string
		start, end int
	}
	var run []tok // consecutive plain words, for phrase detection
	flush := func() {
		for i := 0; i < len(run); {
			n := 1
			var alts []string
			// Longest synonym phrase first.
			for k := min(maxSynonymWords, len(run)-i); k >= 1; k-- {
				ws := make([]string, k)
				for j := range ws {
					ws[j] = run[i+j].word
				}
				if syn := e.synonymsOf(strings.Join(ws, " ")); len(syn) > 0 {
					n, alts = k, syn
					break
				}
			}
			// Two words that the index holds as one ("work place").
			if n == 1 && len(alts) == 0 && i+1 < len(run) && v != nil {
				if joined := run[i].word + run[i+1].word; v.has(joined) {
					n, alts = 2, []string{joined}
				}
			}
			u := unit{raw: q[run[i].start:run[i+n-1].end], start: run[i].start, end: run[i+n-1].end, alts: alts}
			for j := 0; j < n; j++ {
				u.words = append(u.words, run[i+j].word)
				u.spans = append(u.spans, [2]int{run[i+j].start, run[i+j].end})
			}
			p.units = append(p.units, u)
			i += n
		}
		run = run[:0]
	}
	segs := lex(q)
	for si, s := range segs {
		toks := e.tokens(s.text, index.AnalyzerWords)
		p.words += len(toks)
		if len(toks) == 0 {
			continue
		}
		if s.quoted || s.exclude {
			flush()
			u := unit{raw: s.text, start: s.offset, end: s.offset + len(s.text), quoted: s.quoted}
			for _, t := range toks {
				u.words = append(u.words, t.term)
				u.spans = append(u.spans, [2]int{s.offset + t.start, s.offset + t.end})
			}
			if s.exclude {
				p.excluded = append(p.excluded, u)
			} else {
				p.units = append(p.units, u)
			}
			continue
		}
		for _, t := range toks {
			run = append(run, tok{word: t.term, start: s.offset + t.start, end: s.offset + t.end})
		}
		_ = si
	}
	flush()
	if p.words > MaxQueryWords {
		return parsed{}, Invalid("q", "q has %d words; at most %d are searched", p.words, MaxQueryWords)
	}
	// Search as you type: the last word, when only punctuation follows it,
	// is also a prefix.
	if n := len(p.units); n > 0 && !endsWithSpace(q) {
		last := &p.units[n-1]
		if !last.quoted && len(last.words) == 1 && !strings.ContainsFunc(q[last.end:], isWordRune) {
			last.prefix = true
		}
	}
	return p, nil
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) }

func endsWithSpace(q string) bool {
	r, _ := utf8.DecodeLastRuneInString(q)
	return unicode.IsSpace(r)
}

// fieldWeight is how much a match in a field counts.
type fieldWeight struct {
	field  string
	weight float64
}

// textFields: title matters most; metadata lists make a project tagged
// Honduras rank for "honduras" even when its text never says it.
var textFields = []fieldWeight{
	{index.FieldTitle, 3},
	{index.FieldDescription, 1},
	{index.FieldCountries + index.TextSuffix, 2},
	{index.FieldRegions + index.TextSuffix, 1},
	{index.FieldSectors + index.TextSuffix, 1.5},
	{index.FieldAreas + index.TextSuffix, 1.5},
	{index.FieldPartners + index.TextSuffix, 1},
}

// Boosts by how a word matched: exact above synonyms above completions
// above typos.
const (
	boostExact   = 1.0
	boostSynonym = 0.9
	// boostTranslation ranks an English record for a Spanish, French or
	// Portuguese query below the records in the query's language.
	boostTranslation = 0.5
	boostCompound    = 0.8
	boostPrefix      = 0.5
	boostTypo1       = 0.3
	boostTypo2       = 0.15
)

// marks are the title and description terms a query's clauses look for,
// to be marked in the hits' text: field, then analysed term. Nil records
// nothing.
type marks map[string]map[string]bool

func (m marks) add(field, term string) {
	if m == nil || field != index.FieldTitle && field != index.FieldDescription {
		return
	}
	if m[field] == nil {
		m[field] = map[string]bool{}
	}
	m[field][term] = true
}

// clauses builds the clauses of one query's words against one snapshot's
// vocabulary (nil: the words as typed, no completions, typos or compounds),
// noting in marks the terms to highlight.
type clauses struct {
	e     *Engine
	v     *vocab
	marks marks
}

// exact is the same builder without vocabulary look-ups.
func (c clauses) exact() clauses { return clauses{e: c.e, marks: c.marks} }

func (c clauses) termGroup(stem string, boost float64) index.Clause {
	return c.termGroupIn(textFields, stem, boost)
}

// termGroupIn matches a stem in the given fields, each with its weight.
func (c clauses) termGroupIn(fields []fieldWeight, stem string, boost float64) index.Clause {
	out := make(index.AnyOf, 0, len(fields))
	for _, f := range fields {
		out = append(out, index.Term{Field: f.field, Term: stem, Boost: f.weight * boost})
		c.marks.add(f.field, stem)
	}
	return out
}

// phraseFields keep term vectors, which phrase queries need.
var phraseFields = textFields[:2]

// phraseGroup matches a phrase in the title or the description, through
// the index's phrase clauses, which remember per snapshot which documents
// hold a phrase.
//
// The metadata lists have no term vectors; a value there is a few words
// ("Child labour"), so a phrase matches one when all its words are in the
// same list. Without it a record tagged with the phrase but not saying it
// in its text is missed by every synonym and translation of it ("trabajo
// infantil" never reached a record whose area is Child labour).
func (c clauses) phraseGroup(phrase string, boost float64) index.Clause {
	return c.phraseIn(phrase, boost, true)
}

// quotedGroup matches a phrase the visitor quoted: in the text only, word
// for word and in order, as quotes promise.
func (c clauses) quotedGroup(phrase string, boost float64) index.Clause {
	return c.phraseIn(phrase, boost, false)
}

func (c clauses) phraseIn(phrase string, boost float64, metadata bool) index.Clause {
	out := make(index.AnyOf, 0, len(textFields))
	toks := c.e.tokens(phrase, index.AnalyzerText)
	for _, f := range phraseFields {
		out = append(out, index.Phrase{Field: f.field, Text: phrase, Boost: f.weight * boost})
		for _, t := range toks {
			c.marks.add(f.field, t.term)
		}
	}
	if !metadata || len(toks) < 2 {
		return out
	}
	for _, f := range textFields[len(phraseFields):] {
		words := make(index.AllOf, len(toks))
		for i, t := range toks {
			words[i] = index.Term{Field: f.field, Term: t.term, Boost: f.weight * boost}
		}
		out = append(out, words)
	}
	return out
}

// expansion records how a word was widened, for did-you-mean.
type expansion struct {
	known       bool        // the word itself is in the index
	typos       []candidate // closest indexed words
	completions int
}

// word matches one word: itself, its synonyms, its parts when it is a
// compound, its completions when it is being typed, and its near spellings.
func (c clauses) word(word string, alts []string, prefix bool, exp *expansion) index.Clause {
	e, v := c.e, c.v
	seen := map[string]bool{}
	var out index.AnyOf
	addTermIn := func(fields []fieldWeight, w string, boost float64) {
		s := e.stem(w)
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, c.termGroupIn(fields, s, boost))
	}
	addTerm := func(w string, boost float64) { addTermIn(textFields, w, boost) }
	// Completions and near spellings are looked for in the text only: the
	// metadata lists are short vocabularies matched exactly, and every
	// expanded term costs a searcher per field on every matching document.
	addExpansion := func(w string, boost float64) { addTermIn(phraseFields, w, boost) }
	addTerm(word, boostExact)
	stem := e.stem(word)
	for _, a := range alts {
		if toks := e.tokens(a, index.AnalyzerText); len(toks) > 1 {
			// A phrase holding the word itself ("unions" -> "trade
			// unions") matches nothing the word does not; it would only
			// raise the score of documents that have it, at the cost of
			// scoring its words on every one of them (measured at a
			// million documents: "unions" 66 ms with it, 36 ms without).
			if !hasTerm(toks, stem) {
				out = append(out, c.phraseGroup(a, e.altBoost(word, a)))
			}
		} else {
			addTerm(a, e.altBoost(word, a))
		}
	}
	if v == nil {
		return out
	}
	exp.known = v.has(word)
	if a, b, ok := v.split(word); ok && !exp.known || ok && len(word) >= 8 {
		out = append(out, c.phraseGroup(a+" "+b, boostCompound))
	}
	if prefix {
		cs := v.prefix(word, maxPrefixTerms)
		exp.completions = len(cs)
		for _, cand := range cs {
			addExpansion(cand.term, boostPrefix)
		}
	}
	// Typos widen only words the index does not hold (Typesense's
	// typo_tokens_threshold of 1): a known word means what it says, and the
	// fuzzy walk of the dictionary is the costliest part of building a query.
	if !exp.known {
		exp.typos = v.fuzzy(word, maxFuzzyTerms)
	}
	for _, cand := range exp.typos {
		b := boostTypo1
		if cand.dist > 1 {
			b = boostTypo2
		}
		addExpansion(cand.term, b)
	}
	return out
}

func hasTerm(toks []token, term string) bool {
	for _, t := range toks {
		if t.term == term {
			return true
		}
	}
	return false
}

// unit builds the clause a document must satisfy for one unit and, for a
// phrase from a table, the clause of each of its words.
func (c clauses) unit(u unit, exp []expansion) (index.Clause, []index.Clause) {
	e := c.e
	if u.quoted {
		if len(u.words) == 1 {
			return c.exact().word(u.words[0], nil, false, nil), nil
		}
		return c.quotedGroup(u.raw, boostExact), nil
	}
	if len(u.words) == 1 {
		return c.word(u.words[0], u.alts, u.prefix, &exp[0]), nil
	}
	// A phrase from a table: every word (each with its own typos), or the
	// phrase itself, or any of its alternatives.
	parts := make([]index.Clause, len(u.words))
	for i, w := range u.words {
		parts[i] = c.word(w, e.synonymsOf(w), false, &exp[i])
	}
	out := index.AnyOf{index.AllOf(parts), c.phraseGroup(u.raw, boostExact)}
	key := strings.Join(u.words, " ")
	for _, a := range u.alts {
		if e.isPhrase(a) {
			out = append(out, c.phraseGroup(a, e.altBoost(key, a)))
		} else if s := e.stem(a); s != "" {
			out = append(out, c.termGroup(s, e.altBoost(key, a)))
		}
	}
	return out, parts
}

// isPhrase says whether text analyses to more than one word.
func (e *Engine) isPhrase(text string) bool {
	return len(e.tokens(text, index.AnalyzerText)) > 1
}

// exclusion matches what a "-word" or -"phrase" excludes: the word itself
// and its synonyms, no typos. Nothing of it is marked in the hits.
func (e *Engine) exclusion(u unit) index.Clause {
	c := clauses{e: e}
	if len(u.words) == 1 {
		return c.word(u.words[0], e.synonymsOf(u.words[0]), false, nil)
	}
	return c.phraseGroup(u.raw, boostExact)
}
