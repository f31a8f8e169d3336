package replication

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/natstest"
	"github.com/mpower/labor-search/search"
)

// node is one replica: its own index, engine and connection.
type node struct {
	ix     *index.Index
	engine *search.Engine
	rep    *Replica
	reg    *prometheus.Registry
	stop   func()
}

func mustNode(tb testing.TB, urls []string, dir string, cfg Config) *node {
	tb.Helper()
	// As searchd opens a replica's index: one of an older mapping is
	// served while the log is replayed into a new generation.
	ix, err := index.Open(dir, index.Options{KeepOldMapping: true})
	if err != nil {
		tb.Fatal(err)
	}
	e, err := search.New(ix, search.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.URLs = urls
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	rep, err := New(context.Background(), cfg, e)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rep.Run(ctx) }()
	n := &node{ix: ix, engine: e, rep: rep, reg: reg}
	stopped := false
	n.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
		rep.Close()
		_ = ix.Close()
	}
	tb.Cleanup(n.stop)
	return n
}

// mustReplicas starts a three-server cluster and n in-memory replicas on
// it, each talking to a different server first.
func mustReplicas(tb testing.TB, n int) []*node {
	tb.Helper()
	urls := natstest.Start(tb, 3).URLs()
	var nodes []*node
	for i := range n {
		k := i % len(urls)
		nodes = append(nodes, mustNode(tb, append(urls[k:], urls[:k]...), "", Config{}))
	}
	return nodes
}

func mustWait(tb testing.TB, n *node, seq uint64) {
	tb.Helper()
	waitApplied(tb, n, seq, 20*time.Second)
}

// waitApplied waits, up to within, until n has applied seq.
func waitApplied(tb testing.TB, n *node, seq uint64, within time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := n.rep.WaitApplied(ctx, seq); err != nil {
		tb.Fatalf("replica never applied %d within %s: %v", seq, within, err)
	}
}

// digest is the sorted ids with a hash of each stored document.
func digest(tb testing.TB, n *node) []string {
	tb.Helper()
	res, err := n.ix.BleveSearch(context.Background(), searchAll())
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		d, ok, err := n.ix.Get(h.ID)
		if err != nil || !ok {
			tb.Fatalf("Get(%s) = %v, %v", h.ID, ok, err)
		}
		out = append(out, fmt.Sprintf("%s %x", h.ID, sha256.Sum256([]byte(d.Title+"\x00"+d.Description))))
	}
	sort.Strings(out)
	return out
}

func doc(id, title string) index.Document {
	return index.Document{ID: id, Title: title, Description: "About " + title}
}

func TestWritesReachEveryReplica(t *testing.T) {
	nodes := mustReplicas(t, 3)
	ctx := context.Background()
	w, err := nodes[0].rep.Write(ctx, []index.Document{doc("a", "Mining"), doc("b", "Fishing"), doc("c", "Cotton")}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if w.Seq != 3 || len(w.Docs) != 3 {
		t.Fatalf("bulk Write = seq %d, %d docs; want 3, 3", w.Seq, len(w.Docs))
	}
	if w.Docs[0].Kind != index.KindProject {
		t.Errorf("written document kind %q: not prepared", w.Docs[0].Kind)
	}
	w2, err := nodes[1].rep.Write(ctx, []index.Document{doc("b", "Forestry")}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	seq, err := nodes[2].rep.Delete(ctx, "a", "")
	if err != nil {
		t.Fatal(err)
	}
	if seq <= w2.Seq {
		t.Fatalf("delete seq %d not after %d", seq, w2.Seq)
	}
	if _, err := nodes[2].rep.Delete(ctx, "a", ""); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("second Delete(a) = %v, want ErrNotFound", err)
	}
	if _, err := nodes[2].rep.Delete(ctx, "never", ""); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Delete(never) = %v, want ErrNotFound", err)
	}
	want := []string{"b Forestry", "c Cotton"}
	var first []string
	for i, n := range nodes {
		mustWait(t, n, seq)
		var got []string
		for _, id := range []string{"a", "b", "c"} {
			if d, ok, _ := n.ix.Get(id); ok {
				got = append(got, id+" "+d.Title)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("replica %d documents mismatch (-want +got):\n%s", i, diff)
		}
		dg := digest(t, n)
		if i == 0 {
			first = dg
		} else if diff := cmp.Diff(first, dg); diff != "" {
			t.Errorf("replica %d digest differs from replica 0 (-0 +%d):\n%s", i, i, diff)
		}
		st := n.rep.Status()
		if st.AppliedSeq != seq || !st.Ready || st.Lag != 0 {
			t.Errorf("replica %d status = %+v, want applied %d, ready, no lag", i, st, seq)
		}
	}
	// The bulk was one atomic batch: its messages carry the batch headers,
	// by which the apply loop keeps them in one index batch.
	m, err := nodes[0].rep.stream.GetMsg(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(headerBatchID) == "" || m.Header.Get(headerCommit) != "1" {
		t.Errorf("stored commit message headers = %v, want %s and %s: 1", m.Header, headerBatchID, headerCommit)
	}
}

func TestIdempotencyKeyWritesOnce(t *testing.T) {
	c := natstest.Start(t, 3)
	n := mustNode(t, c.URLs(), "", Config{})
	ctx := context.Background()
	tests := []struct {
		name string
		docs []index.Document
	}{
		{"one document", []index.Document{doc("a", "Mining")}},
		{"atomic batch", []index.Document{doc("b", "Fishing"), doc("c", "Cotton")}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			key := "key-" + test.name
			first, err := n.rep.Write(ctx, test.docs, true, key)
			if err != nil {
				t.Fatal(err)
			}
			before, err := n.rep.stream.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			again, err := n.rep.Write(ctx, test.docs, true, key)
			if err != nil {
				t.Fatal(err)
			}
			after, err := n.rep.stream.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after.State.LastSeq != before.State.LastSeq {
				t.Errorf("retry stored again: last seq %d -> %d", before.State.LastSeq, after.State.LastSeq)
			}
			if again.Seq < first.Seq {
				t.Errorf("retry answered seq %d, before the first write's %d", again.Seq, first.Seq)
			}
		})
	}
	// A delete retried with its key after it was stored answers the same
	// sequence instead of not_found; another key gets not_found.
	del, err := n.rep.Delete(ctx, "a", "del-key")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := n.rep.Delete(ctx, "a", "del-key"); err != nil || again != del {
		t.Errorf("retried Delete = %d, %v; want %d, nil", again, err, del)
	}
	if _, err := n.rep.Delete(ctx, "a", "other-key"); !errors.Is(err, search.ErrNotFound) {
		t.Errorf("Delete of a deleted document with a new key = %v, want ErrNotFound", err)
	}
	if got := testutil.ToFloat64(n.rep.metrics.publishDuplicates); got != 3 {
		t.Errorf("replication_publish_duplicates_total = %v, want 3", got)
	}
}

func TestReplicaResumesFromItsAppliedSequence(t *testing.T) {
	c := natstest.Start(t, 3)
	dir := t.TempDir()
	ctx := context.Background()
	writer := mustNode(t, c.URLs(), "", Config{})
	r := mustNode(t, c.URLs(), dir, Config{})
	var last uint64
	for i := range 5 {
		w, err := writer.rep.Write(ctx, []index.Document{doc("d"+strconv.Itoa(i), "Doc")}, true, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
	}
	mustWait(t, r, last)
	r.stop()
	for i := 5; i < 8; i++ {
		w, err := writer.rep.Write(ctx, []index.Document{doc("d"+strconv.Itoa(i), "Doc")}, true, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
	}
	r = mustNode(t, c.URLs(), dir, Config{})
	if got := r.rep.Status().AppliedSeq; got != 5 {
		t.Fatalf("reopened replica applied_seq = %d, want 5", got)
	}
	mustWait(t, r, last)
	// Only the three new entries were applied after the restart.
	if got := testutil.ToFloat64(r.rep.metrics.appliedUpserts); got != 3 {
		t.Errorf("entries applied after restart = %v, want 3", got)
	}
	if n, _ := r.ix.Count(); n != 8 {
		t.Errorf("documents = %d, want 8", n)
	}
}

func TestNoQuorumRefusesWritesAndReadsStillWork(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	n := mustNode(t, c.URLs(), "", Config{WriteTimeout: 2 * time.Second, AttemptTimeout: 500 * time.Millisecond})
	w, err := n.rep.Write(ctx, []index.Document{doc("a", "Mining")}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	mustWait(t, n, w.Seq)
	c.Stop(1)
	c.Stop(2)
	for _, docs := range [][]index.Document{{doc("b", "Fishing")}, {doc("c", "C"), doc("d", "D")}} {
		if _, err := n.rep.Write(ctx, docs, true, ""); !errors.Is(err, search.ErrUnavailable) {
			t.Errorf("Write of %d without quorum = %v, want ErrUnavailable", len(docs), err)
		}
	}
	if _, err := n.rep.Delete(ctx, "a", ""); !errors.Is(err, search.ErrUnavailable) {
		t.Errorf("Delete without quorum = %v, want ErrUnavailable", err)
	}
	// The local index still answers, and a read asking for a sequence the
	// replica lacks is told so when its wait ends.
	if _, ok, err := n.ix.Get("a"); !ok || err != nil {
		t.Errorf("Get(a) without quorum = %v, %v", ok, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := n.rep.WaitApplied(wctx, w.Seq+1); !errors.Is(err, search.ErrNotCaughtUp) {
		t.Errorf("WaitApplied(%d) = %v, want ErrNotCaughtUp", w.Seq+1, err)
	}
	if got := testutil.ToFloat64(n.rep.metrics.publishErrors.WithLabelValues(reasonNoQuorum)) +
		testutil.ToFloat64(n.rep.metrics.publishErrors.WithLabelValues(reasonTimeout)); got != 3 {
		t.Errorf("publish errors = %v, want 3", got)
	}
	c.Restart(1)
	wctx2, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	var seq uint64
	for seq == 0 {
		w, err := n.rep.Write(wctx2, []index.Document{doc("b", "Fishing")}, true, "after")
		if err == nil {
			seq = w.Seq
		} else if wctx2.Err() != nil {
			t.Fatalf("writes did not resume with 2 of 3 servers: %v", err)
		}
	}
	mustWait(t, n, seq)
}

func TestBulkOverTheBatchLimitIsRefusedWhole(t *testing.T) {
	c := natstest.Start(t, 3)
	n := mustNode(t, c.URLs(), "", Config{})
	docs := make([]index.Document, MaxBatchDocuments+1)
	for i := range docs {
		docs[i] = doc("d"+strconv.Itoa(i), "Doc")
	}
	_, err := n.rep.Write(context.Background(), docs, false, "")
	var lim *search.LimitError
	if !errors.As(err, &lim) {
		t.Fatalf("Write of %d = %v, want a LimitError", len(docs), err)
	}
	// Duplicate ids collapse before the limit is counted.
	for i := range docs {
		docs[i].ID = "same"
	}
	if _, err := n.rep.Write(context.Background(), docs, false, ""); err != nil {
		t.Fatalf("Write of one id %d times = %v", len(docs), err)
	}
}

func TestCheckStream(t *testing.T) {
	good := StreamConfig("S", "s", 3)
	tests := []struct {
		name     string
		edit     func(*jetstream.StreamConfig)
		wantErr  bool
		warnings int
	}{
		{"ours", func(*jetstream.StreamConfig) {}, false, 0},
		{"one replica", func(c *jetstream.StreamConfig) { c.Replicas = 1 }, false, 1},
		{"max age", func(c *jetstream.StreamConfig) { c.MaxAge = time.Hour }, true, 0},
		{"max bytes", func(c *jetstream.StreamConfig) { c.MaxBytes = 1 << 30 }, true, 0},
		{"history", func(c *jetstream.StreamConfig) { c.MaxMsgsPerSubject = 5 }, true, 0},
		{"purge allowed", func(c *jetstream.StreamConfig) { c.DenyPurge = false }, true, 0},
		{"no atomic", func(c *jetstream.StreamConfig) { c.AllowAtomicPublish = false }, true, 0},
		{"work queue", func(c *jetstream.StreamConfig) { c.Retention = jetstream.WorkQueuePolicy }, true, 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			c := good
			test.edit(&c)
			warnings, err := checkStream(c, 3)
			if (err != nil) != test.wantErr || len(warnings) != test.warnings {
				t.Errorf("checkStream = %v, %q; want error %v and %d warnings", err, warnings, test.wantErr, test.warnings)
			}
		})
	}
}

func TestNewRefusesAnUnsafeStream(t *testing.T) {
	c := natstest.Start(t, 3)
	n := mustNode(t, c.URLs(), "", Config{})
	cfg := StreamConfig("UNSAFE", "unsafe", 3)
	cfg.MaxAge = time.Hour
	if _, err := n.rep.js.CreateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	ix, _ := index.Open("", index.Options{})
	defer ix.Close()
	e, _ := search.New(ix, search.Options{})
	_, err := New(context.Background(), Config{URLs: c.URLs(), Stream: "UNSAFE", SubjectPrefix: "unsafe"}, e)
	if err == nil {
		t.Fatal("New on a stream with max_age = nil error, want a refusal")
	}
}

func TestMetricsOnTheRegistryPassedIn(t *testing.T) {
	c := natstest.Start(t, 3)
	n := mustNode(t, c.URLs(), "", Config{})
	w, err := n.rep.Write(context.Background(), []index.Document{doc("a", "Mining")}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	mustWait(t, n, w.Seq)
	families, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
		if f.GetName() == "replication_apply_delay_seconds" {
			if n := f.GetMetric()[0].GetHistogram().GetSampleCount(); n != 1 {
				t.Errorf("write-to-visible histogram counted %d entries, want 1", n)
			}
		}
	}
	for _, name := range []string{
		"replication_applied_sequence", "replication_stream_last_sequence", "replication_lag_messages",
		"replication_lag_seconds", "replication_connected", "replication_apply_delay_seconds",
		"replication_apply_batch_duration_seconds", "replication_publish_duration_seconds",
		"replication_consistency_wait_seconds", "replication_applied_messages_total",
		"replication_consumer_resets_total", "replication_publish_duplicates_total",
		"replication_consistency_waits_total", "replication_consistency_timeouts_total",
		"replication_publish_errors_total",
	} {
		if !got[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
	if v := testutil.ToFloat64(n.rep.metrics.applied); v != float64(w.Seq) {
		t.Errorf("replication_applied_sequence = %v, want %d", v, w.Seq)
	}
	// A second replica on the same registry is refused, not double-counted.
	ix, _ := index.Open("", index.Options{})
	defer ix.Close()
	e, _ := search.New(ix, search.Options{})
	if _, err := New(context.Background(), Config{URLs: c.URLs(), Registerer: n.reg}, e); err == nil {
		t.Error("New on a registry that already has the metrics = nil error")
	}
}

func TestAnIndexOfAnOldMappingIsReplayedFromTheLog(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	writer := mustNode(t, c.URLs(), "", Config{})
	var last uint64
	for _, d := range []index.Document{doc("a", "Mining"), doc("b", "Fishing"), doc("c", "Cotton")} {
		w, err := writer.rep.Write(ctx, []index.Document{d}, true, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
	}
	if _, err := writer.rep.Delete(ctx, "b", ""); err != nil {
		t.Fatal(err)
	}
	// An index an older release built: another mapping version, a
	// document the log does not hold, an applied sequence of 1.
	dir := t.TempDir()
	ix, err := index.Open(dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stale := doc("stale", "Only in the old index")
	if err := ix.Apply([]index.Op{{ID: "stale", Doc: &stale}}, map[string][]byte{"mapping_version": []byte("0-old")}, 1); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	r := mustNode(t, c.URLs(), dir, Config{})
	mustWait(t, r, last+1)
	if r.ix.MappingOutdated() {
		t.Fatal("still the old generation after the replay")
	}
	var got []string
	for _, id := range []string{"a", "b", "c", "stale"} {
		if _, ok, _ := r.ix.Get(id); ok {
			got = append(got, id)
		}
	}
	if diff := cmp.Diff([]string{"a", "c"}, got); diff != "" {
		t.Errorf("documents after the replay mismatch (-want +got):\n%s", diff)
	}
	// The tail after the replay is applied as usual.
	w, err := writer.rep.Write(ctx, []index.Document{doc("d", "Dairy")}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	mustWait(t, r, w.Seq)
	if _, ok, _ := r.ix.Get("d"); !ok {
		t.Error("a write after the replay is missing")
	}
}

func TestNotReadyUntilCaughtUp(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx := context.Background()
	writer := mustNode(t, c.URLs(), "", Config{})
	docs := make([]index.Document, 50)
	for i := range docs {
		docs[i] = doc("d"+strconv.Itoa(i), "Doc")
	}
	w, err := writer.rep.Write(ctx, docs, true, "")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open("", index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	e, err := search.New(ix, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := New(ctx, Config{URLs: c.URLs(), ReadyLag: 10}, e)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	if st := rep.Status(); st.Ready || st.Lag != w.Seq || st.StreamSeq != w.Seq {
		t.Fatalf("status before applying = %+v, want not ready, %d behind", st, w.Seq)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rep.Run(runCtx) }()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := rep.WaitApplied(wctx, w.Seq); err != nil {
		t.Fatal(err)
	}
	if st := rep.Status(); !st.Ready || st.Lag != 0 {
		t.Errorf("status after catching up = %+v, want ready, no lag", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A consumer restarted while entries are in flight (the watchdog's way
// out of a stall, as after a quorum loss) must leave no entry unapplied:
// a message the old consumer delivered after the restart must not move
// the applied sequence past entries the new one has yet to deliver.
func TestConsumerRestartsLoseNoEntry(t *testing.T) {
	c := natstest.Start(t, 3)
	writer := mustNode(t, c.URLs(), "", Config{})
	r := mustNode(t, c.URLs(), "", Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	restarts := 0
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		// Restart each time the replica has moved, so it progresses
		// between restarts however slowly consumers are created.
		var at uint64
		for i := 0; ctx.Err() == nil; i++ {
			if now := r.rep.applied.Load(); now != at {
				at = now
				if i%2 == 0 {
					select {
					case r.rep.restart <- struct{}{}:
						restarts++
					default:
					}
				} else {
					// As a server failure does: the consumer vanishes
					// under the client, which recreates it itself.
					names := r.rep.stream.ConsumerNames(ctx)
					for name := range names.Name() {
						if r.rep.stream.DeleteConsumer(ctx, name) == nil {
							restarts++
						}
					}
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var last uint64
	for round := range 60 {
		var docs []index.Document
		for i := range 50 {
			docs = append(docs, doc(fmt.Sprintf("d%d", (round*50+i)%1700), fmt.Sprintf("Round %d", round)))
		}
		// Not atomic: one message per document, so restarts fall between
		// entries as well as between writes.
		w, err := writer.rep.Write(context.Background(), docs, false, "")
		if err != nil {
			t.Fatal(err)
		}
		last = w.Seq
	}
	mustWait(t, writer, last)
	mustWait(t, r, last)
	cancel()
	<-stopped
	if restarts < 5 {
		t.Errorf("consumer restarted %d times during the writes; the test needs several", restarts)
	}
	if diff := cmp.Diff(digest(t, writer), digest(t, r)); diff != "" {
		t.Errorf("replica restarted under load differs from the writer (-writer +replica):\n%s", diff)
	}
}
