package handlers_test

// The HTTP path against the in-process engine call on the same requests:
//
//	go test -run '^$' -bench . ./handlers/
//
// Each iteration makes the same request both ways, over 10,000 generated
// documents (internal/synthetic, seed 1) and the load test's query mix. The
// engine's caches are off, so both ways compute every answer and the
// overhead is measured against real work, not against a cache hit. Reported: ns/op and http-ms/op of the HTTP request (client
// included: loopback TCP, the handler chain, JSON encoding and decoding
// nothing but the status), engine-ms/op of the in-process call, and
// overhead-% = (http - engine) / engine.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/internal/synthetic"
	"github.com/mpower/labor-search/search"
)

func mustBenchService(b *testing.B, docs []index.Document) (*search.Engine, *httptest.Server) {
	b.Helper()
	ix, err := index.Open("", index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ix.Close() })
	engine, err := seedengine.New(ix, search.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(docs); i += 1000 {
		if err := engine.Upsert(context.Background(), docs[i:min(i+1000, len(docs))]); err != nil {
			b.Fatal(err)
		}
	}
	h, err := handlers.New(handlers.Config{Engine: engine, Registry: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return engine, srv
}

func BenchmarkHTTPOverhead10k(b *testing.B) {
	g, err := synthetic.NewFromSeeds(1)
	if err != nil {
		b.Fatal(err)
	}
	docs := g.Documents(10000)
	mix, err := synthetic.NewMix(docs, 200, 1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	engine, srv := mustBenchService(b, docs)
	client := srv.Client()
	ctx := context.Background()

	viaEngine := func(q synthetic.Query) error {
		if q.Class == synthetic.Suggest {
			_, err := engine.Suggest(ctx, q.SuggestRequest())
			return err
		}
		_, err := engine.Search(ctx, q.SearchRequest())
		return err
	}
	viaHTTP := func(q synthetic.Query) error {
		res, err := client.Get(srv.URL + q.Path())
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", res.StatusCode, body)
		}
		return nil
	}

	for _, c := range synthetic.Classes {
		qs := mix[c]
		b.Run(string(c), func(b *testing.B) {
			var engineTime, httpTime time.Duration
			timed := func(f func(synthetic.Query) error, q synthetic.Query, into *time.Duration) {
				began := time.Now()
				if err := f(q); err != nil {
					b.Fatalf("%s %q: %v", c, q.Path(), err)
				}
				*into += time.Since(began)
			}
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				if i%2 == 0 {
					timed(viaEngine, q, &engineTime)
					timed(viaHTTP, q, &httpTime)
				} else {
					timed(viaHTTP, q, &httpTime)
					timed(viaEngine, q, &engineTime)
				}
				i++
			}
			n := float64(i)
			b.ReportMetric(float64(httpTime.Nanoseconds())/n, "ns/op")
			b.ReportMetric(synthetic.Ms(httpTime)/n, "http-ms/op")
			b.ReportMetric(synthetic.Ms(engineTime)/n, "engine-ms/op")
			b.ReportMetric(100*(httpTime.Seconds()-engineTime.Seconds())/engineTime.Seconds(), "overhead-%")
		})
	}
}
