// Package input explains bad input in the client's terms: an error that
// names the parameter or field at fault and says how to fix it, unknown
// names answered with the closest known one, and JSON decoding errors
// turned into messages a client can act on. It sits below both the HTTP
// layer and the document codec, so an API request and a line of a corpus
// file are refused in the same words.
package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is a problem with input that the caller can fix.
type Error struct {
	Param   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Invalid builds an *Error for param.
func Invalid(param, format string, args ...any) error {
	return &Error{Param: param, Message: fmt.Sprintf(format, args...)}
}

// CheckNames rejects a parameter the endpoint does not know, so a typo such
// as contry=Mexico fails loudly instead of silently returning everything.
func CheckNames[V any](given map[string]V, known []string, aliases map[string]string, noun string) error {
	var unknown []string
	for name := range given {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	name := unknown[0]
	hint := ""
	if alias, ok := aliases[strings.ToLower(name)]; ok {
		hint = fmt.Sprintf(" (did you mean %q?)", alias)
	} else {
		hint = DidYouMean(name, known)
	}
	msg := fmt.Sprintf("unknown %s %q%s", noun, Clip(name), hint)
	if len(unknown) > 1 {
		msg += fmt.Sprintf(" and %d more", len(unknown)-1)
	}
	return Invalid(name, "%s; valid %ss are %s", msg, noun, strings.Join(known, ", "))
}

// DidYouMean names the closest valid word to a misspelt one, or says
// nothing when none is close.
func DidYouMean(got string, valid []string) string {
	lower := strings.ToLower(got)
	best, bestDist := "", 3
	for _, v := range valid {
		if v == lower || singular(v) == singular(lower) {
			return fmt.Sprintf(" (did you mean %q?)", v)
		}
		// Up to two edits for longer words, one for short ones, so "to"
		// is not offered for "xo".
		limit := 2
		if len(v) <= 4 {
			limit = 1
		}
		// An edit distance as long as either word means nothing in common.
		if d := editDistance(lower, v); d <= limit && d < bestDist && d < len(lower) && d < len(v) {
			best, bestDist = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// singular strips an English plural ending, so "countries" and "country"
// are recognised as one name.
func singular(w string) string {
	if s, ok := strings.CutSuffix(w, "ies"); ok {
		return s + "y"
	}
	return strings.TrimSuffix(w, "s")
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 64
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Clip shortens a value echoed in an error message, so a huge bad value does
// not make a huge response.
func Clip(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// Object checks that body is one JSON object and returns its fields.
// what names the JSON in messages: "the request body", "the document".
func Object(body []byte, what string) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, Invalid("body", "%s is empty; send a JSON object", what)
	}
	if trimmed[0] != '{' {
		return nil, Invalid("body", "%s must be a JSON object", what)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, DecodeError(err, what, func(string) string { return "" })
	}
	return fields, nil
}

// DecodeError explains a decoding error in the client's terms; kind says what
// a field must hold.
func DecodeError(err error, what string, kind func(field string) string) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Invalid("body", "%s is not valid JSON (at byte %d): %s", what, syntax.Offset, syntax.Error())
	case errors.As(err, &typ) && typ.Field != "":
		return Invalid(typ.Field, "%s must be %s", typ.Field, kind(typ.Field))
	case errors.As(err, &typ):
		return Invalid("body", "%s must be a JSON object", what)
	}
	return Invalid("body", "%s is not valid JSON: %s", what, err.Error())
}
