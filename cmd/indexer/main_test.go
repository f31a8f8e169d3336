package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpower/labor-search/cmd/internal/loader"
	"github.com/mpower/labor-search/index"
)

func noEnv(string) string { return "" }

// mustCount opens the index in dir and returns its document count.
func mustCount(tb testing.TB, dir string) uint64 {
	tb.Helper()
	ix, err := index.Open(dir, index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer ix.Close()
	n, err := ix.Count()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func mustGet(tb testing.TB, dir, id string) *index.Document {
	tb.Helper()
	ix, err := index.Open(dir, index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer ix.Close()
	doc, ok, err := ix.Get(id)
	if err != nil {
		tb.Fatal(err)
	}
	if !ok {
		return nil
	}
	return doc
}

func jsonl(n int, prefix string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"%s-%d","kind":"project","title":"Project %d on garment workers in Peru","description":"Training for union leaders."}`+"\n", prefix, i, i)
	}
	return b.String()
}

func TestIndexSeeds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-index", dir}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	n := mustCount(t, dir)
	if n < 10 {
		t.Fatalf("%d documents from the seeds", n)
	}
	want := fmt.Sprintf("indexed %d documents from the seeds into %s in ", n, dir)
	if !strings.HasPrefix(stdout.String(), want) || !strings.Contains(stdout.String(), "documents/s)") {
		t.Errorf("summary = %q, want it to start %q and give documents/s", stdout.String(), want)
	}
}

func TestIndexJSONLinesReplacesAndKeepsOnError(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "index")
	input := filepath.Join(tmp, "docs.jsonl")
	if err := os.WriteFile(input, []byte(jsonl(250, "p")), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	// A small batch size makes several batches.
	if err := run(context.Background(), []string{"-index", dir, "-input", input, "-batch-bytes", "4096"}, noEnv, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := mustCount(t, dir); n != 250 {
		t.Fatalf("count = %d, want 250", n)
	}
	doc := mustGet(t, dir, "p-7")
	if doc == nil || len(doc.Countries) == 0 {
		t.Errorf("p-7 = %+v; want it stored and enriched with its country", doc)
	}

	// Line 3 is malformed: the run fails naming it, and the 250 stay live.
	bad := filepath.Join(tmp, "bad.jsonl")
	content := jsonl(2, "q") + `{"id":"q-2","kind":"project","title":"Broken",` + "\n" + jsonl(5, "r")
	if err := os.WriteFile(bad, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-index", dir, "-input", bad}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "bad.jsonl line 3") || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("err = %v; want it to name bad.jsonl line 3 and say the live index is unchanged", err)
	}
	if n := mustCount(t, dir); n != 250 {
		t.Errorf("after the failed run count = %d, want the 250 from before", n)
	}
	if mustGet(t, dir, "q-0") != nil {
		t.Error("a document from the failed run is live")
	}

	// A refresh replaces the documents, it does not add to them.
	small := filepath.Join(tmp, "small.jsonl")
	if err := os.WriteFile(small, []byte(jsonl(3, "s")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-index", dir, "-input", small}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := mustCount(t, dir); n != 3 {
		t.Errorf("after the refresh count = %d, want 3", n)
	}
}

func TestIndexGzip(t *testing.T) {
	tmp := t.TempDir()
	input := filepath.Join(tmp, "docs.jsonl.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(jsonl(40, "g"))); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "index")
	if err := run(context.Background(), []string{"-index", dir, "-input", input}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := mustCount(t, dir); n != 40 {
		t.Errorf("count = %d, want 40", n)
	}
}

// -cpuprofile writes a profile pprof can read, and the build still succeeds.
func TestIndexCPUProfile(t *testing.T) {
	tmp := t.TempDir()
	input := filepath.Join(tmp, "docs.jsonl")
	if err := os.WriteFile(input, []byte(jsonl(20, "p")), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, prof := filepath.Join(tmp, "index"), filepath.Join(tmp, "cpu.prof")
	if err := run(context.Background(), []string{"-index", dir, "-input", input, "-cpuprofile", prof}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := mustCount(t, dir); n != 20 {
		t.Errorf("count = %d, want 20", n)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	// A pprof profile is a gzip-compressed protocol buffer.
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("profile %s is not gzip-compressed (%d bytes)", prof, len(b))
	}
}

func TestIndexErrors(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dir := filepath.Join(tmp, "index")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no index", nil, "-index DIR is required"},
		{"missing input", []string{"-index", dir, "-input", filepath.Join(tmp, "nope.jsonl")}, "no such file"},
		{"unknown field", []string{"-index", dir, "-input", write("u.jsonl", `{"id":"a","kind":"project","title":"A","contry":["Peru"]}`)}, `line 1: unknown field "contry"`},
		{"invalid document", []string{"-index", dir, "-input", write("v.jsonl", "\n"+`{"id":"a","kind":"project","title":"A","start":"2020-02-30"}`)}, "line 2: start"},
		{"empty file", []string{"-index", dir, "-input", write("e.jsonl", "\n\n")}, "holds no documents"},
		{"line too long", []string{"-index", dir, "-input", write("l.jsonl", `{"id":"a","title":"`+strings.Repeat("x", loader.MaxLineBytes)+`"}`)}, "line 1: longer than"},
		{"not gzip", []string{"-index", dir, "-input", write("n.jsonl.gz", "plain")}, "gzip"},
		{"bad batch size", []string{"-index", dir, "-batch-bytes", "-1"}, "must not be negative"},
		{"bad memory", []string{"-index", dir, "-memory", "lots"}, "not a size"},
		{"memory too small", []string{"-index", dir, "-memory", "64MiB"}, "below the minimum"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := run(context.Background(), test.args, noEnv, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("err = %v, want one containing %q", err, test.want)
			}
		})
	}
}

func TestIndexCancelled(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "index")
	if err := run(context.Background(), []string{"-index", dir}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	before := mustCount(t, dir)
	input := filepath.Join(tmp, "docs.jsonl")
	if err := os.WriteFile(input, []byte(jsonl(50, "c")), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // an interrupt before the first batch
	if err := run(ctx, []string{"-index", dir, "-input", input}, noEnv, io.Discard, io.Discard); err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	if n := mustCount(t, dir); n != before {
		t.Errorf("after the cancelled run count = %d, want %d", n, before)
	}
}

func TestRenderProgress(t *testing.T) {
	tests := []struct {
		s        snapshot
		wantBar  string
		wantLine string
	}{
		{snapshot{docs: 500, elapsed: 2 * time.Second, fraction: 0.25},
			"[=====               ]  25% 500 docs, 250 docs/s, ETA 6s",
			"indexed 500 documents (25%), 250 docs/s, ETA 6s"},
		{snapshot{docs: 1000, elapsed: time.Second, fraction: 1},
			"[====================] 100% 1000 docs, 1000 docs/s",
			"indexed 1000 documents (100%), 1000 docs/s"},
		{snapshot{docs: 30, elapsed: 3 * time.Second, fraction: -1},
			"30 docs, 10 docs/s",
			"indexed 30 documents, 10 docs/s"},
	}
	for _, test := range tests {
		if got := renderBar(test.s, 20); got != test.wantBar {
			t.Errorf("renderBar(%+v) = %q, want %q", test.s, got, test.wantBar)
		}
		if got := renderLine(test.s); got != test.wantLine {
			t.Errorf("renderLine(%+v) = %q, want %q", test.s, got, test.wantLine)
		}
	}
}
