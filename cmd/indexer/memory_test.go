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

	"github.com/mpower/labor-search/internal/synthetic"
)

// TestBuildWithin512MiB builds 20,000 generated documents (16 MB of JSON
// Lines) with the indexer binary, built as the Dockerfile builds it (not
// this test binary, which may carry the race detector's several-fold
// memory), under the Kubernetes init container's limit,
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
	g, err := synthetic.NewFromSeeds(1)
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

	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH: cannot build the indexer to measure it")
	}
	bin := filepath.Join(dir, "indexer")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-index", filepath.Join(dir, "index"), "-input", input)
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=512MiB", "SEARCH_MEMORY=", "GOGC=")
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
