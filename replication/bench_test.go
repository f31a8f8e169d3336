package replication

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mpower/labor-search/internal/natstest"
	"github.com/mpower/labor-search/internal/synthetic"
)

// BenchmarkBootstrap times a new replica's start on an empty directory
// until it has applied the stream's last sequence: from the newest index
// snapshot, and by applying the whole log (-no-bootstrap), on the same
// stream of generated documents (internal/synthetic, seed 1; 20,000, or
// SEARCH_BENCH_DOCS). One iteration is one start.
func BenchmarkBootstrap(b *testing.B) {
	n := 20000
	if v := os.Getenv("SEARCH_BENCH_DOCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("SEARCH_BENCH_DOCS=%q: want a number of at least 1000", v)
		}
	}
	g, err := synthetic.NewFromSeeds(1)
	if err != nil {
		b.Fatal(err)
	}
	docs := g.Documents(n)
	urls := natstest.Start(b, 3).URLs()
	ctx := context.Background()
	writer := mustNode(b, urls, b.TempDir(), Config{})
	var last uint64
	for i := 0; i < len(docs); i += 1000 {
		w, err := writer.rep.Write(ctx, docs[i:min(i+1000, len(docs))], true, "")
		if err != nil {
			b.Fatal(err)
		}
		last = w.Seq
	}
	waitApplied(b, writer, last, 10*time.Minute)
	if _, err := writer.rep.PublishSnapshot(ctx); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		cfg  Config
	}{{"snapshot", Config{}}, {"replay", Config{NoBootstrap: true}}} {
		b.Run(mode.name, func(b *testing.B) {
			var total, restore time.Duration
			for b.Loop() {
				start := time.Now()
				r := mustNode(b, urls, b.TempDir(), mode.cfg)
				waitApplied(b, r, last, 10*time.Minute)
				total += time.Since(start)
				restore += time.Duration(testutil.ToFloat64(r.rep.metrics.bootstrapSeconds) * float64(time.Second))
				if from := testutil.ToFloat64(r.rep.metrics.snapshotSeq); (from > 0) != !mode.cfg.NoBootstrap {
					b.Fatalf("%s: started from the snapshot at %v", mode.name, from)
				}
				r.stop()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/start")
			b.ReportMetric(float64(restore.Milliseconds())/float64(b.N), "ms/restore")
			b.ReportMetric(float64(n), "documents")
		})
	}
}
