package handlers

import (
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	refusedLines *prometheus.CounterVec
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
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.refusedLines, documents, buildInfo} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, k := range routes {
		m.requests.WithLabelValues(k.route, k.method, "200")
		m.duration.WithLabelValues(k.route, k.method)
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
