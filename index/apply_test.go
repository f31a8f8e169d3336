package index

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestApplyStoresSequenceWithDocuments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ix")
	ix := mustOpen(t, dir)
	if seq, err := ix.AppliedSeq(); err != nil || seq != 0 {
		t.Fatalf("AppliedSeq() of a new index = %d, %v; want 0, nil", seq, err)
	}
	a, b := doc("a", "Mining"), doc("b", "Fishing")
	b2 := doc("b", "Forestry")
	steps := []struct {
		name string
		ops  []Op
		seq  uint64
	}{
		{"two upserts", []Op{{ID: "a", Doc: &a}, {ID: "b", Doc: &b}}, 2},
		// A later op on the same id wins inside one batch.
		{"delete then upsert", []Op{{ID: "b"}, {ID: "b", Doc: &b2}}, 4},
		{"upsert then delete", []Op{{ID: "a", Doc: &a}, {ID: "a"}}, 7},
		{"sequence only", nil, 9},
	}
	for _, s := range steps {
		if err := ix.Apply(s.ops, map[string][]byte{"note": []byte(s.name)}, s.seq); err != nil {
			t.Fatalf("Apply(%s): %v", s.name, err)
		}
	}
	check := func(ix *Index) {
		t.Helper()
		seq, err := ix.AppliedSeq()
		if err != nil || seq != 9 {
			t.Fatalf("AppliedSeq() = %d, %v; want 9", seq, err)
		}
		if _, ok, _ := ix.Get("a"); ok {
			t.Errorf("a is present; the last op deleted it")
		}
		got, ok, err := ix.Get("b")
		if err != nil || !ok {
			t.Fatalf("Get(b) = %v, %v", ok, err)
		}
		if diff := cmp.Diff(b2.Title, got.Title); diff != "" {
			t.Errorf("title of b mismatch (-want +got):\n%s", diff)
		}
		note, _ := ix.GetInternal("note")
		if string(note) != "sequence only" {
			t.Errorf("internal value = %q, want the last batch's", note)
		}
	}
	check(ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	check(mustOpen(t, dir))
}

func TestBuilderApplyReplaysIntoNewGeneration(t *testing.T) {
	ix := mustOpen(t, filepath.Join(t.TempDir(), "ix"))
	a := doc("a", "Mining")
	if err := ix.Apply([]Op{{ID: "a", Doc: &a}}, nil, 3); err != nil {
		t.Fatal(err)
	}
	c := doc("c", "Cotton")
	err := ix.Rebuild(func(b *Builder) error { return b.Apply([]Op{{ID: "c", Doc: &c}}, nil, 5) })
	if err != nil {
		t.Fatal(err)
	}
	if seq, err := ix.AppliedSeq(); err != nil || seq != 5 {
		t.Fatalf("AppliedSeq() after the replay = %d, %v; want 5", seq, err)
	}
	if n, _ := ix.Count(); n != 1 {
		t.Fatalf("Count() = %d, want 1", n)
	}
}

func TestAppliedSeqRefusesDamagedValue(t *testing.T) {
	ix := mustOpen(t, "")
	if err := ix.SetInternal(keyAppliedSeq, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.AppliedSeq(); err == nil {
		t.Fatal("AppliedSeq() of a 2-byte value = nil error, want one")
	}
}

func TestKeepOldMappingServesUntilARebuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ix")
	ix := mustOpen(t, dir)
	a := doc("a", "Mining")
	if err := ix.Apply([]Op{{ID: "a", Doc: &a}}, map[string][]byte{keyMappingVersion: []byte("0-old")}, 4); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("Open of an old mapping version = nil error, want a refusal")
	}
	old, err := Open(dir, Options{KeepOldMapping: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if !old.MappingOutdated() {
		t.Fatal("MappingOutdated() = false for an index of mapping 0-old")
	}
	if _, ok, _ := old.Get("a"); !ok {
		t.Error("the old generation does not serve its document")
	}
	c := doc("c", "Cotton")
	if err := old.Rebuild(func(b *Builder) error { return b.Apply([]Op{{ID: "c", Doc: &c}}, nil, 9) }); err != nil {
		t.Fatal(err)
	}
	if old.MappingOutdated() {
		t.Error("MappingOutdated() = true after the rebuild")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	again := mustOpen(t, dir)
	if seq, _ := again.AppliedSeq(); seq != 9 || again.MappingOutdated() {
		t.Errorf("reopened: applied %d, outdated %v; want 9, false", seq, again.MappingOutdated())
	}
}
