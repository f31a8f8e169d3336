package replication

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/natstest"
	"github.com/mpower/labor-search/search"
)

// found are the ids a query finds on a replica, sorted.
func found(tb testing.TB, n *node, q string) []string {
	tb.Helper()
	res, err := n.engine.Search(context.Background(), search.Request{Query: q, Facets: []string{}, PerPage: 50})
	if err != nil {
		tb.Fatal(err)
	}
	out := []string{}
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	sort.Strings(out)
	return out
}

func TestSynonymSetsReachEveryReplica(t *testing.T) {
	nodes := mustReplicas(t, 3)
	ctx := context.Background()
	w, err := nodes[0].rep.Write(ctx, []index.Document{doc("a", "Quarries"), doc("b", "Mining"), doc("c", "Cotton")}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	set, seq, err := nodes[1].rep.PutSynonymSet(ctx, search.SynonymSet{ID: "mines", Root: " quarries", Synonyms: []string{"mining"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if seq != w.Seq+1 {
		t.Errorf("PutSynonymSet seq = %d, want %d: one entry after the documents", seq, w.Seq+1)
	}
	if diff := cmp.Diff(search.SynonymSet{ID: "mines", Root: "quarries", Synonyms: []string{"mining"}}, set); diff != "" {
		t.Errorf("set as logged (-want +got):\n%s", diff)
	}
	for i, n := range nodes {
		mustWait(t, n, seq)
		if diff := cmp.Diff([]string{"a", "b"}, found(t, n, "quarries")); diff != "" {
			t.Errorf("replica %d: quarries finds (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff([]string{"b"}, found(t, n, "mining")); diff != "" {
			t.Errorf("replica %d: one-way, mining finds (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff([]search.SynonymSet{set}, n.engine.SynonymSets()); diff != "" {
			t.Errorf("replica %d: sets (-want +got):\n%s", i, diff)
		}
		if got := testutil.ToFloat64(n.rep.metrics.appliedSynonyms); got != 1 {
			t.Errorf("replica %d: synonym entries applied = %v, want 1", i, got)
		}
	}
	// Refused on the replica that receives it: nothing is logged.
	_, _, err = nodes[2].rep.PutSynonymSet(ctx, search.SynonymSet{ID: "bad", Synonyms: []string{"only one"}}, "")
	var se *search.SynonymError
	if !errors.As(err, &se) {
		t.Errorf("an invalid set = %v, want a SynonymError", err)
	}
	del, err := nodes[2].rep.DeleteSynonymSet(ctx, "mines", "del-key")
	if err != nil {
		t.Fatal(err)
	}
	if del != seq+1 {
		t.Errorf("delete seq = %d, want %d (the refused set took no sequence)", del, seq+1)
	}
	// A retry with the key answers the same sequence; without, not found.
	if again, err := nodes[2].rep.DeleteSynonymSet(ctx, "mines", "del-key"); err != nil || again != del {
		t.Errorf("retried delete = %d, %v; want %d", again, err, del)
	}
	if _, err := nodes[0].rep.DeleteSynonymSet(ctx, "mines", ""); !errors.Is(err, search.ErrSynonymNotFound) {
		t.Errorf("second delete = %v, want ErrSynonymNotFound", err)
	}
	if _, err := nodes[0].rep.DeleteSynonymSet(ctx, "never", ""); !errors.Is(err, search.ErrSynonymNotFound) {
		t.Errorf("delete of a set never written = %v, want ErrSynonymNotFound", err)
	}
	for i, n := range nodes {
		mustWait(t, n, del)
		if diff := cmp.Diff([]string{"a"}, found(t, n, "quarries")); diff != "" {
			t.Errorf("replica %d after the delete: quarries finds (-want +got):\n%s", i, diff)
		}
		if got := n.engine.SynonymSets(); len(got) != 0 {
			t.Errorf("replica %d after the delete: sets %+v", i, got)
		}
	}
}

// TestAReplicaJoiningLaterAndAReplayGetTheSets: a replica started after
// the writes reads the sets from the log; so does the replay of an index
// of an old mapping, and a restart keeps them.
func TestAReplicaJoiningLaterAndAReplayGetTheSets(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	writer := mustNode(t, c.URLs(), "", Config{})
	if _, err := writer.rep.Write(ctx, []index.Document{doc("a", "Quarries"), doc("b", "Mining")}, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := writer.rep.PutSynonymSet(ctx, search.SynonymSet{ID: "gone", Synonyms: []string{"cotton", "mining"}}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.rep.DeleteSynonymSet(ctx, "gone", ""); err != nil {
		t.Fatal(err)
	}
	_, last, err := writer.rep.PutSynonymSet(ctx, search.SynonymSet{ID: "mines", Synonyms: []string{"quarries", "mining"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []search.SynonymSet{{ID: "mines", Synonyms: []string{"quarries", "mining"}}}

	late := mustNode(t, c.URLs(), "", Config{})
	mustWait(t, late, last)
	if diff := cmp.Diff(want, late.engine.SynonymSets()); diff != "" {
		t.Errorf("late replica: sets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b"}, found(t, late, "mining")); diff != "" {
		t.Errorf("late replica: mining finds (-want +got):\n%s", diff)
	}

	// An index of an older mapping holding a set the log does not.
	dir := t.TempDir()
	ix, err := index.Open(dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	internal := map[string][]byte{"mapping_version": []byte("0-old"), index.KeySynonymSets: []byte(`[{"id":"stale","synonyms":["mining","cotton"]}]`)}
	if err := ix.Apply(nil, internal, 1); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	r := mustNode(t, c.URLs(), dir, Config{})
	mustWait(t, r, last)
	if r.ix.MappingOutdated() {
		t.Fatal("still the old generation after the replay")
	}
	if diff := cmp.Diff(want, r.engine.SynonymSets()); diff != "" {
		t.Errorf("after the replay: sets (-want +got):\n%s", diff)
	}
	r.stop()
	r = mustNode(t, c.URLs(), dir, Config{})
	mustWait(t, r, last)
	if diff := cmp.Diff(want, r.engine.SynonymSets()); diff != "" {
		t.Errorf("after a restart: sets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b"}, found(t, r, "quarries")); diff != "" {
		t.Errorf("after a restart: quarries finds (-want +got):\n%s", diff)
	}
}

// TestAStreamOfThePreviousVersionTakesTheSynonymSubjects: a stream created
// with the documents' subject only is updated in place, its entries kept.
func TestAStreamOfThePreviousVersionTakesTheSynonymSubjects(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	n := mustNode(t, c.URLs(), "", Config{Stream: "OTHER", SubjectPrefix: "other"})
	old := StreamConfig("OLD", "old", 3)
	old.Subjects = []string{"old.doc.*"}
	if _, err := n.rep.js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	first := mustNode(t, c.URLs(), "", Config{Stream: "OLD", SubjectPrefix: "old"})
	info, err := first.rep.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"old.doc.*", "old.syn.*"}, info.Config.Subjects); diff != "" {
		t.Errorf("subjects after New (-want +got):\n%s", diff)
	}
	if _, seq, err := first.rep.PutSynonymSet(ctx, search.SynonymSet{ID: "x", Synonyms: []string{"mining", "quarries"}}, ""); err != nil {
		t.Fatal(err)
	} else {
		mustWait(t, first, seq)
	}
	if got := len(first.engine.SynonymSets()); got != 1 {
		t.Errorf("sets after a write to the updated stream = %d, want 1", got)
	}

	// A stream that cannot take the subjects (another stream has them)
	// is refused, saying so.
	blocked := StreamConfig("BLOCKED", "blk", 3)
	blocked.Subjects = []string{"blk.doc.*"}
	if _, err := n.rep.js.CreateStream(ctx, blocked); err != nil {
		t.Fatal(err)
	}
	if _, err := n.rep.js.CreateStream(ctx, jetstream.StreamConfig{Name: "SQUAT", Subjects: []string{"blk.syn.*"}}); err != nil {
		t.Fatal(err)
	}
	ix, _ := index.Open("", index.Options{})
	defer ix.Close()
	e, _ := search.New(ix, search.Options{})
	_, err = New(ctx, Config{URLs: c.URLs(), Stream: "BLOCKED", SubjectPrefix: "blk", StartTimeout: 5 * time.Second}, e)
	if err == nil || !strings.Contains(err.Error(), "stream BLOCKED takes the subjects blk.doc.* but not blk.syn.*") {
		t.Errorf("New on a stream that cannot be updated = %v, want the refusal naming the subjects", err)
	}
}

func TestSubjectCovers(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"s.syn.*", "s.syn.*", true},
		{"s.*.*", "s.syn.*", true},
		{"s.>", "s.syn.*", true},
		{">", "s.syn.*", true},
		{"s.doc.*", "s.syn.*", false},
		{"s.syn.x", "s.syn.*", false},
		{"s.syn", "s.syn.*", false},
		{"s.syn.*.x", "s.syn.*", false},
		{"s.syn.>", "s.syn.*", true},
	}
	for _, test := range tests {
		if got := subjectCovers(test.pattern, test.subject); got != test.want {
			t.Errorf("subjectCovers(%q, %q) = %v, want %v", test.pattern, test.subject, got, test.want)
		}
	}
	if diff := cmp.Diff([]string{"s.syn.*"}, missingSubjects([]string{"s.doc.*"}, streamSubjects("s"))); diff != "" {
		t.Errorf("missingSubjects (-want +got):\n%s", diff)
	}
}
