package index

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// snapshotOf writes n documents, the last sequence seq, to a new on-disk
// index and returns its snapshot.
func snapshotOf(t *testing.T, n int, seq uint64) ([]byte, SnapshotInfo) {
	t.Helper()
	ix := mustOpen(t, t.TempDir())
	var ops []Op
	for i := 0; i < n; i++ {
		d := doc(fmt.Sprintf("doc-%04d", i), fmt.Sprintf("Garment workers %d", i))
		ops = append(ops, Op{Doc: &d})
	}
	if err := ix.Apply(ops, map[string][]byte{KeySynonymSets: []byte(`{"sets":[]}`)}, seq); err != nil {
		t.Fatal(err)
	}
	return writeSnapshot(t, ix)
}

// writeSnapshot takes a snapshot of ix and writes it out.
func writeSnapshot(t *testing.T, ix *Index) ([]byte, SnapshotInfo) {
	t.Helper()
	snap, err := ix.TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("write snapshot: %d bytes of %d, %v", n, buf.Len(), err)
	}
	if _, err := os.Stat(snap.dir); err != nil {
		t.Fatalf("the copy is gone before Close: %v", err)
	}
	return buf.Bytes(), snap.Info
}

// TestSnapshotRestoresTheIndex takes a snapshot of an index that applied
// a log up to a sequence, restores it over another index, and checks the
// restored one holds the same documents, sequence and kept values, also
// after it is closed and opened again.
func TestSnapshotRestoresTheIndex(t *testing.T) {
	snap, info := snapshotOf(t, 300, 42)
	if want := (SnapshotInfo{AppliedSeq: 42, MappingVersion: MappingVersion, Documents: 300}); info != want {
		t.Fatalf("snapshot says %+v, want %+v", info, want)
	}
	dir := t.TempDir()
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Batch([]Document{doc("before", "Replaced by the snapshot")}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := ix.RestoreSnapshot(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if got != info {
		t.Errorf("restore says %+v, the snapshot %+v", got, info)
	}
	check := func(ix *Index, when string) {
		if n, err := ix.Count(); err != nil || n != 300 {
			t.Errorf("%s: %d documents (%v), want 300", when, n, err)
		}
		if seq, err := ix.AppliedSeq(); err != nil || seq != 42 {
			t.Errorf("%s: applied sequence %d (%v), want 42", when, seq, err)
		}
		if _, ok, _ := ix.Get("doc-0123"); !ok {
			t.Errorf("%s: doc-0123 missing", when)
		}
		if _, ok, _ := ix.Get("before"); ok {
			t.Errorf("%s: the replaced index's document is still there", when)
		}
		if v, _ := ix.GetInternal(KeySynonymSets); string(v) != `{"sets":[]}` {
			t.Errorf("%s: synonym sets %q", when, v)
		}
		res := mustSearch(t, ix, Query{Required: []Clause{Term{Field: FieldTitle, Term: "garment", Boost: 1}}, Size: 1})
		if res.Total != 300 {
			t.Errorf("%s: garment finds %d, want 300", when, res.Total)
		}
	}
	check(ix, "restored")
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // CURRENT and the restored generation
		t.Errorf("index directory holds %d entries after the restore, want 2", len(entries))
	}
	reopened := mustOpen(t, dir)
	check(reopened, "reopened")
}

// TestRestoreRefusesBadSnapshots: a stream that is not a snapshot, one
// with an entry outside the index directory, one that is not an index, and
// one of another mapping version are refused, and the live index is left
// as it was.
func TestRestoreRefusesBadSnapshots(t *testing.T) {
	tarOf := func(entries map[string]string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for name, body := range entries {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	// A snapshot of an index of another mapping version.
	oldDir := t.TempDir()
	old := mustOpen(t, oldDir)
	if err := old.Batch([]Document{doc("old", "Old mapping")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := old.SetInternal(keyMappingVersion, []byte("0-old")); err != nil {
		t.Fatal(err)
	}
	oldSnap, _ := writeSnapshot(t, old)

	good, _ := snapshotOf(t, 50, 7)

	dir := t.TempDir()
	ix := mustOpen(t, dir)
	if err := ix.Batch([]Document{doc("kept", "Still here")}, nil); err != nil {
		t.Fatal(err)
	}
	lost := errors.New("connection lost")
	if _, err := ix.RestoreSnapshot(io.MultiReader(bytes.NewReader(good[:len(good)/2]), iotest.ErrReader(lost))); !errors.Is(err, lost) {
		t.Errorf("a download that fails half way: %v, want its error", err)
	}
	for name, tc := range map[string]struct {
		data []byte
		is   error
	}{
		"truncated":       {data: good[:len(good)-100]},
		"not gzip":        {data: []byte("hello")},
		"outside":         {data: tarOf(map[string]string{"../escape": "x"})},
		"absolute":        {data: tarOf(map[string]string{"/tmp/escape": "x"})},
		"not an index":    {data: tarOf(map[string]string{"readme.txt": "x"})},
		"another mapping": {data: oldSnap, is: ErrSnapshotMapping},
	} {
		_, err := ix.RestoreSnapshot(bytes.NewReader(tc.data))
		if err == nil {
			t.Errorf("%s: restored", name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want %v", name, err, tc.is)
		}
		if _, ok, _ := ix.Get("kept"); !ok {
			t.Errorf("%s: the live index lost its document", name)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Errorf("an entry was written outside the index directory")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("index directory holds %v after refused restores, want CURRENT and the live generation", names)
	}
	if _, err := mustOpen(t, "").TakeSnapshot(); err == nil {
		t.Errorf("an in-memory index wrote a snapshot")
	}
}

// TestOpenRemovesWhatACrashLeft: the copy of a snapshot and the download
// and unpacking of a restore that a crash interrupted are removed when the
// index is opened again.
func TestOpenRemovesWhatACrashLeft(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Batch([]Document{doc("a", "A")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".snapshot-123/store", ".restore-456"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".restore-456.tgz"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix = mustOpen(t, dir)
	if _, ok, _ := ix.Get("a"); !ok {
		t.Fatal("the index lost its document")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != currentFile && !strings.HasPrefix(e.Name(), "gen-") {
			t.Errorf("%s is still there", e.Name())
		}
	}
}
