package handlers

import (
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Search kinds, the label of search_duration_seconds.
const (
	kindQuery   = "query"
	kindBrowse  = "browse"
	kindSuggest = "suggest"
)

// routeUnmatched labels requests no route matched (404, 405), and
// routePreflight CORS preflights, so neither a raw path nor a client's
// method ever becomes a label value.
const (
	routeUnmatched = "unmatched"
	routePreflight = "preflight"
)

// searchBuckets span 100 µs to 10 s: a cached term lookup to a pathological
// fuzzy query. The native histogram gives finer quantiles where scrapers
// support it.
func searchBuckets() []float64 { return prometheus.ExponentialBucketsRange(0.0001, 10, 20) }

type httpMetrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	searchDuration *prometheus.HistogramVec
	hits           prometheus.Histogram
	zeroResults    prometheus.Counter
	didYouMean     prometheus.Counter
	refusedLines   *prometheus.CounterVec
}

// routeKey is one (route template, method) pair whose series are created up
// front, so dashboards show zeros rather than gaps.
type routeKey struct{ route, method string }

func newHTTPMetrics(reg prometheus.Registerer, engine Engine, version string, routes []routeKey) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "http_request_duration_seconds",
			Help:                           "Time from receiving a request to finishing its response, by route template and method.",
			Buckets:                        searchBuckets(),
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 160,
		}, []string{"route", "method"}),
		searchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "search_duration_seconds",
			Help:                           "Time the engine took to answer, by kind: query (with text), browse (filters only) or suggest.",
			Buckets:                        searchBuckets(),
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
		refusedLines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "documents_refused_total",
			Help: "Lines of bulk loads (POST /v1/documents) that were not indexed, by code (invalid_document, too_large).",
		}, []string{"code"}),
	}
	documents := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "index_documents",
		Help: "Documents in the index (NaN when the index cannot be read).",
	}, func() float64 {
		n, err := engine.Count()
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	})
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "search_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.searchDuration, m.hits, m.zeroResults, m.didYouMean, m.refusedLines, documents, buildInfo} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, k := range routes {
		m.requests.WithLabelValues(k.route, k.method, "200")
		m.duration.WithLabelValues(k.route, k.method)
	}
	for _, kind := range []string{kindQuery, kindBrowse, kindSuggest} {
		m.searchDuration.WithLabelValues(kind)
	}
	for _, code := range []string{lineInvalid, lineTooLarge} {
		m.refusedLines.WithLabelValues(code)
	}
	return m, nil
}

// methodLabel bounds the method label to the methods the API uses.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}

func (m *httpMetrics) observeRequest(route, method string, status int, took time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}

// IndexMetrics reports index writes. Build it before opening the index and
// pass its ObserveBatch as index.Options.OnBatch.
type IndexMetrics struct {
	batchDuration prometheus.Histogram
	lastUpdate    prometheus.Gauge
	writes        *prometheus.CounterVec
	now           func() time.Time
}

// NewIndexMetrics registers index_batch_duration_seconds,
// index_last_update_timestamp_seconds and index_writes_total on reg. now is
// the clock; nil = time.Now.
func NewIndexMetrics(reg prometheus.Registerer, now func() time.Time) (*IndexMetrics, error) {
	if now == nil {
		now = time.Now
	}
	m := &IndexMetrics{
		batchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                           "index_batch_duration_seconds",
			Help:                           "Time to make one batch of index writes durable.",
			Buckets:                        prometheus.ExponentialBucketsRange(0.0001, 60, 20),
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 160,
		}),
		lastUpdate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "index_last_update_timestamp_seconds",
			Help: "Unix time of the last batch written to the index.",
		}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "index_writes_total",
			Help: "Documents written to the index, by operation (upsert or delete).",
		}, []string{"op"}),
		now: now,
	}
	for _, c := range []prometheus.Collector{m.batchDuration, m.lastUpdate, m.writes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.writes.WithLabelValues("upsert")
	m.writes.WithLabelValues("delete")
	return m, nil
}

// SetLastUpdate sets index_last_update_timestamp_seconds when the index was
// last written before this process started (a reopened on-disk index), so
// the gauge does not read 1970 until the first write.
func (m *IndexMetrics) SetLastUpdate(t time.Time) {
	m.lastUpdate.Set(float64(t.UnixNano()) / 1e9)
}

// ObserveBatch records one durable batch; its signature matches
// index.Options.OnBatch.
func (m *IndexMetrics) ObserveBatch(took time.Duration, docs, deletes int) {
	m.batchDuration.Observe(took.Seconds())
	m.lastUpdate.Set(float64(m.now().UnixNano()) / 1e9)
	m.writes.WithLabelValues("upsert").Add(float64(docs))
	m.writes.WithLabelValues("delete").Add(float64(deletes))
}
