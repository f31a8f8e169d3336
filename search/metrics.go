package search

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Search kinds, the label of search_duration_seconds.
const (
	kindQuery   = "query"
	kindBrowse  = "browse"
	kindSuggest = "suggest"
)

// metrics are the engine's own: how long it takes, how much it finds, and
// how its response cache serves. They are recorded where the work is done,
// so every caller (the /v1 API, the Algolia routes, the commands) is
// counted the same way.
type metrics struct {
	duration    *prometheus.HistogramVec
	hits        prometheus.Histogram
	zeroResults prometheus.Counter
	didYouMean  prometheus.Counter
	// cacheHits and cacheMisses count response cache lookups; nil when the
	// engine keeps no cache, so no series says a cache that is not there
	// never hits.
	cacheHits, cacheMisses prometheus.Counter
}

// newMetrics builds the engine's metrics and registers them on reg when it
// is not nil (an engine in a test or a benchmark may have none).
func newMetrics(reg prometheus.Registerer, cache bool) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "search_duration_seconds",
			Help: "Time the engine took to answer, by kind: query (with text), browse (filters only) or suggest.",
			// 100 µs to 10 s: a cached answer to a pathological fuzzy
			// query. The native histogram gives finer quantiles where
			// scrapers support it.
			Buckets:                        prometheus.ExponentialBucketsRange(0.0001, 10, 20),
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 160,
		}, []string{"kind"}),
		hits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "search_hits",
			Help:    "Matching documents per search (total, not just the page returned).",
			Buckets: []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000},
		}),
		zeroResults: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "search_zero_results_total",
			Help: "Searches that matched no document.",
		}),
		didYouMean: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "search_did_you_mean_total",
			Help: "Searches answered with a spelling suggestion.",
		}),
	}
	// Series exist from the start, so dashboards show zeros, not gaps.
	for _, kind := range []string{kindQuery, kindBrowse, kindSuggest} {
		m.duration.WithLabelValues(kind)
	}
	collectors := []prometheus.Collector{m.duration, m.hits, m.zeroResults, m.didYouMean}
	if cache {
		lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "search_response_cache_lookups_total",
			Help: "Searches looked up in the response cache, by result (hit or miss); the hit ratio is hit / (hit + miss).",
		}, []string{"result"})
		m.cacheHits, m.cacheMisses = lookups.WithLabelValues("hit"), lookups.WithLabelValues("miss")
		collectors = append(collectors, lookups)
	}
	if reg != nil {
		for _, c := range collectors {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register search metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(kind string, began time.Time) {
	m.duration.WithLabelValues(kind).Observe(time.Since(began).Seconds())
}

// count records a visitor's search in the quality metrics.
func (m *metrics) count(resp *Response) {
	m.hits.Observe(float64(resp.Total))
	if resp.Total == 0 {
		m.zeroResults.Inc()
	}
	if resp.DidYouMean != "" {
		m.didYouMean.Inc()
	}
}
