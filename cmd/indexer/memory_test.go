package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	gencorpus "github.com/mpower/labor-search/internal/corpus"
)

// childEnv, set in a child test process, makes it the indexer: TestMain
// runs main with the arguments after "--".
const childEnv = "INDEXER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{os.Args[0]}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBuildWithin512MiB builds 20,000 generated documents (16 MB of JSON
// Lines) in a child process under the Kubernetes init container's limit,
// GOMEMLIMIT=512MiB and the default budget, and checks the kernel's peak
// resident set of the child (its VmHWM, as getrusage reports it) stays
// within 512 MiB. Before the budget the same build peaked at 2,187 MiB.
func TestBuildWithin512MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20,000 documents in a child process (about 10-30 s)")
	}
	const docs, limit = 20000, 512 << 20
	dir := t.TempDir()
	input := filepath.Join(dir, "corpus.jsonl")
	g, err := gencorpus.NewFromSeeds(1)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(input)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WriteJSONL(f, docs); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "-index", filepath.Join(dir, "index"), "-input", input)
	cmd.Env = append(os.Environ(), childEnv+"=1", "GOMEMLIMIT=512MiB", "SEARCH_MEMORY=", "GOGC=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("indexer: %v\n%s", err, stderr.Bytes())
	}
	t.Logf("%s", bytes.TrimSpace(stdout.Bytes()))
	m := regexp.MustCompile(`^indexed (\d+) documents .* peak RSS (\d+) MiB, budget`).FindSubmatch(stdout.Bytes())
	if m == nil {
		t.Fatalf("summary %q does not report the documents and the peak RSS", stdout.Bytes())
	}
	if n, _ := strconv.Atoi(string(m[1])); n != docs {
		t.Errorf("indexed %d documents, want %d", n, docs)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the child")
	}
	peak := ru.Maxrss << 10 // kB on Linux
	if reported, _ := strconv.ParseInt(string(m[2]), 10, 64); reported<<20 > peak || peak-reported<<20 > 8<<20 {
		t.Errorf("summary reports peak RSS %d MiB, the kernel %d MiB", reported, peak>>20)
	}
	if peak > limit {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", peak>>20, limit>>20)
	}
}
