package search

import (
	"context"
	"errors"
	"time"

	"github.com/mpower/labor-search/index"
)

// Options are the engine's dependencies beyond the index.
type Options struct {
	// Synonyms maps a normalised phrase (lowercase words, accents folded,
	// single spaces) to phrases that a query for it also matches. Two-way
	// groups appear in both directions.
	Synonyms map[string][]string
	// Enrich fills what a written document lacks (countries, sectors, ...).
	Enrich func(*index.Document)
	// Now gives the current time; nil = time.Now.
	Now func() time.Time
}

// Engine answers searches and applies writes over one index.
type Engine struct {
	ix   *index.Index
	opts Options
}

var errNotReady = errors.New("search engine is being written")

// New builds an engine over an open index.
func New(ix *index.Index, opts Options) (*Engine, error) {
	return &Engine{ix: ix, opts: opts}, nil
}

// Search runs one request.
func (e *Engine) Search(ctx context.Context, r Request) (*Response, error) { return nil, errNotReady }

// Suggest completes what a visitor is typing.
func (e *Engine) Suggest(ctx context.Context, r SuggestRequest) (*SuggestResponse, error) {
	return nil, errNotReady
}

// Get returns one stored document, or ErrNotFound.
func (e *Engine) Get(ctx context.Context, id string) (*index.Document, error) {
	return nil, errNotReady
}

// Upsert validates, enriches and writes documents in one batch; it returns
// once the batch is durable (for an on-disk index). A validation problem is an
// *InvalidError naming the document.
func (e *Engine) Upsert(ctx context.Context, docs []index.Document) error { return errNotReady }

// Delete removes a document, or returns ErrNotFound.
func (e *Engine) Delete(ctx context.Context, id string) error { return errNotReady }

// Count is the number of documents in the index.
func (e *Engine) Count() (uint64, error) { return 0, errNotReady }
