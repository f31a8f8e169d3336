package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/cmd/internal/loader"
	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/internal/synthetic"
	"github.com/mpower/labor-search/search"
)

func mustRun(tb testing.TB, args ...string) string {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		tb.Fatalf("loadtest %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// mustBuild writes a generated corpus and builds an on-disk index from it
// the way cmd/indexer does.
func mustBuild(tb testing.TB, n int) (corpusPath, indexDir string) {
	tb.Helper()
	dir := tb.TempDir()
	corpusPath = filepath.Join(dir, "synthetic.jsonl")
	g, err := synthetic.NewFromSeeds(1)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(corpusPath)
	if err != nil {
		tb.Fatal(err)
	}
	if err := g.WriteJSONL(f, n); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	indexDir = filepath.Join(dir, "index")
	ix, err := index.Open(indexDir, index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer ix.Close()
	engine, err := seedengine.New(ix, search.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	in, err := loader.Open(corpusPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	if _, err := engine.Rebuild(context.Background(), in.Source(0)); err != nil {
		tb.Fatal(err)
	}
	return corpusPath, indexDir
}

// mustServe serves the index over HTTP on loopback, as searchd does.
func mustServe(tb testing.TB, indexDir string) *httptest.Server {
	tb.Helper()
	ix, err := index.Open(indexDir, index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	engine, err := seedengine.New(ix, search.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := handlers.New(handlers.Config{Engine: engine, Registry: prometheus.NewRegistry()})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		srv.Close()
		_ = ix.Close()
	})
	return srv
}

// TestEndToEnd runs the three targets on one small index and the report
// that puts them together, as scripts/bench.sh does.
func TestEndToEnd(t *testing.T) {
	corpusPath, indexDir := mustBuild(t, 400)
	out := t.TempDir()
	common := []string{"-corpus", corpusPath, "-duration", "150ms", "-clients", "1,3", "-warmup", "3", "-pool", "50", "-fail-on-error"}

	plain := mustRun(t, append([]string{"-baseline", indexDir, "-json", filepath.Join(out, "plain.json")}, common...)...)
	engine := mustRun(t, append([]string{"-engine", indexDir, "-json", filepath.Join(out, "engine.json")}, common...)...)
	noCache := mustRun(t, append([]string{"-engine", indexDir, "-no-cache", "-json", filepath.Join(out, "nocache.json")}, common...)...)
	srv := mustServe(t, indexDir)
	addr := strings.TrimPrefix(srv.URL, "http://")
	httpOut := mustRun(t, append([]string{"-addr", addr, "-pid", strconv.Itoa(os.Getpid()), "-json", filepath.Join(out, "http.json")}, common...)...)

	for name, table := range map[string]string{"plain": plain, "engine": engine, "engine-nocache": noCache, "http": httpOut} {
		for _, c := range synthetic.Classes {
			for _, clients := range []string{"1", "3"} {
				if !strings.Contains(table, "| "+string(c)+" | "+clients+" | ") {
					t.Errorf("%s table has no row for %s with %s clients:\n%s", name, c, clients, table)
				}
			}
		}
	}
	res, err := readResults(filepath.Join(out, "http.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents != 400 || len(res.Phases) != 8 {
		t.Errorf("http results: %d documents and %d phases, want 400 and 8", res.Documents, len(res.Phases))
	}
	if m := res.Memory; m == nil || m.PeakMiB <= 0 || m.CurrentMiB <= 0 || m.AnonymousMiB <= 0 || m.AnonymousMiB+m.FileMiB > m.CurrentMiB+1 {
		t.Errorf("http results hold no resident memory: %+v", res.Memory)
	}
	for _, p := range res.Phases {
		if p.Requests == 0 || p.Errors != 0 || p.P50 <= 0 || p.P50 > p.P99 || p.RPS <= 0 {
			t.Errorf("phase %s/%d: %+v", p.Class, p.Clients, p)
		}
		if len(p.Slowest) == 0 || p.Slowest[0].Ms != p.Max || !strings.HasPrefix(p.Slowest[0].Path, "/v1/") {
			t.Errorf("phase %s/%d: slowest requests %+v do not match its maximum %v ms", p.Class, p.Clients, p.Slowest, p.Max)
		}
		if p.Class != synthetic.Suggest && p.Class != synthetic.Selective && p.Hits == 0 {
			t.Errorf("phase %s/%d: its warm-up found nothing", p.Class, p.Clients)
		}
	}

	combined := mustRun(t, "-report", "-plain", filepath.Join(out, "plain.json"),
		"-engine-results", filepath.Join(out, "engine.json"), "-engine-nocache-results", filepath.Join(out, "nocache.json"),
		"-http", filepath.Join(out, "http.json"))
	for _, want := range []string{"searchd over HTTP", "in process (no HTTP)", "caches off", "plain Bleve in process", "×)", "HTTP + JSON overhead", "searchd resident memory: peak"} {
		if !strings.Contains(combined, want) {
			t.Errorf("report lacks %q:\n%s", want, combined)
		}
	}
}

func TestFlagsRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no target", []string{"-corpus", "c.jsonl"}},
		{"two targets", []string{"-baseline", "x", "-engine", "y", "-corpus", "c.jsonl"}},
		{"no corpus", []string{"-baseline", "x"}},
		{"remote address", []string{"-addr", "10.1.2.3:8080", "-corpus", "c.jsonl"}},
		{"any address", []string{"-addr", "0.0.0.0:8080", "-corpus", "c.jsonl"}},
		{"host name", []string{"-addr", "example.com:80", "-corpus", "c.jsonl"}},
		{"bad clients", []string{"-baseline", "x", "-corpus", "c.jsonl", "-clients", "1,zero"}},
		{"unknown class", []string{"-baseline", "x", "-corpus", "c.jsonl", "-classes", "fast"}},
		{"bad day", []string{"-baseline", "x", "-corpus", "c.jsonl", "-as-of", "2026-13-01"}},
		{"remote wait", []string{"-wait", "http://192.0.2.1/readyz", "-timeout", "50ms"}},
		{"not an index", []string{"-baseline", "/nonexistent", "-corpus", "/nonexistent.jsonl"}},
		{"report of nothing", []string{"-report"}},
		{"no-cache without engine", []string{"-baseline", "x", "-no-cache", "-corpus", "c.jsonl"}},
		{"build-plain without corpus", []string{"-build-plain", "x"}},
		{"build-plain into an existing directory", []string{"-build-plain", os.TempDir(), "-corpus", "c.jsonl"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if err := run(context.Background(), test.args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:1": true, "[::1]:8080": true, "localhost:80": true,
		"10.0.0.1:80": false, "0.0.0.0:80": false, "[::]:80": false, "example.com:80": false, "noport": false,
	} {
		if err := loopbackOnly(addr); (err == nil) != ok {
			t.Errorf("loopbackOnly(%q) = %v, want allowed %v", addr, err, ok)
		}
	}
}

func TestWaitUntilReady(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	out := mustRun(t, "-wait", srv.URL+"/readyz", "-timeout", "1m")
	if _, err := strconv.ParseFloat(strings.TrimSpace(out), 64); err != nil {
		t.Errorf("-wait printed %q, want milliseconds", out)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("server asked %d times, want 3 (until it answered 200)", n)
	}

	never := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer never.Close()
	if err := run(context.Background(), []string{"-wait", never.URL, "-timeout", "100ms"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("-wait on a server that is never ready succeeded")
	}
}

func TestAddSlow(t *testing.T) {
	var list []Slow
	for _, ms := range []float64{5, 1, 9, 3, 7} {
		list = addSlow(list, Slow{Path: fmt.Sprint(ms), Ms: ms})
	}
	want := []Slow{{"9", 9}, {"7", 7}, {"5", 5}}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestFreePort(t *testing.T) {
	out := mustRun(t, "-free-port")
	if port, err := strconv.Atoi(strings.TrimSpace(out)); err != nil || port <= 0 || port > 65535 {
		t.Errorf("-free-port printed %q", out)
	}
}

// TestBuildPlain: the indexing baseline indexes every document of the
// corpus with plain Bleve, and the index answers plain queries.
func TestBuildPlain(t *testing.T) {
	corpusPath, _ := mustBuild(t, 2500)
	dir := filepath.Join(t.TempDir(), "plain")
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-build-plain", dir, "-corpus", corpusPath}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := "plain Bleve indexed 2500 documents from "; !strings.HasPrefix(stdout.String(), want) || !strings.Contains(stdout.String(), "peak RSS") {
		t.Errorf("summary %q, want it to start %q and report peak RSS", stdout.String(), want)
	}
	idx, err := bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if n, err := idx.DocCount(); err != nil || n != 2500 {
		t.Errorf("DocCount() = %d, %v; want 2500", n, err)
	}
}
