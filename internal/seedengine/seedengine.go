// Package seedengine builds the search engine the way the service runs it:
// with the seeds' synonyms and the seeds' enrichment of every document
// written. The commands, the benchmarks and the tests share it so that they
// all measure and test the same engine.
package seedengine

import (
	"fmt"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// New builds the engine over ix. opts may set the rest (caches, clock,
// facet counting); its Synonyms and Enrich are the seeds'.
func New(ix *index.Index, opts search.Options) (*search.Engine, error) {
	synonyms, err := seeds.Synonyms()
	if err != nil {
		return nil, fmt.Errorf("synonyms: %w", err)
	}
	enricher, err := seeds.NewEnricher()
	if err != nil {
		return nil, fmt.Errorf("enricher: %w", err)
	}
	translations, err := seeds.Translations()
	if err != nil {
		return nil, fmt.Errorf("translations: %w", err)
	}
	optional, err := seeds.OptionalWords()
	if err != nil {
		return nil, fmt.Errorf("optional words: %w", err)
	}
	opts.Synonyms, opts.Translations, opts.OptionalWords, opts.Enrich = synonyms, translations, optional, enricher.Enrich
	return search.New(ix, opts)
}
