package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/analytics"
	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// testNow is the service's clock: statuses (active, ended, upcoming) depend
// on the day, and on this one the seed projects have some of each kind the
// tests count on (three of the four Mexico projects are active).
func testNow() time.Time { return time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC) }

// startService runs the real service, as cmd/searchd wires it, over an
// in-memory index holding the seed documents, on a loopback port. wrap, when
// not nil, sits in front of it so a test can change some answers.
func startService(t *testing.T, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	return startServiceWith(t, wrap, nil)
}

// startAnalyticsService is startService with query analytics in memory on
// a clock the test moves.
func startAnalyticsService(t *testing.T) (*httptest.Server, *analytics.Store, *testkit.Clock) {
	t.Helper()
	clock := testkit.NewClock(testNow())
	store, err := analytics.Open(analytics.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return startServiceWith(t, nil, store), store, clock
}

func startServiceWith(t *testing.T, wrap func(http.Handler) http.Handler, store *analytics.Store) *httptest.Server {
	t.Helper()
	ix, err := index.Open("", index.Options{})
	if err != nil {
		t.Fatalf("open index: %v", err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	engine, err := seedengine.New(ix, search.Options{Now: testNow, ResponseCache: search.DefaultResponseCache})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := seeds.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Upsert(context.Background(), docs); err != nil {
		t.Fatalf("index the seeds: %v", err)
	}
	h, err := handlers.New(handlers.Config{Engine: engine, Registry: prometheus.NewRegistry(), Now: testNow, Analytics: store})
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
