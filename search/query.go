package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

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

func termGroup(stem string, boost float64) query.Query {
	return termGroupIn(textFields, stem, boost)
}

// termGroupIn matches a stem in the given fields, each with its weight.
func termGroupIn(fields []fieldWeight, stem string, boost float64) query.Query {
	qs := make([]query.Query, 0, len(fields))
	for _, f := range fields {
		t := bleve.NewTermQuery(stem)
		t.SetField(f.field)
		t.SetBoost(f.weight * boost)
		qs = append(qs, t)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// phraseFields keep term vectors, which phrase queries need.
var phraseFields = textFields[:2]

// phraseGroup matches a phrase in the title or the description, through
// the index's phrase queries, which remember per snapshot which documents
// hold a phrase.
//
// The metadata lists have no term vectors; a value there is a few words
// ("Child labour"), so a phrase matches one when all its words are in the
// same list. Without it a record tagged with the phrase but not saying it
// in its text is missed by every synonym and translation of it ("trabajo
// infantil" never reached a record whose area is Child labour).
func (e *Engine) phraseGroup(phrase string, boost float64) query.Query {
	return e.phraseIn(phrase, boost, true)
}

// quotedGroup matches a phrase the visitor quoted: in the text only, word
// for word and in order, as quotes promise.
func (e *Engine) quotedGroup(phrase string, boost float64) query.Query {
	return e.phraseIn(phrase, boost, false)
}

func (e *Engine) phraseIn(phrase string, boost float64, metadata bool) query.Query {
	qs := make([]query.Query, 0, len(textFields))
	for _, f := range phraseFields {
		qs = append(qs, e.ix.NewPhrase(phrase, f.field, f.weight*boost))
	}
	toks := e.tokens(phrase, index.AnalyzerText)
	if !metadata || len(toks) < 2 {
		return bleve.NewDisjunctionQuery(qs...)
	}
	for _, f := range textFields[len(phraseFields):] {
		words := make([]query.Query, len(toks))
		for i, t := range toks {
			tq := bleve.NewTermQuery(t.term)
			tq.SetField(f.field)
			tq.SetBoost(f.weight * boost)
			words[i] = tq
		}
		qs = append(qs, bleve.NewConjunctionQuery(words...))
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// expansion records how a word was widened, for did-you-mean.
type expansion struct {
	known       bool        // the word itself is in the index
	typos       []candidate // closest indexed words
	completions int
}

// wordClause matches one word: itself, its synonyms, its parts when it is a
// compound, its completions when it is being typed, and its near spellings.
func (e *Engine) wordClause(word string, alts []string, prefix bool, v *vocab, exp *expansion) query.Query {
	seen := map[string]bool{}
	var clauses []query.Query
	addTermIn := func(fields []fieldWeight, w string, boost float64) {
		s := e.stem(w)
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		clauses = append(clauses, termGroupIn(fields, s, boost))
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
				clauses = append(clauses, e.phraseGroup(a, e.altBoost(word, a)))
			}
		} else {
			addTerm(a, e.altBoost(word, a))
		}
	}
	if v == nil {
		return bleve.NewDisjunctionQuery(clauses...)
	}
	exp.known = v.has(word)
	if a, b, ok := v.split(word); ok && !exp.known || ok && len(word) >= 8 {
		clauses = append(clauses, e.phraseGroup(a+" "+b, boostCompound))
	}
	if prefix {
		cs := v.prefix(word, maxPrefixTerms)
		exp.completions = len(cs)
		for _, c := range cs {
			addExpansion(c.term, boostPrefix)
		}
	}
	// Typos widen only words the index does not hold (Typesense's
	// typo_tokens_threshold of 1): a known word means what it says, and the
	// fuzzy walk of the dictionary is the costliest part of building a query.
	if !exp.known {
		exp.typos = v.fuzzy(word, maxFuzzyTerms)
	}
	for _, c := range exp.typos {
		b := boostTypo1
		if c.dist > 1 {
			b = boostTypo2
		}
		addExpansion(c.term, b)
	}
	return bleve.NewDisjunctionQuery(clauses...)
}

func hasTerm(toks []token, term string) bool {
	for _, t := range toks {
		if t.term == term {
			return true
		}
	}
	return false
}

// unitClause builds the clause a document must satisfy for one unit and,
// for a phrase from a table, the clause of each of its words.
func (e *Engine) unitClause(u unit, v *vocab, exp []expansion) (query.Query, []query.Query) {
	if u.quoted {
		if len(u.words) == 1 {
			return e.wordClause(u.words[0], nil, false, nil, nil), nil
		}
		return e.quotedGroup(u.raw, boostExact), nil
	}
	if len(u.words) == 1 {
		return e.wordClause(u.words[0], u.alts, u.prefix, v, &exp[0]), nil
	}
	// A phrase from a table: every word (each with its own typos), or the
	// phrase itself, or any of its alternatives.
	parts := make([]query.Query, len(u.words))
	for i, w := range u.words {
		parts[i] = e.wordClause(w, e.synonymsOf(w), false, v, &exp[i])
	}
	clauses := []query.Query{bleve.NewConjunctionQuery(parts...), e.phraseGroup(u.raw, boostExact)}
	key := strings.Join(u.words, " ")
	for _, a := range u.alts {
		if e.isPhrase(a) {
			clauses = append(clauses, e.phraseGroup(a, e.altBoost(key, a)))
		} else if s := e.stem(a); s != "" {
			clauses = append(clauses, termGroup(s, e.altBoost(key, a)))
		}
	}
	return bleve.NewDisjunctionQuery(clauses...), parts
}

// isPhrase says whether text analyses to more than one word.
func (e *Engine) isPhrase(text string) bool {
	return len(e.tokens(text, index.AnalyzerText)) > 1
}

// exclusionClause matches what a "-word" or -"phrase" excludes: the word
// itself and its synonyms, no typos.
func (e *Engine) exclusionClause(u unit) query.Query {
	if len(u.words) == 1 {
		return e.wordClause(u.words[0], e.synonymsOf(u.words[0]), false, nil, nil)
	}
	return e.phraseGroup(u.raw, boostExact)
}
