package search_test

// Benchmarks of the engine against plain Bleve on the same requests:
//
//	go test -run '^$' -bench . ./search/
//
// Each class runs three times: "engine" is search.Engine (typos, prefixes,
// synonyms, relaxation, disjunctive facets) with its caches, which the
// benchmark's repeating queries soon fill, so it measures a cache hit;
// "engine-nocache" is the same engine computing every answer; "plain" is the
// plain Bleve call for the same request (internal/synthetic.Query.PlainRequests:
// a match query with operator AND over title and description, the same
// facets, no cache), so engine-nocache/plain is the price or the gain of the
// engine's work.
// Every search asks for the four facets country, sector, area and status.
// Reported beside ns/op: p50-ms and p99-ms of single operations, and hits/op
// (the mean total).

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/internal/synthetic"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// benchFixture is an engine over an in-memory index, the same engine with
// its caches off, and the queries to run.
type benchFixture struct {
	ix       *index.Index
	engine   *search.Engine
	uncached *search.Engine
	mix      synthetic.Mix
}

func mustBenchEngine(b *testing.B, docs []index.Document) (*index.Index, *search.Engine, *search.Engine) {
	b.Helper()
	ix, err := index.Open("", index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ix.Close() })
	engine, err := seedengine.New(ix, search.Options{ResponseCache: search.DefaultResponseCache})
	if err != nil {
		b.Fatal(err)
	}
	_, err = engine.Rebuild(context.Background(), func(yield func([]index.Document) error) error {
		for i := 0; i < len(docs); i += 1000 {
			if err := yield(docs[i:min(i+1000, len(docs))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	uncached, err := seedengine.New(ix, search.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return ix, engine, uncached
}

// BenchmarkSeeds runs hand-picked requests of each class on the 18 seed
// documents: the cost floor of each code path.
func BenchmarkSeeds(b *testing.B) {
	docs, err := seeds.Documents()
	if err != nil {
		b.Fatal(err)
	}
	ix, engine, uncached := mustBenchEngine(b, docs)
	q := func(c synthetic.Class, text string, filters map[string][]string) synthetic.Query {
		return synthetic.Query{Class: c, Text: text, Filters: filters}
	}
	mix := synthetic.Mix{
		synthetic.Selective: {
			q(synthetic.Selective, "mining", nil),
			q(synthetic.Selective, "migrant workers", nil),
			q(synthetic.Selective, "occupational safety mexico", nil),
			q(synthetic.Selective, "garment", map[string][]string{search.FieldCountry: {"Mexico"}}),
		},
		synthetic.Broad: {
			q(synthetic.Broad, "workers", nil),
			q(synthetic.Broad, "labor rights", map[string][]string{search.FieldStatus: {search.StatusEnded}}),
		},
		synthetic.Browse: {
			q(synthetic.Browse, "", nil),
			q(synthetic.Browse, "", map[string][]string{search.FieldCountry: {"Mexico"}}),
			q(synthetic.Browse, "", map[string][]string{search.FieldSector: {"Mining"}, search.FieldStatus: {search.StatusActive}}),
		},
		synthetic.Suggest: {
			q(synthetic.Suggest, "migr", nil),
			q(synthetic.Suggest, "labor ins", nil),
			q(synthetic.Suggest, "mex", nil),
		},
	}
	runClasses(b, benchFixture{ix: ix, engine: engine, uncached: uncached, mix: mix})
}

// BenchmarkGenerated10k runs the load test's query mix on 10,000 generated
// documents (internal/synthetic, seed 1): the first 10,000 of the corpus that
// scripts/bench.sh builds. SEARCH_BENCH_DOCS sets another number (the
// 100,000-document comparison: SEARCH_BENCH_DOCS=100000).
func BenchmarkGenerated10k(b *testing.B) {
	g, err := synthetic.NewFromSeeds(1)
	if err != nil {
		b.Fatal(err)
	}
	n := 10000
	if v := os.Getenv("SEARCH_BENCH_DOCS"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("SEARCH_BENCH_DOCS=%q: want a number of documents, at least 100", v)
		}
	}
	docs := g.Documents(n)
	mix, err := synthetic.NewMix(docs, 200, 1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ix, engine, uncached := mustBenchEngine(b, docs)
	runClasses(b, benchFixture{ix: ix, engine: engine, uncached: uncached, mix: mix})
}

func runClasses(b *testing.B, f benchFixture) {
	ctx := context.Background()
	viaEngine := func(e *search.Engine) func(q synthetic.Query) (uint64, error) {
		return func(q synthetic.Query) (uint64, error) {
			if q.Class == synthetic.Suggest {
				res, err := e.Suggest(ctx, q.SuggestRequest())
				if err != nil {
					return 0, err
				}
				return uint64(len(res.Suggestions)), nil
			}
			res, err := e.Search(ctx, q.SearchRequest())
			if err != nil {
				return 0, err
			}
			return res.Total, nil
		}
	}
	for _, c := range synthetic.Classes {
		qs := f.mix[c]
		b.Run(string(c)+"/engine", func(b *testing.B) { measure(b, qs, viaEngine(f.engine)) })
		b.Run(string(c)+"/engine-nocache", func(b *testing.B) { measure(b, qs, viaEngine(f.uncached)) })
		b.Run(string(c)+"/plain", func(b *testing.B) {
			measure(b, qs, func(q synthetic.Query) (uint64, error) {
				return q.RunPlain(ctx, f.ix.BleveSearch, time.Now())
			})
		})
	}
}

// measure runs the queries in turn and reports latency percentiles and the
// mean number of hits beside ns/op.
func measure(b *testing.B, qs []synthetic.Query, run func(synthetic.Query) (uint64, error)) {
	b.Helper()
	if len(qs) == 0 {
		b.Skip("no queries of this class")
	}
	var (
		lat  synthetic.Latencies
		hits uint64
		i    int
	)
	b.ReportAllocs()
	for b.Loop() {
		q := qs[i%len(qs)]
		i++
		began := time.Now()
		n, err := run(q)
		lat = append(lat, time.Since(began))
		if err != nil {
			b.Fatalf("%s %q: %v", q.Class, q.Path(), err)
		}
		hits += n
	}
	b.ReportMetric(synthetic.Ms(lat.Percentile(50)), "p50-ms")
	b.ReportMetric(synthetic.Ms(lat.Percentile(99)), "p99-ms")
	b.ReportMetric(float64(hits)/float64(len(lat)), "hits/op")
}
