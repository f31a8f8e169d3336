package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustRun(tb testing.TB, args ...string) []byte {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(args, &stdout, &stderr); err != nil {
		tb.Fatalf("gencorpus %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func gunzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestOutputs(t *testing.T) {
	plain := mustRun(t, "-n", "500", "-seed", "4", "-q")
	if got := bytes.Count(plain, []byte("\n")); got != 500 {
		t.Fatalf("got %d lines, want 500", got)
	}
	if again := mustRun(t, "-n", "500", "-seed", "4", "-q"); !bytes.Equal(plain, again) {
		t.Fatal("the same flags wrote different bytes")
	}
	if gz := mustRun(t, "-n", "500", "-seed", "4", "-gzip", "-q"); !bytes.Equal(gunzip(t, gz), plain) {
		t.Fatal("-gzip output does not decompress to the plain output")
	}
	dir := t.TempDir()
	for _, name := range []string{"corpus.jsonl", "corpus.jsonl.gz"} {
		path := filepath.Join(dir, name)
		if out := mustRun(t, "-n", "500", "-seed", "4", "-o", path, "-q"); len(out) != 0 {
			t.Errorf("-o %s also wrote %d bytes to standard output", name, len(out))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			b = gunzip(t, b)
		}
		if !bytes.Equal(b, plain) {
			t.Errorf("%s differs from the standard output", name)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("%d files in the output directory, want 2 (no temporary files left)", len(entries))
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{{"-n", "-1"}, {"-n", "x"}, {"extra"}, {"-o", "/nonexistent/dir/c.jsonl"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if err := run(args, io.Discard, io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
