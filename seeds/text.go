package seeds

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
)

// Normalize is the form in which vocabularies are keyed and against which a
// query is looked up:
//   - accents and ligatures folded to ASCII with Bleve's asciifolding (the
//     Lucene table the index uses too): "Caña" -> "cana", "Côte" -> "cote";
//   - lowercased;
//   - a French elided article dropped, as the index's elision filter drops
//     it: "d'Ivoire" -> "ivoire", "l'enfant" -> "enfant";
//   - other apostrophes (straight and curly) removed: "workers' rights" ->
//     "workers rights";
//   - every other character that is not a letter or digit (hyphens, dots,
//     commas, NBSP, ...) becomes a space, and runs of spaces collapse:
//     "gender-based" -> "gender based", "U.S." -> "u s".
//
// Hyphens become spaces because the index's tokenizer splits on them too,
// so "non-traditional" and "non traditional" must look the same.
func Normalize(s string) string { return normalize(s, true) }

// normalize is Normalize, with the elision of French articles optional.
func normalize(s string, elision bool) string {
	s = fold(s)
	var b strings.Builder
	b.Grow(len(s))
	word := make([]rune, 0, 16)
	flush := func() {
		w := word
		if elision {
			w = elide(w)
		}
		out := false
		for _, r := range w {
			if isApostrophe(r) {
				continue
			}
			if !out && b.Len() > 0 {
				b.WriteByte(' ')
			}
			out = true
			b.WriteRune(r)
		}
		word = word[:0]
	}
	for _, r := range s {
		switch {
		case isApostrophe(r), unicode.IsLetter(r) || unicode.IsDigit(r):
			word = append(word, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return b.String()
}

// elidedArticles are the French articles and conjunctions that lose their
// vowel before another word (Bleve's articles_fr).
var elidedArticles = map[string]bool{
	"l": true, "m": true, "t": true, "qu": true, "n": true, "s": true, "j": true, "d": true, "c": true,
	"jusqu": true, "quoiqu": true, "lorsqu": true, "puisqu": true,
}

// elide drops an elided article and its apostrophe from the start of a word.
func elide(w []rune) []rune {
	for i, r := range w {
		if isApostrophe(r) {
			if elidedArticles[string(w[:i])] {
				return w[i+1:]
			}
			return w
		}
	}
	return w
}

// fold folds accents to ASCII; pure ASCII input is returned as is.
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return string(asciifolding.New().Filter([]byte(s)))
		}
	}
	return s
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '\u2019', '\u2018', '\u02bc', '`', '\u00b4':
		return true
	}
	return false
}

// token is one word of a text: a run of letters and digits. Everything else,
// apostrophes and hyphens included, separates words, so "Mexico’s" gives
// "Mexico" and "s", and "Guinea-Bissau" gives "Guinea" and "Bissau".
type token struct {
	raw string // accent-folded, as written
	key string // raw, lowercased
}

// tokenize splits s into words, accent-folded.
func tokenize(s string) []token {
	s = fold(s)
	toks := make([]token, 0, len(s)/6)
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			toks = append(toks, newToken(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, newToken(s[start:]))
	}
	return toks
}

func newToken(raw string) token {
	return token{raw: raw, key: strings.ToLower(raw)}
}

// Slug makes a stable, URL-safe id from a title: accents folded, lowercase
// ASCII letters and digits only, words joined by single hyphens, apostrophes
// dropped ("Workers' Ability" -> "workers-ability").
func Slug(title string) string {
	// Ids are kept as they were before elision was folded: a slug is a
	// stable name, not a search key.
	words := strings.FieldsFunc(normalize(title, false), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	return strings.Join(words, "-")
}
