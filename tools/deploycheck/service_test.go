package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpower/labor-search/index"
)

// service is what the deploy files are checked against: the real binaries
// and a running searchd.
type service struct {
	base         string            // URL of a running searchd
	searchdFlags map[string]string // flag -> default, from searchd -h
	indexerFlags map[string]string // flag -> default, from indexer -h
	searchdBin   string
}

// TestDeployAgainstService builds searchd and indexer as the Dockerfile
// does, starts searchd, and checks every deploy file against them: the
// metrics the dashboard and rules read, the Dockerfile, the compose file,
// the Kubernetes manifests, and the Prometheus end to end.
func TestDeployAgainstService(t *testing.T) {
	svc := service{
		searchdBin: mustBuild(t, "cmd/searchd"),
	}
	indexerBin := mustBuild(t, "cmd/indexer")
	svc.searchdFlags = mustFlags(t, svc.searchdBin)
	svc.indexerFlags = mustFlags(t, indexerBin)
	for _, f := range []string{"addr", "index", "api-key", "cors-origins", "shutdown-timeout"} {
		if _, ok := svc.searchdFlags[f]; !ok {
			t.Fatalf("searchd -h lists no -%s flag; the deploy files rely on it (flags: %v)", f, svc.searchdFlags)
		}
	}
	for _, f := range []string{"index", "input"} {
		if _, ok := svc.indexerFlags[f]; !ok {
			t.Fatalf("indexer -h lists no -%s flag; the deploy files rely on it (flags: %v)", f, svc.indexerFlags)
		}
	}
	svc.base = mustStartSearchd(t, svc.searchdBin)

	t.Run("corpus", func(t *testing.T) { checkCorpus(t, svc, indexerBin) })
	t.Run("metrics", func(t *testing.T) { checkMetrics(t, svc) })
	var image *imageFacts
	t.Run("dockerfile", func(t *testing.T) { image = checkDockerfile(t, svc) })
	t.Run("compose", func(t *testing.T) { checkCompose(t, svc) })
	t.Run("kubernetes", func(t *testing.T) {
		if image == nil {
			t.Skip("the Dockerfile check failed; the manifests are checked against the image it describes")
		}
		checkKubernetes(t, svc, image)
	})
	t.Run("prometheus end to end", func(t *testing.T) { checkEndToEnd(t, svc) })
}

// checkMetrics scrapes the running service after one search of each kind
// and checks that every expression of the dashboard and the rules reads
// series it exposes.
func checkMetrics(t *testing.T, svc service) {
	for _, p := range []string{
		"/v1/search?q=mining",       // query
		"/v1/search?q=minning",      // query, misspelt: did you mean
		"/v1/search?q=zzqxjv+wqpfk", // query, zero results
		"/v1/search?country=Mexico", // browse
		"/v1/suggest?q=mig",         // suggest
	} {
		mustGet(t, svc.base+p, 200)
	}
	body := mustGet(t, svc.base+"/metrics", 200)

	problems, err := checkAgainst(deployDir, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}

	// The metrics issue 3 names, so the check above cannot pass vacuously
	// against a service that exposes nothing.
	known, err := exposedNames(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"http_requests_total", "http_request_duration_seconds_bucket",
		"search_duration_seconds_bucket", "search_hits_bucket", "search_zero_results_total",
		"search_did_you_mean_total", "index_documents", "index_batch_duration_seconds_bucket",
		"index_last_update_timestamp_seconds", "search_build_info",
		"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total",
	} {
		if !known[name] {
			t.Errorf("/metrics does not expose %s", name)
		}
	}
	for _, kind := range []string{"query", "browse", "suggest"} {
		if !bytes.Contains(body, []byte(`search_duration_seconds_count{kind="`+kind+`"} `)) {
			t.Errorf("/metrics has no search_duration_seconds_count for kind %q", kind)
		}
	}

	// The promtool unit tests feed the rules the series names the service
	// really exposes.
	_, recorded, err := deployQueries(deployDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range mustPromtoolTests(t).Tests {
		for _, s := range tc.InputSeries {
			name, _, _ := strings.Cut(s.Series, "{")
			if name = strings.TrimSpace(name); !known[name] && !recorded[name] {
				t.Errorf("alerts_test.yml feeds series %s, which the service does not expose", name)
			}
		}
	}

	// The command does the same against the live service.
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-metrics", svc.base + "/metrics", "-deploy", deployDir}, &out, &errOut); err != nil {
		t.Errorf("deploycheck -metrics %s/metrics: %v\n%s%s", svc.base, err, out.String(), errOut.String())
	}
}

// checkEndToEnd runs deploy/prometheus/e2e.sh with the binary built above:
// a real Prometheus scraping a real searchd, queried through its HTTP API.
func checkEndToEnd(t *testing.T, svc service) {
	if err := commandsPresent("prometheus", "curl", "jq", "bash"); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(deployDir, "prometheus", "e2e.sh"))
	cmd.Env = append(cleanEnv(), "SEARCHD_BIN="+svc.searchdBin)
	// SIGTERM, not SIGKILL, on timeout: the script's trap then stops searchd
	// and Prometheus by their PIDs.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("e2e.sh output:\n%s", out.String())
	if err != nil {
		t.Fatalf("e2e.sh: %v", err)
	}
	if !strings.Contains(out.String(), "e2e: passed") {
		t.Fatalf("e2e.sh exited 0 without its closing line")
	}
}

// checkCorpus checks deploy/k8s/corpus/documents.jsonl the way the pods use
// it: every line is a valid document, it fits a ConfigMap, the indexer
// builds an index from it (the init container), and searchd serves that
// index (the server container).
func checkCorpus(t *testing.T, svc service, indexerBin string) {
	name := filepath.Join(deployDir, "k8s", "corpus", "documents.jsonl")
	data := mustRead(t, name)
	// A ConfigMap holds at most 1 MiB, keys and metadata included.
	if len(data) > 900<<10 {
		t.Errorf("%s is %d bytes, too close to the 1 MiB ConfigMap limit", name, len(data))
	}
	ids := map[string]bool{}
	var first index.Document
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		var d index.Document
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s line %d: %v", name, i+1, err)
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s line %d: %v", name, i+1, err)
		}
		if ids[d.ID] {
			t.Errorf("%s line %d: id %q repeats", name, i+1, d.ID)
		}
		ids[d.ID] = true
		if i == 0 {
			first = d
		}
	}

	dir := filepath.Join(t.TempDir(), "index")
	cmd := exec.Command(indexerBin, "-index", dir, "-input", name)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("indexer -index %s -input %s: %v\n%s", dir, name, err, out)
	}
	t.Logf("indexer: %s", bytes.TrimSpace(out))

	base := mustStartSearchd(t, svc.searchdBin, "-index", dir)
	metrics := mustGet(t, base+"/metrics", 200)
	want := fmt.Sprintf("\nindex_documents %d\n", len(ids))
	if !bytes.Contains(metrics, []byte(want)) {
		t.Errorf("searchd on the built index does not report %q", strings.TrimSpace(want))
	}
	var res struct {
		Hits []struct {
			ID string `json:"id"`
		} `json:"hits"`
	}
	body := mustGet(t, base+"/v1/search?q="+url.QueryEscape(first.Title), 200)
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 || res.Hits[0].ID != first.ID {
		t.Errorf("searching the title %q on the built index: hits %+v, want %s first", first.Title, res.Hits, first.ID)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
