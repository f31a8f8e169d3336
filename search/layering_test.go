package search_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering guards the direction of imports: search knows nothing of
// HTTP or Bleve (it hands index a plan of its own types, which index
// compiles to Bleve's queries), handlers nothing of Bleve, index nothing of queries or HTTP, and the
// commands' shared packages nothing of the HTTP layer, and analytics
// nothing of HTTP, the engine or the index. search records its
// own metrics, so it may use Prometheus's metric types, not its HTTP side.
func TestLayering(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH: cannot list imports")
	}
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"github.com/mpower/labor-search/search", []string{"github.com/blevesearch/", "net/http", "github.com/gorilla/mux", "github.com/mpower/labor-search/handlers", "github.com/prometheus/client_golang/prometheus/promhttp"}},
		{"github.com/mpower/labor-search/index", []string{"net/http", "github.com/mpower/labor-search/search", "github.com/mpower/labor-search/handlers", "github.com/mpower/labor-search/seeds"}},
		{"github.com/mpower/labor-search/handlers", []string{"github.com/blevesearch/"}},
		{"github.com/mpower/labor-search/analytics", []string{"net/http", "github.com/blevesearch/", "github.com/mpower/labor-search/handlers", "github.com/mpower/labor-search/search", "github.com/mpower/labor-search/index", "github.com/prometheus/client_golang/prometheus/promhttp"}},
		{"github.com/mpower/labor-search/seeds", []string{"github.com/mpower/labor-search/search", "github.com/mpower/labor-search/handlers", "net/http"}},
	}
	// Every package under internal/ and cmd/internal/ serves the commands
	// and tests beside the HTTP layer, never through it.
	shared, err := exec.Command(goBin, "list", "github.com/mpower/labor-search/internal/...", "github.com/mpower/labor-search/cmd/internal/...").Output()
	if err != nil {
		t.Fatalf("go list the shared packages: %v", err)
	}
	if len(strings.Fields(string(shared))) < 5 {
		t.Fatalf("go list found only %q under internal/ and cmd/internal/", shared)
	}
	for _, pkg := range strings.Fields(string(shared)) {
		tests = append(tests, struct {
			pkg       string
			forbidden []string
		}{pkg, []string{"github.com/mpower/labor-search/handlers"}})
	}
	for _, test := range tests {
		out, err := exec.Command(goBin, "list", "-f", `{{join .Imports "\n"}}`, test.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", test.pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			for _, bad := range test.forbidden {
				if strings.HasPrefix(imp, bad) {
					t.Errorf("%s imports %s", test.pkg, imp)
				}
			}
		}
	}
}
