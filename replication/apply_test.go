package replication

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// recordingEngine records each Apply: the ids of its ops and its sequence.
type recordingEngine struct {
	mu      sync.Mutex
	batches [][]string
	seqs    []uint64
	applied chan struct{}
}

func (e *recordingEngine) Prepare(docs []index.Document, _ bool) ([]index.Document, []search.Refusal) {
	return docs, nil
}

func (e *recordingEngine) Apply(ops []index.Op, seq uint64) error {
	e.mu.Lock()
	var ids []string
	for _, op := range ops {
		ids = append(ids, op.ID)
	}
	e.batches = append(e.batches, ids)
	e.seqs = append(e.seqs, seq)
	e.mu.Unlock()
	e.applied <- struct{}{}
	return nil
}

func (e *recordingEngine) PrepareSynonymSet(set search.SynonymSet) (search.SynonymSet, error) {
	return set, nil
}

func (e *recordingEngine) AppliedSeq() (uint64, error) { return 0, nil }

func (e *recordingEngine) NeedsReplay() bool { return false }

func (e *recordingEngine) Replay(context.Context, search.ReplaySource) (uint64, error) {
	return 0, errors.New("not replayed")
}

func (e *recordingEngine) LogStream() (string, error) { return "", nil }

func (e *recordingEngine) SetLogStream(string) error { return nil }

func (e *recordingEngine) TakeSnapshot() (*index.Snapshot, error) {
	return nil, errors.New("no snapshot")
}

func (e *recordingEngine) RestoreSnapshot(io.Reader) (index.SnapshotInfo, error) {
	return index.SnapshotInfo{}, errors.New("no snapshot")
}

func newTestReplica(tb testing.TB, e Engine) *Replica {
	tb.Helper()
	m, err := newMetrics(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &Replica{cfg: withDefaults(Config{}), engine: e, metrics: m, changed: make(chan struct{}), restart: make(chan struct{}, 1)}
}

func TestApplyLoopKeepsAnAtomicBatchWhole(t *testing.T) {
	eng := &recordingEngine{applied: make(chan struct{}, 10)}
	r := newTestReplica(t, eng)
	entries := make(chan entry, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.applyLoop(ctx, feed{entries: entries}) }()

	d := index.Document{ID: "x", Title: "X"}
	entries <- entry{seq: 1, op: index.Op{ID: "b1", Doc: &d}, open: true}
	entries <- entry{seq: 2, op: index.Op{ID: "b2", Doc: &d}, open: true}
	// The loop has taken both staged messages of the batch; the commit is
	// not there yet, and nothing may be applied before it arrives.
	for len(entries) > 0 {
		runtime.Gosched()
	}
	entries <- entry{seq: 3, op: index.Op{ID: "b3", Doc: &d}}
	<-eng.applied
	entries <- entry{seq: 4, op: index.Op{ID: "single"}}
	<-eng.applied
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"b1", "b2", "b3"}, {"single"}}, eng.batches); diff != "" {
		t.Errorf("index batches mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{3, 4}, eng.seqs); diff != "" {
		t.Errorf("applied sequences mismatch (-want +got):\n%s", diff)
	}
	if got := r.Status().AppliedSeq; got != 4 {
		t.Errorf("AppliedSeq = %d, want 4", got)
	}
}

func TestApplyLoopStopsAtAnEntryItCannotRead(t *testing.T) {
	eng := &recordingEngine{applied: make(chan struct{}, 10)}
	r := newTestReplica(t, eng)
	entries := make(chan entry, 10)
	d := index.Document{ID: "x", Title: "X"}
	entries <- entry{seq: 1, op: index.Op{ID: "ok", Doc: &d}}
	entries <- entry{seq: 2, err: errors.New("decode document: unexpected end of JSON input")}
	entries <- entry{seq: 3, op: index.Op{ID: "after", Doc: &d}}
	err := r.applyLoop(context.Background(), feed{entries: entries})
	if err == nil {
		t.Fatal("applyLoop = nil error, want the unreadable entry's")
	}
	// Nothing of the batch holding the bad entry is applied, so the
	// replica stays at a sequence every replica agrees on.
	if len(eng.batches) != 0 || r.Status().AppliedSeq != 0 {
		t.Errorf("applied %v up to %d before the bad entry", eng.batches, r.Status().AppliedSeq)
	}
}

// A consumer that delivers an entry at or before one it already delivered
// is not followed: applying the batch would either repeat an older version
// over a newer one or, applied alone, move the applied sequence past
// entries that never came. The loop ends for a new consumer instead.
func TestApplyLoopRestartsOnAnEntryOutOfOrder(t *testing.T) {
	d := index.Document{ID: "x", Title: "X"}
	tests := []struct {
		name    string
		entries []entry
		failed  bool
		want    [][]string
	}{
		{"lower sequence", []entry{{seq: 5, op: index.Op{ID: "five", Doc: &d}}, {seq: 3, op: index.Op{ID: "three", Doc: &d}}}, false, nil},
		{"same sequence", []entry{{seq: 5, op: index.Op{ID: "five", Doc: &d}}, {seq: 5, op: index.Op{ID: "five", Doc: &d}}}, false, nil},
		{"consumer failed", nil, true, nil},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			eng := &recordingEngine{applied: make(chan struct{}, 10)}
			r := newTestReplica(t, eng)
			entries := make(chan entry, 10)
			for _, e := range test.entries {
				entries <- e
			}
			failed := make(chan struct{})
			if test.failed {
				close(failed)
			}
			err := r.applyLoop(context.Background(), feed{entries: entries, failed: failed})
			if !errors.Is(err, errConsumerLost) {
				t.Fatalf("applyLoop = %v, want errConsumerLost", err)
			}
			if diff := cmp.Diff(test.want, eng.batches); diff != "" || r.Status().AppliedSeq != 0 {
				t.Errorf("applied %v up to %d, want nothing", eng.batches, r.Status().AppliedSeq)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no responders", nats.ErrNoResponders, true},
		{"deadline", context.DeadlineExceeded, true},
		{"no stream response", jetstream.ErrNoStreamResponse, true},
		{"jetstream unavailable", &jetstream.APIError{Code: 503, ErrorCode: 10008}, true},
		{"first attempt still in process", &jetstream.APIError{Code: 409, ErrorCode: errCodeMsgIDInProcess}, true},
		{"incomplete batch", &jetstream.APIError{Code: 400, ErrorCode: errCodeBatchIncomplete}, true},
		{"wrong last sequence", &jetstream.APIError{Code: 400, ErrorCode: 10071}, false},
		{"atomic publish disabled", &jetstream.APIError{Code: 400, ErrorCode: 10174}, false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := retryable(test.err); got != test.want {
				t.Errorf("retryable(%v) = %v, want %v", test.err, got, test.want)
			}
		})
	}
}
