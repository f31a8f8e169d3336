package index

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/google/go-cmp/cmp"
)

// The cached stemmer must give exactly Bleve's Snowball stems, from a cold
// cache, a warm one and one that has forgotten, with workers in parallel.
func TestStemCacheMatchesSnowball(t *testing.T) {
	words := strings.Fields(`running runs ran runner organisations organizations organising
		union unions unionised trade trades trading labour labor workers worker's working
		rights rightful women women's children childhood employment employer employers
		communities community generalizations national nationalities inspections
		cafe café naïve über ﬁnancing x a the 2021 covid-19 u.s e-mail`)
	// Enough distinct words that every shard fills and starts over.
	for i := 0; len(words) < stemShards*stemShardWords*2; i++ {
		words = append(words, fmt.Sprintf("w%dings", i), fmt.Sprintf("zo%ded", i))
	}
	stream := func() analysis.TokenStream {
		ts := make(analysis.TokenStream, len(words))
		for i, w := range words {
			ts[i] = &analysis.Token{Term: []byte(w)}
		}
		return ts
	}
	terms := func(ts analysis.TokenStream) []string {
		out := make([]string, len(ts))
		for i, tk := range ts {
			out[i] = string(tk.Term)
		}
		return out
	}
	want := terms(en.NewEnglishStemmerFilter().Filter(stream()))
	c := newStemCache()
	for pass := range 2 {
		if diff := cmp.Diff(want, terms(c.Filter(stream()))); diff != "" {
			t.Fatalf("pass %d: cached stems differ from Snowball (-want +got):\n%s", pass, diff)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			if got := terms(c.Filter(stream())); !cmp.Equal(want, got) {
				errs <- cmp.Diff(want, got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for d := range errs {
		t.Fatalf("parallel: cached stems differ from Snowball (-want +got):\n%s", d)
	}
}

// A token's bytes are its own: changing one must not change a later stem.
func TestStemCacheReturnsCopies(t *testing.T) {
	c := newStemCache()
	a := c.Filter(analysis.TokenStream{{Term: []byte("unions")}})
	a[0].Term[0] = 'X'
	b := c.Filter(analysis.TokenStream{{Term: []byte("unions")}})
	if got := string(b[0].Term); got != "union" {
		t.Fatalf("stem of unions after changing an earlier one = %q, want union", got)
	}
}

// The text analyzer is the one search uses for queries, so it must stem.
func TestTextAnalyzerStems(t *testing.T) {
	m, err := NewMapping()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range m.AnalyzerNamed(AnalyzerText).Analyze([]byte("Workers' Unions organising in Café")) {
		got = append(got, string(tk.Term))
	}
	want := []string{"worker", "union", "organis", "cafe"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("text analysis (-want +got):\n%s", diff)
	}
}
