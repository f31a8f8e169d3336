package seeds

// The seed corpus is in testdata/fuzz/FuzzParsePartnerPage/ (the real page
// and damaged variants); CI fuzzes it for a bounded time:
//
//	go test -run '^$' -fuzz '^FuzzParsePartnerPage$' -fuzztime 30s ./seeds

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpower/labor-search/index"
)

var errorLine = regexp.MustCompile(`^line (\d+): `)

// FuzzParsePartnerPage: any text either parses into a page whose every
// project is complete, or fails with an error naming a line of the text.
func FuzzParsePartnerPage(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		page, err := ParsePartnerPage(text)
		lines := strings.Count(normalizeChars(text), "\n") + 1
		if err != nil {
			m := errorLine.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error names no line: %v", err)
			}
			if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
				t.Fatalf("error names line %d of %d: %v", n, lines, err)
			}
			return
		}
		if strings.TrimSpace(page.Name) == "" {
			t.Fatalf("a page without a name parsed: %+v", page)
		}
		for _, p := range page.Projects {
			start, serr := time.Parse(index.DateLayout, p.Start)
			end, eerr := time.Parse(index.DateLayout, p.End)
			switch {
			case strings.TrimSpace(p.Title) == "":
				t.Fatalf("a project without a title parsed: %+v", p)
			case serr != nil || eerr != nil || end.Before(start):
				t.Fatalf("project %q has period %q–%q", p.Title, p.Start, p.End)
			case p.Line < 1 || p.Line > lines:
				t.Fatalf("project %q is at line %d of %d", p.Title, p.Line, lines)
			}
		}
	})
}
