package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/mpower/labor-search/cmd/internal/loader"
	"github.com/mpower/labor-search/cmd/internal/memory"
	"github.com/mpower/labor-search/index"
)

// plainBatch is the batch size of Bleve's documentation examples.
const plainBatch = 1000

// buildPlain is the indexing baseline: the corpus indexed into dir by plain
// Bleve as its documentation shows, the default mapping (every field
// dynamic, with the composite _all field) and batches of 1,000 documents
// written one after another, with the Go runtime's defaults. It prints a
// line in the indexer's shape, so scripts read both alike.
func buildPlain(ctx context.Context, dir, corpusPath string, stdout io.Writer) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("-build-plain %s: the directory exists; give a new one", dir)
	}
	f, err := loader.Open(corpusPath)
	if err != nil {
		return err
	}
	defer f.Close()
	idx, err := bleve.New(dir, bleve.NewIndexMapping())
	if err != nil {
		return fmt.Errorf("create plain index %s: %w", dir, err)
	}
	start := time.Now()
	peak := memory.Watch(50 * time.Millisecond)
	n := 0
	var pending []index.Document
	flush := func() error {
		b := idx.NewBatch()
		for i := range pending {
			if err := b.Index(pending[i].ID, pending[i]); err != nil {
				return fmt.Errorf("plain index document %q: %w", pending[i].ID, err)
			}
		}
		if err := idx.Batch(b); err != nil {
			return fmt.Errorf("plain index batch: %w", err)
		}
		n += len(pending)
		pending = pending[:0]
		return ctx.Err()
	}
	// The source's own batches are re-cut to exactly plainBatch documents.
	err = f.Source(1 << 20)(func(docs []index.Document) error {
		for _, d := range docs {
			pending = append(pending, d)
			if len(pending) == plainBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil && len(pending) > 0 {
		err = flush()
	}
	if cerr := idx.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close plain index: %w", cerr)
	}
	took := time.Since(start)
	heap := peak.Stop()
	if err != nil {
		return err
	}
	rss := "unknown"
	if v, ok := memory.PeakRSS(); ok {
		rss = memory.FormatBytes(v)
	}
	fmt.Fprintf(stdout, "plain Bleve indexed %d documents from %s into %s in %.2f s (%.0f documents/s); peak heap %s, peak RSS %s\n",
		n, corpusPath, dir, took.Seconds(), float64(n)/took.Seconds(), memory.FormatBytes(int64(heap)), rss)
	return nil
}
