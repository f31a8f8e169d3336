package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/replication"
	"github.com/mpower/labor-search/search"
)

// Bounds of one atomic batch of the seeding: under JetStream's message
// count limit, and small enough in bytes to stage on the stream leader.
const (
	publishChunkDocs  = 500
	publishChunkBytes = 8 << 20
)

// publish writes the documents of src to the replicated log in atomic
// batches. Each batch's Idempotency-Key is a hash of its documents, so a
// re-run inside the log's duplicate window writes nothing again, and one
// after it rewrites identical documents, which changes nothing a search sees.
func publish(ctx context.Context, cfg config, src search.Source, from string, stdout io.Writer) error {
	// The engine prepares (validates, enriches) the documents as searchd
	// would; its in-memory index stays empty.
	ix, err := index.Open("", index.Options{})
	if err != nil {
		return err
	}
	defer ix.Close()
	engine, err := seedengine.New(ix, search.Options{})
	if err != nil {
		return err
	}
	rep, err := replication.New(ctx, replication.Config{
		URLs: cfg.natsURLs, Stream: cfg.stream, Credentials: cfg.natsCreds, Name: "indexer",
		WriteTimeout: 30 * time.Second,
	}, engine)
	if err != nil {
		return err
	}
	defer rep.Close()
	start := time.Now()
	var n int
	var last uint64
	flush := func(chunk []index.Document) error {
		if len(chunk) == 0 {
			return nil
		}
		h := sha256.New()
		enc := json.NewEncoder(h)
		for i := range chunk {
			if err := enc.Encode(&chunk[i]); err != nil {
				return err
			}
		}
		w, err := rep.Write(ctx, chunk, true, "seed-"+hex.EncodeToString(h.Sum(nil))[:40])
		if err != nil {
			return err
		}
		if len(w.Refused) > 0 {
			r := w.Refused[0]
			return fmt.Errorf("document %q: %v", r.ID, r.Err)
		}
		n += len(chunk)
		last = max(last, w.Seq)
		return nil
	}
	err = src(func(docs []index.Document) error {
		var chunk []index.Document
		size := 0
		for _, d := range docs {
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if len(chunk) == publishChunkDocs || size+len(b) > publishChunkBytes {
				if err := flush(chunk); err != nil {
					return err
				}
				chunk, size = nil, 0
			}
			chunk = append(chunk, d)
			size += len(b)
		}
		return flush(chunk)
	})
	if err != nil {
		return fmt.Errorf("publish %s to stream %s after %d documents: %w", from, cfg.stream, n, err)
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "published %d documents from %s to stream %s up to sequence %d in %.2f s (%.0f documents/s)\n",
		n, from, cfg.stream, last, took.Seconds(), rate(int64(n), took))
	return nil
}
