package loader

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
)

func mustFile(t *testing.T, content string) *File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docs.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestSourceBatches(t *testing.T) {
	var lines []string
	for i := range 5 {
		lines = append(lines, fmt.Sprintf(`{"id":"d%d","kind":"project","title":"Title %d"}`, i, i))
	}
	content := strings.Join(lines, "\n\n") + "\n" // blank lines between
	tests := []struct {
		batchBytes int
		want       [][]string
	}{
		{1, [][]string{{"d0"}, {"d1"}, {"d2"}, {"d3"}, {"d4"}}},
		{len(lines[0]) * 2, [][]string{{"d0", "d1"}, {"d2", "d3"}, {"d4"}}},
		{1 << 20, [][]string{{"d0", "d1", "d2", "d3", "d4"}}},
	}
	for _, test := range tests {
		f := mustFile(t, content)
		var got [][]string
		err := f.Source(test.batchBytes)(func(docs []index.Document) error {
			var ids []string
			for _, d := range docs {
				ids = append(ids, d.ID)
			}
			got = append(got, ids)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(test.want, got); diff != "" {
			t.Errorf("batchBytes %d mismatch (-want +got):\n%s", test.batchBytes, diff)
		}
		if f.Consumed() != int64(len(content)) || f.Size() != int64(len(content)) {
			t.Errorf("consumed %d of %d, want all %d", f.Consumed(), f.Size(), len(content))
		}
	}
}

func TestSourceStopsAtTheFirstBadLine(t *testing.T) {
	f := mustFile(t, `{"id":"a","kind":"project","title":"A"}`+"\n"+`{"id":"b","kind":"project"}`+"\n"+`{"id":"c","kind":"project","title":"C"}`+"\n")
	yielded := 0
	err := f.Source(1)(func(docs []index.Document) error { yielded += len(docs); return nil })
	if err == nil || !strings.Contains(err.Error(), "docs.jsonl line 2: title is required") {
		t.Errorf("err = %v, want it to name line 2 and the problem", err)
	}
	if yielded != 1 {
		t.Errorf("%d documents yielded before the bad line, want 1", yielded)
	}
}

func TestSeeds(t *testing.T) {
	src, n, err := Seeds()
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	if err := src(func(docs []index.Document) error { got += len(docs); return nil }); err != nil {
		t.Fatal(err)
	}
	if got != n || n == 0 {
		t.Errorf("yielded %d, announced %d", got, n)
	}
}
