package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// generation is the live generation directory of an index directory.
func generation(tb testing.TB, dir string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, strings.TrimSpace(string(b)))
}

// onlyFile is the one file of gen matching pattern.
func onlyFile(tb testing.TB, gen, pattern string) string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(gen, pattern))
	if err != nil || len(m) != 1 {
		tb.Fatalf("%s in %s: %v %v", pattern, gen, m, err)
	}
	return m[0]
}

func truncateHalf(tb testing.TB, path string) {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		tb.Fatal(err)
	}
}

func garble(tb testing.TB, path string) {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	const unit = "\xde\xad\xbe\xef garbage "
	junk := strings.Repeat(unit, int(st.Size())/len(unit)+1)[:st.Size()]
	mustWrite(tb, path, junk)
}

// TestDamagedIndexFailsClearly damages an on-disk index in the ways disks,
// operators and crashed copies do, and checks that searchd refuses to start
// with a message naming the directory and the way out, never a panic or a
// hang; then that -rebuild recovers the directory and a plain restart
// reopens it.
func TestDamagedIndexFailsClearly(t *testing.T) {
	damages := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"CURRENT names a missing generation", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, "CURRENT"), "gen-19700101T000000.000000000\n")
		}},
		{"CURRENT is empty", func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "CURRENT"), "") }},
		{"CURRENT escapes the directory", func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "CURRENT"), "../../etc\n") }},
		{"CURRENT removed, generation left", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "CURRENT")); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage files only", func(t *testing.T, dir string) {
			if err := os.RemoveAll(generation(t, dir)); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, "CURRENT")); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, filepath.Join(dir, "notes.txt"), "not an index")
			mustWrite(t, filepath.Join(dir, "data.bin"), "\x00\x01\x02")
		}},
		{"root.bolt truncated to nothing", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(generation(t, dir), "store", "root.bolt"), 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"root.bolt truncated by half", func(t *testing.T, dir string) {
			truncateHalf(t, filepath.Join(generation(t, dir), "store", "root.bolt"))
		}},
		{"root.bolt overwritten", func(t *testing.T, dir string) {
			garble(t, filepath.Join(generation(t, dir), "store", "root.bolt"))
		}},
		{"root.bolt pages garbled behind intact meta pages", func(t *testing.T, dir string) {
			// bbolt trusts the meta pages and asserts on the first page
			// that does not identify as itself: a panic, unless caught.
			path := filepath.Join(generation(t, dir), "store", "root.bolt")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			meta := 2 * os.Getpagesize()
			if len(b) <= meta {
				t.Fatalf("root.bolt has %d bytes, want more than its two meta pages", len(b))
			}
			for i := meta; i < len(b); i++ {
				b[i] = 0xA5
			}
			mustWrite(t, path, string(b))
		}},
		{"root.bolt removed", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(generation(t, dir), "store", "root.bolt")); err != nil {
				t.Fatal(err)
			}
		}},
		{"segment truncated by half", func(t *testing.T, dir string) {
			truncateHalf(t, onlyFile(t, filepath.Join(generation(t, dir), "store"), "*.zap"))
		}},
		{"segment overwritten", func(t *testing.T, dir string) {
			garble(t, onlyFile(t, filepath.Join(generation(t, dir), "store"), "*.zap"))
		}},
		{"segment removed", func(t *testing.T, dir string) {
			if err := os.Remove(onlyFile(t, filepath.Join(generation(t, dir), "store"), "*.zap")); err != nil {
				t.Fatal(err)
			}
		}},
		{"index_meta.json garbage", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(generation(t, dir), "index_meta.json"), "{not json")
		}},
		{"index_meta.json removed", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(generation(t, dir), "index_meta.json")); err != nil {
				t.Fatal(err)
			}
		}},
		{"store directory removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(generation(t, dir), "store")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			s := mustRun(t, []string{"-index", dir}, nil)
			seeded := readyLine(t, s.stdout.String())["documents"]
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			d.damage(t, dir)

			// Damage that Bleve does not notice at open (a bolt file cut
			// after its last page, say) is acceptable only if every
			// document is still served.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := serve(ctx, []string{"-addr", "127.0.0.1:0", "-index", dir}, func(string) string { return "" }, io.Discard, io.Discard, func(addr string) {
				defer cancel()
				started := &service{base: "http://" + addr}
				code, b := started.request(t, "GET", "/readyz", "", nil)
				var ready struct{ Documents float64 }
				_ = json.Unmarshal(b, &ready)
				if code != 200 || ready.Documents != seeded {
					t.Errorf("searchd started on the damaged index and serves %d %s; want it refused or all %v documents served", code, b, seeded)
				}
				for _, q := range []string{"mining", "gender", "migrant"} {
					if code, b := started.request(t, "GET", "/v1/search?q="+q, "", nil); code != 200 || strings.Contains(string(b), `"total":0`) {
						t.Errorf("searchd started on the damaged index; search %s = %d %.200s", q, code, b)
					}
				}
			})
			if err == nil {
				t.Logf("the damage went unnoticed and every document is served")
			} else {
				msg := err.Error()
				for _, want := range []string{dir, "-rebuild", "-input"} {
					if !strings.Contains(msg, want) {
						t.Errorf("the message does not name %q:\n%s", want, msg)
					}
				}
			}

			fixed := mustRun(t, []string{"-index", dir, "-rebuild"}, nil)
			if got := readyLine(t, fixed.stdout.String())["documents"]; got != seeded {
				t.Errorf("after -rebuild: %v documents, want the %v seeds", got, seeded)
			}
			if code, b := fixed.request(t, "GET", "/v1/search?q=mining", "", nil); code != 200 || !strings.Contains(string(b), `"total":`) {
				t.Errorf("search after -rebuild: %d %s", code, b)
			}
			if err := fixed.stop(); err != nil {
				t.Fatal(err)
			}
			again := mustRun(t, []string{"-index", dir}, nil)
			if got := readyLine(t, again.stdout.String()); got["documents"] != seeded || got["built"] != nil {
				t.Errorf("restart after -rebuild: %v, want %v documents reopened", got, seeded)
			}
		})
	}
}

func TestIndexPathIsAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	mustWrite(t, path, "a file")
	err := serve(context.Background(), []string{"-addr", "127.0.0.1:0", "-index", path}, func(string) string { return "" }, io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
}
