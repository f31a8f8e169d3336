package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/synthetic"
	"github.com/mpower/labor-search/search"
)

func TestJudge(t *testing.T) {
	retry := http.Header{"Retry-After": {"1"}}
	search := request{kind: kindSearch, method: "GET", path: "/v1/search?q=x", want: []int{200}}
	write := request{kind: kindWrite, method: "PUT", path: "/v1/documents/x", want: []int{200}}
	noKey := request{kind: kindNoKey, method: "PUT", path: "/v1/documents/x", want: []int{401}}
	bad := request{kind: kindMalformed, method: "GET", path: "/v1/search?per_page=0", want: []int{400}}
	tests := []struct {
		name   string
		req    request
		status int
		header http.Header
		body   string
		want   string // a part of the violation; "" = none
	}{
		{"search answered", search, 200, nil, `{"total":1}`, ""},
		{"search shed with Retry-After", search, 503, retry, `{"error":{"code":"overloaded"}}`, ""},
		{"search timed out with Retry-After", search, 503, retry, `{"error":{"code":"timeout"}}`, ""},
		{"shed without Retry-After", search, 503, nil, `{"error":{"code":"overloaded"}}`, "without Retry-After"},
		{"503 that is not shedding", search, 503, retry, `{"error":{"code":"not_ready"}}`, "not load shedding"},
		{"500", search, 500, nil, `{"error":{"code":"internal"}}`, "status 500"},
		{"body not JSON", search, 200, nil, `<html>`, "not JSON"},
		{"429 on a read", search, 429, retry, `{"error":{"code":"rate_limited"}}`, "429 on a read"},
		{"write rate-limited", write, 429, retry, `{"error":{"code":"rate_limited"}}`, ""},
		{"write limited without Retry-After", write, 429, nil, `{"error":{"code":"rate_limited"}}`, "without Retry-After"},
		{"write refused for the right key", write, 401, nil, `{"error":{}}`, "status 401"},
		{"write without key refused", noKey, 401, nil, `{"error":{}}`, ""},
		{"write without key accepted", noKey, 200, nil, `{}`, "status 200"},
		{"malformed refused", bad, 400, nil, `{"error":{}}`, ""},
		{"malformed answered", bad, 200, nil, `{}`, "status 200"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := judge(test.req, test.status, test.header, []byte(test.body))
			if test.want == "" && got != "" || test.want != "" && !strings.Contains(got, test.want) {
				t.Errorf("judge = %q, want %q", got, test.want)
			}
		})
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics(`# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 17
process_resident_memory_bytes 5.24288e+07
http_requests_total{code="200",method="GET",route="/v1/search"} 12
http_requests_total{code="500",method="GET",route="/v1/search"} 2
http_requests_total{code="500",method="PUT",route="/v1/documents/{id}"} 1
http_requests_total_other 99
garbage line
`)
	if m["go_goroutines"] != 17 || m["process_resident_memory_bytes"] != 52428800 {
		t.Errorf("gauges: %v", m)
	}
	if got := m.sum("http_requests_total", `code="500"`); got != 3 {
		t.Errorf("sum of 500s = %v, want 3", got)
	}
	if got := m.sum("http_requests_total"); got != 15 {
		t.Errorf("sum = %v, want 15 (not counting another metric sharing the prefix)", got)
	}
}

func TestCheckRecovery(t *testing.T) {
	c := &config{maxGoroutineGrowth: 10, maxRSSGrowthMiB: 100}
	before := metrics{"go_goroutines": 20, "process_resident_memory_bytes": 100 * mib}
	if bad := checkRecovery(before, metrics{"go_goroutines": 30, "process_resident_memory_bytes": 200 * mib}, c); len(bad) != 0 {
		t.Errorf("within limits: %v", bad)
	}
	if bad := checkRecovery(before, metrics{"go_goroutines": 31, "process_resident_memory_bytes": 201 * mib}, c); len(bad) != 2 {
		t.Errorf("past both limits: %v", bad)
	}
}

func TestConfig(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-searchd", "x", "-target", "http://127.0.0.1:1"},
		{"-target", "http://example.org:8080"},
		{"-target", "http://10.0.0.1:8080"},
		{"-searchd", "x", "-clients", "0"},
	} {
		if _, err := parseConfig(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	for _, target := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"} {
		if _, err := parseConfig([]string{"-target", target}, io.Discard); err != nil {
			t.Errorf("%s refused: %v", target, err)
		}
	}
}

// startTarget serves the real handlers over the first n generated
// documents, as searchd would with -input, plus a wrapper to misbehave.
func startTarget(t *testing.T, n int, key string, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	gen, err := synthetic.NewFromSeeds(1)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open("", index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	eng, err := search.New(ix, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Upsert(context.Background(), gen.Documents(n)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h, err := handlers.New(handlers.Config{Engine: eng, Registry: reg, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRunAgainstAService(t *testing.T) {
	const key = "overload-test-key"
	t.Setenv("OVERLOAD_API_KEY", key)
	args := func(target string) []string {
		return []string{"-target", target, "-docs", "300", "-duration", "1s", "-warmup", "100ms", "-settle", "100ms", "-clients", "8", "-max-rss-growth", "1024"}
	}
	var out strings.Builder
	if err := run(context.Background(), args(startTarget(t, 300, key, nil)), &out, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"search", "write-no-key", "p99 ms", "401: ", "violations: none"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}

	// A service that fails some searches is caught.
	failing := startTarget(t, 300, key, func(next http.Handler) http.Handler {
		var n atomic.Int64
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/suggest" {
				if n.Add(1)%5 == 0 {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadGateway)
					_, _ = io.WriteString(w, `{"error":{"status":502,"code":"internal","message":"x"}}`)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	out.Reset()
	err := run(context.Background(), args(failing), &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "status 502") {
		t.Errorf("err = %v; want violations naming the 502s:\n%s", err, out.String())
	}
}
