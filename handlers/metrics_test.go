package handlers

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /metrics through the service, as Prometheus would.
func scrape(t *testing.T, s *testService) map[string]*dto.MetricFamily {
	t.Helper()
	rec := s.get(t, "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics status %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// series finds the metric of family name whose labels include want.
func series(families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestMetricsCountSearches(t *testing.T) {
	s := mustService(t, Config{Version: "v1.2.3"})
	for _, target := range []string{
		"/v1/search?q=mining", "/v1/search?q=workers", "/v1/search?q=zzzzqqqq", // queries, one with no hit
		"/v1/search?country=Mexico", // browse
		"/v1/suggest?q=min",
		"/v1/documents/peru-mining", "/v1/documents/nope",
		"/secret/path/123",
	} {
		s.get(t, target)
	}
	f := scrape(t, s)

	histCount := func(name string, labels map[string]string) uint64 {
		m := series(f, name, labels)
		if m == nil {
			t.Fatalf("no %s%v series", name, labels)
		}
		return m.GetHistogram().GetSampleCount()
	}
	counter := func(name string, labels map[string]string) float64 {
		m := series(f, name, labels)
		if m == nil {
			t.Fatalf("no %s%v series", name, labels)
		}
		return m.GetCounter().GetValue()
	}
	gotCounts := map[string]float64{
		"search_duration_seconds{kind=query}":   float64(histCount("search_duration_seconds", map[string]string{"kind": "query"})),
		"search_duration_seconds{kind=browse}":  float64(histCount("search_duration_seconds", map[string]string{"kind": "browse"})),
		"search_duration_seconds{kind=suggest}": float64(histCount("search_duration_seconds", map[string]string{"kind": "suggest"})),
		"search_hits":                           float64(histCount("search_hits", nil)),
		"search_zero_results_total":             counter("search_zero_results_total", nil),
		"GET /v1/search 200":                    counter("http_requests_total", map[string]string{"route": "/v1/search", "method": "GET", "code": "200"}),
		"GET /v1/documents/{id} 200":            counter("http_requests_total", map[string]string{"route": "/v1/documents/{id}", "method": "GET", "code": "200"}),
		"GET /v1/documents/{id} 404":            counter("http_requests_total", map[string]string{"route": "/v1/documents/{id}", "method": "GET", "code": "404"}),
		"GET unmatched 404":                     counter("http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}),
		"duration GET /v1/search":               float64(histCount("http_request_duration_seconds", map[string]string{"route": "/v1/search", "method": "GET"})),
		"index_documents":                       f["index_documents"].GetMetric()[0].GetGauge().GetValue(),
		"search_build_info":                     series(f, "search_build_info", map[string]string{"version": "v1.2.3"}).GetGauge().GetValue(),
	}
	want := map[string]float64{
		"search_duration_seconds{kind=query}":   3,
		"search_duration_seconds{kind=browse}":  1,
		"search_duration_seconds{kind=suggest}": 1,
		"search_hits":                           4,
		"search_zero_results_total":             1,
		"GET /v1/search 200":                    4,
		"GET /v1/documents/{id} 200":            1,
		"GET /v1/documents/{id} 404":            1,
		"GET unmatched 404":                     1,
		"duration GET /v1/search":               4,
		"index_documents":                       4,
		"search_build_info":                     1,
	}
	if diff := cmp.Diff(want, gotCounts); diff != "" {
		t.Errorf("metrics mismatch (-want +got):\n%s", diff)
	}

	// Labels are route templates, never raw paths.
	for _, m := range f["http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && (strings.Contains(l.GetValue(), "secret") || strings.Contains(l.GetValue(), "peru")) {
				t.Errorf("raw path as a label: %s", l.GetValue())
			}
		}
	}
	// Series for routes not yet called exist, at zero.
	if m := series(f, "http_requests_total", map[string]string{"route": "/readyz", "method": "GET", "code": "200"}); m == nil || m.GetCounter().GetValue() != 0 {
		t.Errorf("pre-created /readyz series = %v, want a zero", m)
	}
}

func TestSearchDurationBuckets(t *testing.T) {
	s := mustService(t, Config{})
	s.get(t, "/v1/search?q=mining")
	m := series(scrape(t, s), "search_duration_seconds", map[string]string{"kind": "query"})
	var bounds []float64
	for _, b := range m.GetHistogram().GetBucket() {
		if !math.IsInf(b.GetUpperBound(), +1) {
			bounds = append(bounds, b.GetUpperBound())
		}
	}
	first, last := bounds[0], bounds[len(bounds)-1]
	if math.Abs(first-0.0001) > 1e-9 || math.Abs(last-10) > 1e-9 {
		t.Errorf("buckets span %g..%g s, want 0.0001..10", first, last)
	}
}

func TestSearchDurationIsAlsoNative(t *testing.T) {
	s := mustService(t, Config{})
	s.get(t, "/v1/search?q=mining")
	families, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "search_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetHistogram().GetSchema() == 0 && m.GetHistogram().GetZeroThreshold() == 0 {
				t.Errorf("%v: not a native histogram", m.GetLabel())
			}
		}
		return
	}
	t.Fatal("search_duration_seconds not gathered")
}

func TestDidYouMeanCounted(t *testing.T) {
	s := mustService(t, Config{})
	before := counterValue(t, s.reg, "search_did_you_mean_total")
	resp := s.get(t, "/v1/search?q=minning")
	if !strings.Contains(resp.Body.String(), `"did_you_mean"`) {
		t.Fatalf("no correction offered for %q (the documents say mining): %s", "minning", resp.Body)
	}
	if got := counterValue(t, s.reg, "search_did_you_mean_total") - before; got != 1 {
		t.Errorf("search_did_you_mean_total rose by %g, want 1", got)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("%s not gathered", name)
	return 0
}

func TestNewRefusesASharedRegistry(t *testing.T) {
	s := mustService(t, Config{})
	if _, err := New(Config{Engine: &fakeEngine{}, Registry: s.reg}); err == nil {
		t.Error("a second service on the same registry was accepted; its metrics would collide")
	}
	if _, err := New(Config{Registry: prometheus.NewRegistry()}); err == nil {
		t.Error("no engine accepted")
	}
	if _, err := New(Config{Engine: &fakeEngine{}}); err == nil {
		t.Error("no registry accepted")
	}
}
