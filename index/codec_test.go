package index

import (
	"strings"
	"testing"
)

// TestReadDocumentLines: every line is read on its own, so one bad line is
// reported with its number and id and the good ones around it still come
// through, in the words the API uses.
func TestReadDocumentLines(t *testing.T) {
	body := strings.Join([]string{
		`{"id":"a","title":"A"}`,
		``,
		`{"id":"b","titel":"B"}`,
		`{"id":"c","countries":"Peru"}`,
		`{"id":"d",`,
		`{"id":"e","title":"` + strings.Repeat("x", MaxDocumentBytes) + `"}`,
		`{"id":"f","title":"F"}`,
	}, "\n")
	lines, err := ReadDocumentLines(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		number  int
		id      string
		code    string // "" = decoded
		message string // part of the message
	}{
		{1, "a", "", ""},
		{3, "b", LineInvalid, `unknown field "titel" (did you mean "title"?)`},
		{4, "c", LineInvalid, "countries must be an array of strings"},
		{5, "", LineInvalid, "not valid JSON"},
		{6, "", LineTooLarge, "longer than"},
		{7, "f", "", ""},
	}
	if len(lines) != len(tests) {
		t.Fatalf("%d lines, want %d", len(lines), len(tests))
	}
	for i, want := range tests {
		l := lines[i]
		if l.Number != want.number || l.ID != want.id {
			t.Errorf("line %d: number %d id %q, want %d %q", i, l.Number, l.ID, want.number, want.id)
		}
		if want.code == "" {
			if l.Err != nil {
				t.Errorf("line %d: %v", want.number, l.Err)
			}
			continue
		}
		if l.Err == nil || l.Code() != want.code || !strings.Contains(l.Message(), want.message) {
			t.Errorf("line %d: code %q message %q, want %q containing %q", want.number, l.Code(), l.Message(), want.code, want.message)
		}
	}
	if _, err := ReadDocumentLines(strings.NewReader("\n \n")); err == nil {
		t.Error("a body of blank lines was accepted")
	}
}
