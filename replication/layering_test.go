package replication

import (
	"os/exec"
	"strings"
	"testing"
)

// The handlers reach the replication through their Replicator interface
// only, and search and index know nothing of it: none of them may depend on
// NATS or on this package.
func TestOnlyCommandsDependOnReplication(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pkg := range []string{"../handlers", "../search", "../index"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/nats-io/") || dep == "github.com/mpower/labor-search/replication" {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
