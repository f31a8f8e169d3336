package handlers

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden answers under testdata/ from what the handlers answer now")

// algoliaCase is a request captured from a real client, in
// testdata/algolia/NAME.json; its answer is NAME.golden.
type algoliaCase struct {
	About       string          `json:"about"`
	Path        string          `json:"path"`
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"`
}

// mustSeedService is the service over the seed documents, as searchd
// runs it, on the tests' day.
func mustSeedService(tb testing.TB, cfg Config) *testService {
	tb.Helper()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Engine == nil {
		cfg.Engine = mustSeedEngineOn(tb, cfg.Registry)
	}
	return mustService(tb, cfg)
}

// mustSeedEngine is the engine over the seed documents.
func mustSeedEngine(tb testing.TB) *search.Engine {
	tb.Helper()
	return mustSeedEngineOn(tb, nil)
}

// mustSeedEngineOn is mustSeedEngine with its metrics registered on reg.
func mustSeedEngineOn(tb testing.TB, reg prometheus.Registerer) *search.Engine {
	tb.Helper()
	eng, _ := testkit.New(tb, testkit.Engine{
		Seeded: true, SeedDocuments: true,
		Search: search.Options{Now: func() time.Time { return testNow }, Registerer: reg},
	})
	return eng
}

// TestAlgoliaGolden sends the request bodies captured from InstantSearch
// and Algolia's clients (and the mistakes a portal makes) through the
// handler and compares the whole answer with its golden file: a change to
// the wire shape shows up here as a diff. -update rewrites the files. The
// documents are testDocs, which the captured queries (mining, Mexico, Peru)
// fit, so the answers do not move with the seeds' vocabularies.
func TestAlgoliaGolden(t *testing.T) {
	s := mustService(t, Config{})
	files, err := filepath.Glob("testdata/algolia/*.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d golden cases (%v); the test data is missing", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c algoliaCase
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			body := []byte(c.Body)
			var text string
			if json.Unmarshal(c.Body, &text) == nil {
				body = []byte(text)
			}
			rec := s.do(t, "POST", c.Path, bytes.NewReader(body), map[string][]string{"Content-Type": {c.ContentType}})
			got := goldenAnswer(t, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Retry-After"), rec.Body.Bytes())
			checkGolden(t, strings.TrimSuffix(file, ".json")+".golden", got, c.About)
		})
	}
}

// checkGolden compares an answer with its golden file, or rewrites the
// file with -update.
func checkGolden(t *testing.T, golden, got, about string) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./handlers/ -run %s -update to write it)", err, strings.SplitN(t.Name(), "/", 2)[0])
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s: answer differs from %s (-golden +now; -update rewrites it):\n%s", about, golden, diff)
	}
}

var processingTime = regexp.MustCompile(`"processingTimeMS": \d+`)

// goldenAnswer is the status, the headers a client reads and the body,
// indented, with the time taken (which varies) written as 0.
func goldenAnswer(t *testing.T, status int, contentType, retryAfter string, body []byte) string {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, body)
	}
	out := fmt.Sprintf("%d\nContent-Type: %s\n", status, contentType)
	if retryAfter != "" {
		out += "Retry-After: " + retryAfter + "\n"
	}
	return out + "\n" + processingTime.ReplaceAllString(pretty.String(), `"processingTimeMS": 0`)
}
