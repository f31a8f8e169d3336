package index

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/registry"
)

// foldFilterName folds accents and typographic punctuation to ASCII per
// token. Bleve ships folding only as a character filter, which runs before
// tokenising and shifts every later byte offset when a multi-byte character
// becomes one byte; highlights would then mark the wrong letters of the
// stored text. Folding tokens keeps offsets pointing into the original.
const foldFilterName = "fold_ascii"

type foldFilter struct {
	fold *asciifolding.AsciiFoldingFilter
}

func (f foldFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		for _, b := range t.Term {
			if b >= utf8.RuneSelf {
				t.Term = f.fold.Filter(t.Term)
				break
			}
		}
	}
	return input
}

var registerFold sync.Once

// registerAnalysis adds our token filter to Bleve's registry, once, before
// any mapping refers to it. Bleve's registry is process-wide by design.
func registerAnalysis() error {
	var err error
	registerFold.Do(func() {
		err = registry.RegisterTokenFilter(foldFilterName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
			return foldFilter{fold: asciifolding.New()}, nil
		})
		if err == nil {
			err = registerStem()
		}
	})
	if err != nil {
		return fmt.Errorf("register token filters: %w", err)
	}
	return nil
}
