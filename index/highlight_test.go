package index

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMatchesPointAtTheMarkedWords checks that Matches gives the byte
// ranges of the words Highlight marks, in the original text: after
// multi-byte letters, in both fields, and words whose analysed term differs
// from their spelling (a plural stemmed, an accent folded).
func TestMatchesPointAtTheMarkedWords(t *testing.T) {
	ix := mustOpen(t, "")
	d := &Document{ID: "x", Title: "Côte d'Ivoire cocoa workers", Description: "Árbol — workers' rights & <b>cocoa</b> farms; Workers unite."}
	terms := map[string]map[string]bool{}
	for _, field := range []string{FieldTitle, FieldDescription} {
		terms[field] = map[string]bool{}
		for _, w := range []string{"cocoa", "worker", "arbol"} {
			for _, tok := range ix.mapping.AnalyzerNamed(ix.mapping.AnalyzerNameForPath(field)).Analyze([]byte(w)) {
				terms[field][string(tok.Term)] = true
			}
		}
	}
	got, err := ix.Matches(d, terms)
	if err != nil {
		t.Fatal(err)
	}
	words := map[string][]string{}
	for field, spans := range got {
		text := d.Title
		if field == FieldDescription {
			text = d.Description
		}
		for _, s := range spans {
			words[field] = append(words[field], text[s.Start:s.End])
		}
	}
	want := map[string][]string{
		FieldTitle:       {"cocoa", "workers"},
		FieldDescription: {"Árbol", "workers", "cocoa", "Workers"},
	}
	if diff := cmp.Diff(want, words); diff != "" {
		t.Errorf("matched words (-want +got):\n%s", diff)
	}

	// Highlight marks the same words.
	frags, err := ix.Highlight(d, terms)
	if err != nil {
		t.Fatal(err)
	}
	for field, ws := range want {
		for _, w := range ws {
			if !strings.Contains(strings.Join(frags[field], " "), "<mark>"+w+"</mark>") {
				t.Errorf("%s: Highlight %q does not mark %q", field, frags[field], w)
			}
		}
	}
	if _, err := ix.Matches(d, map[string]map[string]bool{FieldCountries: {"peru": true}}); err == nil {
		t.Error("Matches on a field that is not highlighted gave no error")
	}
}

// TestHighlightStemsOnlyWhatCanMatch: the highlighter stems only words that
// begin like a wanted stem; over every word of the dev set's records it
// finds exactly the tokens that analysing the whole text finds.
func TestHighlightStemsOnlyWhatCanMatch(t *testing.T) {
	ix := mustOpen(t, "")
	raw, err := os.ReadFile("../search/testdata/devset/projects.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	text := ix.mapping.AnalyzerNamed(AnalyzerText)
	for n, line := range bytes.Split(raw, []byte("\n")) {
		var d Document
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		// Each stem of the text on its own is found wherever the whole
		// analysis puts it.
		where := map[string][]Span{}
		for _, tok := range text.Analyze([]byte(d.Description)) {
			where[string(tok.Term)] = append(where[string(tok.Term)], Span{Start: tok.Start, End: tok.End})
		}
		for term, want := range where {
			got, err := ix.Matches(&d, map[string]map[string]bool{FieldDescription: {term: true}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got[FieldDescription]); diff != "" {
				t.Fatalf("%s: matches of %q differ from the whole analysis (-want +got):\n%s", d.ID, term, diff)
			}
		}
	}
}
