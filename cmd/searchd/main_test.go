package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mpower/labor-search/cmd/internal/memory"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
)

// service is a running searchd started by mustRun.
type service struct {
	base   string
	stdout *testkit.SyncBuffer
	stop   func() error // cancels the context and returns what run returned
}

// mustRun starts the real program on a free loopback port and returns once
// it accepts connections.
func mustRun(tb testing.TB, args []string, env map[string]string) *service {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &testkit.SyncBuffer{}
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- serve(ctx, args, getenv, out, io.Discard, func(addr string) { addrs <- addr })
	}()
	var once sync.Once
	var stopErr error
	s := &service{stdout: out, stop: func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}}
	select {
	case addr := <-addrs:
		s.base = "http://" + addr
	case err := <-done:
		cancel()
		tb.Fatalf("searchd stopped before it was ready: %v\n%s", err, out)
	}
	tb.Cleanup(func() { _ = s.stop() })
	return s
}

func (s *service) request(tb testing.TB, method, path, body string, header http.Header) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, b
}

// readyLine finds the start-up log line.
func readyLine(tb testing.TB, out string) map[string]any {
	tb.Helper()
	var found []map[string]any
	for line := range strings.SplitSeq(out, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "ready" {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d ready lines, want 1:\n%s", len(found), out)
	}
	return found[0]
}

func TestRestartKeepsWrites(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SEARCH_API_KEY": "k3y", "SEARCH_INDEX": dir}
	auth := http.Header{"Authorization": {"Bearer k3y"}}
	doc := index.Document{ID: "kiln-test", Kind: index.KindProject, Title: "Brick kiln workers of Punjab",
		Description: "Ending debt bondage in brick kilns.", Start: "2024-01-01", End: "2026-12-31"}
	body, _ := json.Marshal(doc)

	first := mustRun(t, nil, env)
	ready := readyLine(t, first.stdout.String())
	seeded := ready["documents"].(float64)
	if seeded < 10 || ready["addr"] != strings.TrimPrefix(first.base, "http://") || ready["index"] != dir {
		t.Fatalf("ready line = %v; want the real address, the index dir and the seed count", ready)
	}
	if ready["built"] == nil {
		t.Errorf("an empty index was not built from the seeds: %v", ready)
	}
	if code, b := first.request(t, "PUT", "/v1/documents/kiln-test", string(body), auth); code != 200 {
		t.Fatalf("PUT = %d %s", code, b)
	}
	if err := first.stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}

	second := mustRun(t, nil, env)
	again := readyLine(t, second.stdout.String())
	if again["documents"].(float64) != seeded+1 || again["built"] != nil {
		t.Errorf("restart ready line = %v; want %v documents, reopened not rebuilt", again, seeded+1)
	}
	_, metrics := second.request(t, "GET", "/metrics", "", nil)
	if !bytes.Contains(metrics, []byte("index_last_update_timestamp_seconds 1.")) {
		t.Errorf("a reopened index reports no last update time:\n%s", grepLines(metrics, "index_last_update"))
	}
	code, b := second.request(t, "GET", "/v1/documents/kiln-test", "", nil)
	if code != 200 {
		t.Fatalf("GET after restart = %d %s", code, b)
	}
	var got index.Document
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc, got, cmpopts.IgnoreFields(index.Document{}, "Countries", "Regions", "Sectors", "Areas", "Partners")); diff != "" {
		t.Errorf("document after restart mismatch (-want +got):\n%s", diff)
	}
	code, b = second.request(t, "GET", "/v1/search?q=kiln+bondage", "", nil)
	var resp search.Response
	if err := json.Unmarshal(b, &resp); code != 200 || err != nil || len(resp.Hits) == 0 || resp.Hits[0].ID != "kiln-test" {
		t.Errorf("search after restart = %d %s", code, b)
	}
	if err := second.stop(); err != nil {
		t.Fatalf("second run: %v", err)
	}
}

func TestDefaultServesSeedsInMemory(t *testing.T) {
	s := mustRun(t, nil, nil)
	ready := readyLine(t, s.stdout.String())
	if !strings.Contains(ready["index"].(string), "do not survive a restart") {
		t.Errorf("the in-memory start does not warn that writes are lost: %v", ready)
	}
	if !strings.Contains(ready["writes"].(string), "refused") {
		t.Errorf("the start without a key does not say writes are refused: %v", ready)
	}
	code, b := s.request(t, "GET", "/v1/search?q=mining&facets=country,sector", "", nil)
	var resp search.Response
	if err := json.Unmarshal(b, &resp); code != 200 || err != nil {
		t.Fatalf("search = %d %s", code, b)
	}
	if resp.Total == 0 || len(resp.Facets["country"]) == 0 || len(resp.Facets["sector"]) == 0 {
		t.Errorf("want hits and country and sector facets: %s", b)
	}
	if code, _ := s.request(t, "PUT", "/v1/documents/x", `{"kind":"project","title":"X"}`, http.Header{"Authorization": {"Bearer "}}); code != 403 {
		t.Errorf("write without a configured key = %d, want 403", code)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json", "/"} {
		if code, b := s.request(t, "GET", path, "", nil); code != 200 {
			t.Errorf("GET %s = %d %s", path, code, b)
		}
	}
	code, b = s.request(t, "GET", "/metrics", "", nil)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "search_build_info", "index_documents", "index_batch_duration_seconds", "index_last_update_timestamp_seconds"} {
		if !bytes.Contains(b, []byte(name)) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	_ = code
}

func TestRebuildFromInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "docs.jsonl")
	mustWrite(t, good, `{"id":"a","kind":"project","title":"Alpha garment workers"}
{"id":"b","kind":"project","title":"Beta fishing crews"}
`)
	idx := filepath.Join(dir, "index")
	s := mustRun(t, []string{"-index", idx, "-input", good}, nil)
	if got := readyLine(t, s.stdout.String())["documents"]; got != 2.0 {
		t.Fatalf("documents = %v, want 2", got)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	// A bad line fails the start and leaves the index as it was.
	bad := filepath.Join(dir, "bad.jsonl")
	mustWrite(t, bad, "{\"id\":\"c\",\"kind\":\"project\",\"title\":\"C\"}\n{\"id\":\"d\",\"title\":\"D\",\"start\":\"2021-02-30\"}\n")
	err := serve(context.Background(), []string{"-addr", "127.0.0.1:0", "-index", idx, "-input", bad, "-rebuild"}, func(string) string { return "" }, io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
	s = mustRun(t, []string{"-index", idx}, nil)
	if got := readyLine(t, s.stdout.String())["documents"]; got != 2.0 {
		t.Errorf("after a failed rebuild documents = %v, want the 2 from before", got)
	}
	if code, _ := s.request(t, "GET", "/v1/documents/a", "", nil); code != 200 {
		t.Errorf("document a after a failed rebuild: %d", code)
	}

	// -rebuild with the seeds replaces the input documents.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = mustRun(t, []string{"-index", idx, "-rebuild"}, nil)
	if code, _ := s.request(t, "GET", "/v1/documents/a", "", nil); code != 404 {
		t.Errorf("document a after -rebuild from the seeds: %d, want 404", code)
	}
}

func grepLines(b []byte, substr string) string {
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func mustWrite(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestParseConfig(t *testing.T) {
	// The budget depends on this machine's cgroup limit.
	budget := func(flag string) memory.Budget {
		b, err := memory.Resolve(flag, func(string) string { return "" }, os.ReadFile)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	def := budget("")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{"defaults", nil, nil, config{addr: ":8080", searchTimeout: 2 * time.Second, shutdownTimeout: 10 * time.Second, maxSearches: 64, writeRate: 10, writeBurst: 20, responseCache: 1024, memory: def, analyticsDays: 90, analyticsMaxQueries: 10000}},
		{"environment", nil, map[string]string{
			"SEARCH_ADDR": ":9000", "SEARCH_INDEX": "/var/idx", "SEARCH_API_KEY": "k", "SEARCH_CORS_ORIGINS": "https://a.example, https://b.example",
			"SEARCH_TIMEOUT": "500ms", "SEARCH_SHUTDOWN_TIMEOUT": "3s", "SEARCH_MAX_SEARCHES": "8", "SEARCH_INPUT": "in.jsonl",
			"SEARCH_WRITE_RATE": "2.5", "SEARCH_WRITE_BURST": "4", "SEARCH_RESPONSE_CACHE": "0", "SEARCH_MEMORY": "256MiB",
			"SEARCH_ANALYTICS": "/var/a.db", "SEARCH_ANALYTICS_DAYS": "30", "SEARCH_ANALYTICS_MAX_QUERIES": "500",
		}, config{addr: ":9000", indexDir: "/var/idx", apiKey: "k", corsOrigins: []string{"https://a.example", "https://b.example"},
			searchTimeout: 500 * time.Millisecond, shutdownTimeout: 3 * time.Second, maxSearches: 8, input: "in.jsonl", writeRate: 2.5, writeBurst: 4, memory: budget("256MiB"),
			analytics: "/var/a.db", analyticsDays: 30, analyticsMaxQueries: 500}},
		{"analytics flags", []string{"-analytics", "off", "-analytics-days", "366", "-analytics-max-queries", "1"}, map[string]string{"SEARCH_ANALYTICS_DAYS": "7"},
			config{addr: ":8080", searchTimeout: 2 * time.Second, shutdownTimeout: 10 * time.Second, maxSearches: 64, writeRate: 10, writeBurst: 20, responseCache: 1024, memory: def,
				analytics: "off", analyticsDays: 366, analyticsMaxQueries: 1}},
		{"flags win over the environment", []string{"-addr", ":7000", "-api-key", "flag", "-search-timeout", "1s", "-rebuild"},
			map[string]string{"SEARCH_ADDR": ":9000", "SEARCH_API_KEY": "env"},
			config{addr: ":7000", apiKey: "flag", searchTimeout: time.Second, shutdownTimeout: 10 * time.Second, maxSearches: 64, rebuild: true, writeRate: 10, writeBurst: 20, responseCache: 1024, memory: def, analyticsDays: 90, analyticsMaxQueries: 10000}},
		{"response cache size", []string{"-response-cache", "64"}, map[string]string{"SEARCH_RESPONSE_CACHE": "0"},
			config{addr: ":8080", searchTimeout: 2 * time.Second, shutdownTimeout: 10 * time.Second, maxSearches: 64, writeRate: 10, writeBurst: 20, responseCache: 64, memory: def, analyticsDays: 90, analyticsMaxQueries: 10000}},
		{"write limit off", []string{"-write-rate", "0", "-write-burst", "1"}, nil,
			config{addr: ":8080", searchTimeout: 2 * time.Second, shutdownTimeout: 10 * time.Second, maxSearches: 64, writeRate: 0, writeBurst: 1, responseCache: 1024, memory: def, analyticsDays: 90, analyticsMaxQueries: 10000}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := parseConfig(test.args, func(k string) string { return test.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(test.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad duration in the environment", nil, map[string]string{"SEARCH_TIMEOUT": "fast"}, `SEARCH_TIMEOUT="fast"`},
		{"bad number in the environment", nil, map[string]string{"SEARCH_MAX_SEARCHES": "-1"}, "SEARCH_MAX_SEARCHES"},
		{"stray argument", []string{"serve"}, nil, "unexpected arguments"},
		{"unknown flag", []string{"-port", "1"}, nil, "flag provided but not defined"},
		{"zero timeout", []string{"-search-timeout", "0s"}, nil, "must be positive"},
		{"negative write rate", []string{"-write-rate", "-1"}, nil, "-write-rate must be 0"},
		{"bad write rate in the environment", nil, map[string]string{"SEARCH_WRITE_RATE": "fast"}, "SEARCH_WRITE_RATE"},
		{"zero burst", []string{"-write-burst", "0"}, nil, "-write-burst must be positive"},
		{"negative response cache", []string{"-response-cache", "-1"}, nil, "-response-cache must be 0"},
		{"bad response cache in the environment", nil, map[string]string{"SEARCH_RESPONSE_CACHE": "big"}, "SEARCH_RESPONSE_CACHE"},
		{"analytics days beyond a year", []string{"-analytics-days", "367"}, nil, "-analytics-days must be from 1 to 366"},
		{"no analytics days", []string{"-analytics-days", "0"}, nil, "-analytics-days must be from 1 to 366"},
		{"no analytics queries", []string{"-analytics-max-queries", "0"}, nil, "-analytics-max-queries positive"},
		{"bad analytics days in the environment", nil, map[string]string{"SEARCH_ANALYTICS_DAYS": "forever"}, "SEARCH_ANALYTICS_DAYS"},
		{"bad analytics queries in the environment", nil, map[string]string{"SEARCH_ANALYTICS_MAX_QUERIES": "-5"}, "SEARCH_ANALYTICS_MAX_QUERIES"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := parseConfig(test.args, func(k string) string { return test.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("err = %v, want one containing %q", err, test.want)
			}
		})
	}
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestBadCORSOriginStopsStart(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-cors-origins", "portal.example"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "portal.example") {
		t.Errorf("err = %v, want the bad origin named", err)
	}
}

func TestAddressInUse(t *testing.T) {
	s := mustRun(t, nil, nil)
	err := run(context.Background(), []string{"-addr", strings.TrimPrefix(s.base, "http://")}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("err = %v, want a listen error", err)
	}
}
