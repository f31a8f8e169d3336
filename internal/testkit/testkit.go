// Package testkit holds the fixtures the tests and benchmarks of several
// packages share: an engine over given documents, and a log buffer that
// handler goroutines may write while a test reads it. One set-up for all
// keeps the tests on the engine the service runs, built the same way.
package testkit

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// Engine describes an engine to build.
type Engine struct {
	// Dir is the index directory; "" keeps the index in memory.
	Dir string
	// Index and Search are the options of the index and the engine.
	Index  index.Options
	Search search.Options
	// Seeded builds the service's engine (internal/seedengine): the seeds'
	// synonyms, translations, optional words and enrichment replace those
	// of Search.
	Seeded bool
	// SeedDocuments writes the seed pages' documents first.
	SeedDocuments bool
	// Docs are written after the seed documents, through the engine (so
	// enriched as an API write would be).
	Docs []index.Document
}

// New builds the engine and its index, writes the documents, and closes
// the index when the test ends.
func New(tb testing.TB, cfg Engine) (*search.Engine, *index.Index) {
	tb.Helper()
	ix, err := index.Open(cfg.Dir, cfg.Index)
	if err != nil {
		tb.Fatalf("open index %q: %v", cfg.Dir, err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	var e *search.Engine
	if cfg.Seeded {
		e, err = seedengine.New(ix, cfg.Search)
	} else {
		e, err = search.New(ix, cfg.Search)
	}
	if err != nil {
		tb.Fatalf("build engine: %v", err)
	}
	docs := cfg.Docs
	if cfg.SeedDocuments {
		seedDocs, err := seeds.Documents()
		if err != nil {
			tb.Fatalf("seed documents: %v", err)
		}
		docs = append(seedDocs, docs...)
	}
	if len(docs) > 0 {
		if err := e.Upsert(context.Background(), docs); err != nil {
			tb.Fatalf("write %d documents: %v", len(docs), err)
		}
	}
	return e, ix
}

// SyncBuffer collects output written from several goroutines (a server's
// log) for a test to read.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Clock is a test's time, moved by hand, so rate limits, fold windows and
// retention are tested without sleeping. Safe for the goroutines of a
// server under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time; pass the method value as a component's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
