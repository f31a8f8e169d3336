package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/natstest"
	"github.com/mpower/labor-search/search"
)

// TestNewReplicaStartsFromASnapshot: a replica publishes a snapshot of its
// index; a new replica on an empty directory starts from it and applies
// only the entries written after it, and ends with the same documents and
// editors' synonym sets. One told not to bootstrap applies the whole log.
func TestNewReplicaStartsFromASnapshot(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	writer := mustNode(t, c.URLs(), t.TempDir(), Config{})
	write := func(from, to int) uint64 {
		var docs []index.Document
		for i := from; i < to; i++ {
			docs = append(docs, doc(fmt.Sprintf("d%04d", i), fmt.Sprintf("Quarry workers %d", i)))
		}
		w, err := writer.rep.Write(ctx, docs, true, "")
		if err != nil {
			t.Fatal(err)
		}
		return w.Seq
	}
	for k := 0; k < 3; k++ {
		write(k*100, (k+1)*100)
	}
	set, _, err := writer.rep.PutSynonymSet(ctx, search.SynonymSet{ID: "mines", Root: "quarry", Synonyms: []string{"mining"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.rep.Write(ctx, []index.Document{doc("m1", "Mining cooperative")}, true, ""); err != nil {
		t.Fatal(err)
	}
	last := write(300, 310)
	mustWait(t, writer, last)

	info, err := writer.rep.PublishSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AppliedSeq != last || info.Documents != 311 {
		t.Fatalf("published %+v, want sequence %d and 311 documents", info, last)
	}
	if _, err := writer.rep.PublishSnapshot(ctx); !errors.Is(err, errSnapshotCurrent) {
		t.Errorf("second publication at the same sequence: %v, want errSnapshotCurrent", err)
	}
	if got := testutil.ToFloat64(writer.rep.metrics.snapshotsPublished); got != 1 {
		t.Errorf("snapshots published %v, want 1", got)
	}
	last = write(310, 330)
	mustWait(t, writer, last)

	fresh := mustNode(t, c.URLs(), t.TempDir(), Config{})
	mustWait(t, fresh, last)
	if got := testutil.ToFloat64(fresh.rep.metrics.snapshotSeq); got != float64(info.AppliedSeq) {
		t.Errorf("started from snapshot sequence %v, want %d", got, info.AppliedSeq)
	}
	if got := testutil.ToFloat64(fresh.rep.metrics.appliedUpserts); got != 20 {
		t.Errorf("entries applied after the snapshot = %v, want the 20 written after it", got)
	}
	if diff := cmp.Diff(digest(t, writer), digest(t, fresh)); diff != "" {
		t.Errorf("documents (-writer +fresh):\n%s", diff)
	}
	if diff := cmp.Diff([]search.SynonymSet{set}, fresh.engine.SynonymSets()); diff != "" {
		t.Errorf("synonym sets (-writer +fresh):\n%s", diff)
	}
	// The restored set is in use: quarry also finds the mining document.
	if got := found(t, fresh, "quarry"); !slices.Contains(got, "m1") {
		t.Errorf("quarry finds %v on the fresh replica, want m1 among them (through the restored set)", got)
	}

	replayed := mustNode(t, c.URLs(), t.TempDir(), Config{NoBootstrap: true})
	mustWait(t, replayed, last)
	if got := testutil.ToFloat64(replayed.rep.metrics.appliedUpserts); got != 331 {
		t.Errorf("without bootstrap: %v upserts applied, want all 331", got)
	}
	if diff := cmp.Diff(digest(t, writer), digest(t, replayed)); diff != "" {
		t.Errorf("documents (-writer +replayed):\n%s", diff)
	}
}

// TestSnapshotOfAnotherStreamIsNotUsed: the stream is deleted and made
// anew under the same name; the snapshot of the old one would skip the new
// one's entries, so a new replica applies the new log from its start.
func TestSnapshotOfAnotherStreamIsNotUsed(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	old := mustNode(t, c.URLs(), t.TempDir(), Config{})
	var last uint64
	for i := range 30 {
		w, err := old.rep.Write(ctx, []index.Document{doc(fmt.Sprintf("old%d", i), "Old stream")}, true, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
	}
	mustWait(t, old, last)
	if _, err := old.rep.PublishSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := old.rep.js.DeleteStream(ctx, DefaultStream); err != nil {
		t.Fatal(err)
	}
	old.stop()
	// The new stream grows past the snapshot's sequence, so only the
	// stream's identity tells them apart.
	writer := mustNode(t, c.URLs(), "", Config{}) // creates the stream again
	var want []string
	for i := range 40 {
		id := fmt.Sprintf("new%02d", i)
		w, err := writer.rep.Write(ctx, []index.Document{doc(id, "New stream")}, true, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
		want = append(want, id)
	}
	fresh := mustNode(t, c.URLs(), t.TempDir(), Config{})
	mustWait(t, fresh, last)
	if got := testutil.ToFloat64(fresh.rep.metrics.snapshotSeq); got != 0 {
		t.Errorf("started from a snapshot at %v of the deleted stream", got)
	}
	if n, _ := fresh.ix.Count(); n != 40 {
		t.Errorf("fresh replica holds %d documents, want the new stream's 40", n)
	}
	if _, ok, _ := fresh.ix.Get("old0"); ok {
		t.Errorf("fresh replica holds a document of the deleted stream")
	}
}

// TestAnIndexOfADeletedStreamIsReplayed: a replica's index applied 30
// entries of a stream that is then deleted and made anew under the same
// name; on its restart the replica does not tail the new stream from 31
// (it would miss its first entries) but replays it, and ends with exactly
// the new stream's documents.
func TestAnIndexOfADeletedStreamIsReplayed(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	dir := t.TempDir()
	r := mustNode(t, c.URLs(), dir, Config{NoBootstrap: true})
	var last uint64
	for i := range 30 {
		w, err := r.rep.Write(ctx, []index.Document{doc(fmt.Sprintf("old%d", i), "Old stream")}, true, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
	}
	mustWait(t, r, last)
	if err := r.rep.js.DeleteStream(ctx, DefaultStream); err != nil {
		t.Fatal(err)
	}
	r.stop()
	writer := mustNode(t, c.URLs(), "", Config{}) // creates the stream again
	for i := range 5 {
		w, err := writer.rep.Write(ctx, []index.Document{doc(fmt.Sprintf("new%d", i), "New stream")}, true, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
	}
	r = mustNode(t, c.URLs(), dir, Config{NoBootstrap: true})
	mustWait(t, r, last)
	if n, _ := r.ix.Count(); n != 5 {
		t.Errorf("restarted replica holds %d documents, want the new stream's 5", n)
	}
	for _, id := range []string{"new0", "new4"} {
		if _, ok, _ := r.ix.Get(id); !ok {
			t.Errorf("restarted replica lacks %s", id)
		}
	}
	if _, ok, _ := r.ix.Get("old0"); ok {
		n, _ := r.ix.Count()
		t.Errorf("restarted replica still holds a document of the deleted stream (%d documents, %v)", n, digest(t, r))
	}
}
