package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/google/go-cmp/cmp"
)

func mustOpen(tb testing.TB, dir string) *Index {
	tb.Helper()
	ix, err := Open(dir, Options{})
	if err != nil {
		tb.Fatalf("Open(%q): %v", dir, err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	return ix
}

func doc(id, title string) Document {
	return Document{ID: id, Kind: KindProject, Title: title, Description: "About " + title,
		Countries: []string{"Peru"}, Start: "2020-01-01", End: "2021-12-31"}
}

func search(tb testing.TB, ix *Index, field, term string) []string {
	tb.Helper()
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	res, err := ix.BleveSearch(context.Background(), bleve.NewSearchRequest(q))
	if err != nil {
		tb.Fatalf("search %s:%s: %v", field, term, err)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestDocumentValidate(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		want string // substring of the error; "" = valid
	}{
		{"valid", doc("a", "Mining"), ""},
		{"no id", Document{Kind: KindProject, Title: "x"}, "id is required"},
		{"slash in id", Document{ID: "a/b", Kind: KindProject, Title: "x"}, "contains"},
		{"no title", Document{ID: "a", Kind: KindProject}, "title is required"},
		{"no kind", Document{ID: "a", Title: "x"}, "kind is required"},
		{"bad kind", Document{ID: "a", Kind: "blog", Title: "x"}, "not one of"},
		{"bad date", Document{ID: "a", Kind: KindProject, Title: "x", Start: "2020-13-01", End: "2021-01-01"}, "not a YYYY-MM-DD"},
		{"end before start", Document{ID: "a", Kind: KindProject, Title: "x", Start: "2021-01-01", End: "2020-01-01"}, "before start"},
		{"start only (ongoing)", Document{ID: "a", Kind: KindProject, Title: "x", Start: "2021-01-01"}, ""},
		{"end only", Document{ID: "a", Kind: KindProject, Title: "x", End: "2021-01-01"}, ""},
		{"bad end only", Document{ID: "a", Kind: KindProject, Title: "x", End: "2021-02-30"}, "not a YYYY-MM-DD"},
		{"no dates", Document{ID: "a", Kind: KindInitiative, Title: "x"}, ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := test.doc.Validate()
			switch {
			case test.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case test.want != "" && (err == nil || !strings.Contains(err.Error(), test.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, test.want)
			}
		})
	}
}

func TestApplyDefaults(t *testing.T) {
	d := Document{ID: "a", Title: "x"}
	d.ApplyDefaults()
	if d.Kind != KindProject {
		t.Errorf("kind after defaults = %q, want %q", d.Kind, KindProject)
	}
	p := Document{ID: "b", Kind: KindPartner, Title: "x"}
	p.ApplyDefaults()
	if p.Kind != KindPartner {
		t.Errorf("a given kind was replaced: %q", p.Kind)
	}
}

func TestBatchGetDeleteCount(t *testing.T) {
	ix := mustOpen(t, "")
	if err := ix.Batch([]Document{doc("a", "Mining in Peru"), doc("b", "Garment workers")}, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := ix.Count(); n != 2 {
		t.Fatalf("Count() = %d, want 2", n)
	}
	got, ok, err := ix.Get("a")
	if err != nil || !ok {
		t.Fatalf("Get(a) = %v, %v", ok, err)
	}
	if diff := cmp.Diff(doc("a", "Mining in Peru"), *got); diff != "" {
		t.Errorf("stored document mismatch (-want +got):\n%s", diff)
	}
	if got := search(t, ix, FieldTitle, "mine"); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("stemmed title search for mine = %v, want [a]", got)
	}
	if got := search(t, ix, FieldCountries, "Peru"); len(got) != 2 {
		t.Errorf("keyword facet field countries:Peru = %v, want both", got)
	}
	gen := ix.Generation()
	if err := ix.Batch(nil, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if ix.Generation() == gen {
		t.Error("a delete did not change the generation that caches key on")
	}
	if _, ok, _ := ix.Get("a"); ok {
		t.Error("deleted document still returned")
	}
}

func TestReopenKeepsDocuments(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Batch([]Document{doc("a", "Mining")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.SetInternal("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix = mustOpen(t, dir)
	if _, ok, err := ix.Get("a"); !ok || err != nil {
		t.Fatalf("after reopen Get(a) = %v, %v", ok, err)
	}
	if v, _ := ix.GetInternal("k"); string(v) != "v" {
		t.Errorf("internal value after reopen = %q, want v", v)
	}
}

func TestOpenRefusesForeignOrDamagedDirectories(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"files but no CURRENT", func(dir string) { _ = os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644) }, "has no CURRENT"},
		{"CURRENT names nothing", func(dir string) { _ = os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("gen-x\n"), 0o644) }, "not a Bleve index"},
		{"damaged generation", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("gen-x\n"), 0o644)
			_ = os.MkdirAll(filepath.Join(dir, "gen-x"), 0o755)
			_ = os.WriteFile(filepath.Join(dir, "gen-x", "index_meta.json"), []byte("{garbage"), 0o644)
		}, "-rebuild"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			dir := t.TempDir()
			test.setup(dir)
			ix, err := Open(dir, Options{})
			if err == nil {
				_ = ix.Close()
				t.Fatal("Open succeeded on a damaged directory")
			}
			if !strings.Contains(err.Error(), test.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q should name the path and contain %q", err, test.want)
			}
		})
	}
}

func TestRebuildSwapsAtomically(t *testing.T) {
	dir := t.TempDir()
	ix := mustOpen(t, dir)
	if err := ix.Batch([]Document{doc("old", "Old project")}, nil); err != nil {
		t.Fatal(err)
	}
	// Searches run during the rebuild and must always see a whole index:
	// either exactly the old document or exactly the new set.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad []string
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := ix.BleveSearch(context.Background(), bleve.NewSearchRequest(bleve.NewMatchAllQuery()))
			if err != nil {
				mu.Lock()
				bad = append(bad, err.Error())
				mu.Unlock()
				continue
			}
			if res.Total != 1 && res.Total != 3 {
				mu.Lock()
				bad = append(bad, "saw a partial index")
				mu.Unlock()
			}
		}
	}()
	err := ix.Rebuild(func(b *Builder) error {
		for _, d := range []Document{doc("n1", "One"), doc("n2", "Two"), doc("n3", "Three")} {
			if err := b.Batch([]Document{d}); err != nil {
				return err
			}
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("searches during rebuild: %v", bad[:min(3, len(bad))])
	}
	if n, _ := ix.Count(); n != 3 {
		t.Fatalf("after rebuild Count() = %d, want 3", n)
	}
	entries, _ := os.ReadDir(dir)
	gens := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "gen-") {
			gens++
		}
	}
	if gens != 1 {
		t.Errorf("%d generations on disk after rebuild, want only the live one", gens)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix2 := mustOpen(t, dir)
	if n, _ := ix2.Count(); n != 3 {
		t.Errorf("reopened after rebuild: Count() = %d, want 3", n)
	}
}

func TestFailedRebuildLeavesLiveIndex(t *testing.T) {
	dir := t.TempDir()
	ix := mustOpen(t, dir)
	if err := ix.Batch([]Document{doc("old", "Old project")}, nil); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("line 7: malformed JSON")
	err := ix.Rebuild(func(b *Builder) error {
		if err := b.Batch([]Document{doc("half", "Half written")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Rebuild error = %v, want it to wrap the fill error", err)
	}
	if _, ok, _ := ix.Get("old"); !ok {
		t.Error("live document lost after a failed rebuild")
	}
	if _, ok, _ := ix.Get("half"); ok {
		t.Error("half-built document became live")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "gen-") {
			if b, _ := os.ReadFile(filepath.Join(dir, "CURRENT")); !strings.Contains(string(b), e.Name()) {
				t.Errorf("partial generation %s left on disk", e.Name())
			}
		}
	}
}

func TestClosedIndexErrors(t *testing.T) {
	ix, err := Open("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = ix.Close()
	if _, err := ix.Count(); !errors.Is(err, ErrClosed) {
		t.Errorf("Count after Close = %v, want ErrClosed", err)
	}
	if err := ix.Batch([]Document{doc("a", "x")}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Batch after Close = %v, want ErrClosed", err)
	}
}

func TestFreshOpenRecoversADamagedDirectory(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("gen-x\n"), 0o644)
	_ = os.MkdirAll(filepath.Join(dir, "gen-x"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "gen-x", "index_meta.json"), []byte("{garbage"), 0o644)
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("a damaged directory opened normally")
	}
	ix, err := Open(dir, Options{Fresh: true})
	if err != nil {
		t.Fatalf("Fresh open: %v", err)
	}
	if err := ix.Rebuild(func(b *Builder) error { return b.Batch([]Document{doc("a", "Mining")}) }); err != nil {
		t.Fatal(err)
	}
	_ = ix.Close()
	if _, err := os.Stat(filepath.Join(dir, "gen-x")); !os.IsNotExist(err) {
		t.Errorf("damaged generation still on disk after the rebuild: %v", err)
	}
	if ix.KeptProblem() == nil {
		t.Error("KeptProblem = nil for a generation that could not be read")
	}
	again := mustOpen(t, dir)
	if _, ok, _ := again.Get("a"); !ok {
		t.Error("rebuilt document missing after reopening normally")
	}
}

// TestRebuildKeepsTheSynonymSets: the editors' sets are carried into a
// rebuilt generation, also from a Fresh open, unless the rebuild writes
// its own (a replay of the log); other internal values are not.
func TestRebuildKeepsTheSynonymSets(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.SetInternal(KeySynonymSets, []byte("sets-1")); err != nil {
		t.Fatal(err)
	}
	if err := ix.SetInternal("derived", []byte("x")); err != nil {
		t.Fatal(err)
	}
	fill := func(b *Builder) error { return b.Batch([]Document{doc("a", "Mining")}) }
	if err := ix.Rebuild(fill); err != nil {
		t.Fatal(err)
	}
	check := func(when string, ix *Index, want string) {
		t.Helper()
		if v, err := ix.GetInternal(KeySynonymSets); err != nil || string(v) != want {
			t.Errorf("%s: synonym sets = %q, %v; want %q", when, v, err, want)
		}
	}
	check("after Rebuild", ix, "sets-1")
	if v, _ := ix.GetInternal("derived"); v != nil {
		t.Errorf("a derived value was carried over: %q", v)
	}
	if err := ix.Rebuild(func(b *Builder) error { return b.SetInternal(KeySynonymSets, []byte("sets-2")) }); err != nil {
		t.Fatal(err)
	}
	check("after a rebuild that writes its own", ix, "sets-2")
	_ = ix.Close()
	fresh, err := Open(dir, Options{Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.KeptProblem(); err != nil {
		t.Fatalf("KeptProblem = %v", err)
	}
	check("after a Fresh open", fresh, "sets-2")
	if err := fresh.Rebuild(fill); err != nil {
		t.Fatal(err)
	}
	_ = fresh.Close()
	check("reopened after a Fresh rebuild", mustOpen(t, dir), "sets-2")
}

func TestApplyRefusesOperationsOfOtherKinds(t *testing.T) {
	ix := mustOpen(t, "")
	a := doc("a", "Mining")
	err := ix.Apply([]Op{{ID: "a", Doc: &a}, {ID: "s", Kind: OpSynonymSet, Value: []byte("{}")}}, nil, 3)
	if err == nil {
		t.Fatal("Apply took a synonym set operation")
	}
	if _, ok, _ := ix.Get("a"); ok {
		t.Error("a refused batch wrote its document")
	}
	if seq, _ := ix.AppliedSeq(); seq != 0 {
		t.Errorf("AppliedSeq after a refused batch = %d, want 0", seq)
	}
}

// TestBatchBytesSplitsWrites: a write larger than Options.BatchBytes goes in
// as several durable batches, every document and delete applied once.
func TestBatchBytesSplitsWrites(t *testing.T) {
	var batches []int
	ix, err := Open(t.TempDir(), Options{
		BatchBytes:     200,
		MaxSegmentDocs: 1000,
		OnBatch:        func(_ time.Duration, docs, deletes int) { batches = append(batches, docs+deletes) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Batch([]Document{doc("old", "Old project")}, nil); err != nil {
		t.Fatal(err)
	}
	var docs []Document
	for i := range 10 {
		docs = append(docs, doc(fmt.Sprintf("d%d", i), "Garment workers in Dhaka and Chittagong"))
	}
	batches = nil
	if err := ix.Batch(docs, []string{"old"}); err != nil {
		t.Fatal(err)
	}
	if len(batches) < 2 {
		t.Errorf("10 documents of ~100 bytes with BatchBytes 200 went in %d batches, want several", len(batches))
	}
	total := 0
	for _, n := range batches {
		total += n
	}
	if total != 11 {
		t.Errorf("batches %v hold %d documents and deletes, want 11", batches, total)
	}
	if n, _ := ix.Count(); n != 10 {
		t.Errorf("Count() = %d, want 10", n)
	}
}
