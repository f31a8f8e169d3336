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
//   - apostrophes (straight and curly) removed: "workers' rights" -> "workers rights";
//   - every other character that is not a letter or digit (hyphens, dots,
//     commas, NBSP, ...) becomes a space, and runs of spaces collapse:
//     "gender-based" -> "gender based", "U.S." -> "u s".
//
// Hyphens become spaces because the index's tokenizer splits on them too,
// so "non-traditional" and "non traditional" must look the same.
func Normalize(s string) string {
	s = fold(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case isApostrophe(r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
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
	words := strings.FieldsFunc(Normalize(title), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	return strings.Join(words, "-")
}
