package search

import (
	"strings"
	"unicode"
)

// definition is an acronym a text defines: "long form (SHORT)".
type definition struct{ short, long string }

// findAcronyms finds "long form (ACRONYM)" definitions with the
// Schwartz–Hearst algorithm: the acronym's letters are matched right to left
// inside the words before the parenthesis, the first letter at the start of
// a word, within at most min(|A|+5, 2|A|) words.
func findAcronyms(text string) []definition {
	var out []definition
	for i := 0; i < len(text); i++ {
		if text[i] != '(' {
			continue
		}
		j := strings.IndexByte(text[i:], ')')
		if j < 0 {
			break
		}
		short := strings.TrimSpace(text[i+1 : i+j])
		if !looksLikeAcronym(short) {
			continue
		}
		if long := longForm(short, text[:i]); long != "" {
			out = append(out, definition{short: short, long: long})
		}
	}
	return out
}

// looksLikeAcronym: one token of 2-12 characters, starting with a letter,
// with at least two capitals ("OSH", "CKDnt", "M-POWER", "PREP4Change").
func looksLikeAcronym(s string) bool {
	n := len([]rune(s))
	if n < 2 || n > 12 || strings.ContainsAny(s, " \t\n") {
		return false
	}
	upper := 0
	for i, r := range s {
		if i == 0 && !unicode.IsLetter(r) {
			return false
		}
		if unicode.IsUpper(r) {
			upper++
		}
	}
	return upper >= 2
}

func longForm(short, before string) string {
	var letters []rune
	for _, r := range strings.ToLower(short) {
		if unicode.IsLetter(r) {
			letters = append(letters, r)
		}
	}
	if len(letters) < 2 {
		return ""
	}
	words := strings.Fields(before)
	limit := len(letters) + 5
	if 2*len(letters) < limit {
		limit = 2 * len(letters)
	}
	if len(words) > limit {
		words = words[len(words)-limit:]
	}
	candidate := []rune(strings.ToLower(strings.Join(words, " ")))
	si, li := len(letters)-1, len(candidate)-1
	for si >= 0 {
		c := letters[si]
		for li >= 0 && (candidate[li] != c || (si == 0 && li > 0 && unicode.IsLetter(candidate[li-1]) || si == 0 && li > 0 && unicode.IsDigit(candidate[li-1]))) {
			li--
		}
		if li < 0 {
			return ""
		}
		si--
		li--
	}
	// li+1 is where the first letter matched; take from the start of that word.
	start := li + 1
	long := string(candidate[start:])
	long = strings.TrimRight(long, " ,;:")
	if len(strings.Fields(long)) < 2 || strings.EqualFold(long, short) {
		return ""
	}
	return long
}
