package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// fakeReplicator stands in for the replicated log: writes get the next
// sequence (and are applied at once unless held), errors can be injected.
type fakeReplicator struct {
	engine *search.Engine

	mu      sync.Mutex
	seq     uint64
	applied uint64
	hold    bool // do not apply writes: reads with min_seq wait
	err     error
	keys    []string
	deleted []string
	status  search.ReplicaStatus
}

func (f *fakeReplicator) Write(ctx context.Context, docs []index.Document, atomic bool, key string) (search.Written, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	if f.err != nil {
		return search.Written{}, f.err
	}
	kept, refused := f.engine.Prepare(docs, atomic)
	w := search.Written{Docs: kept, Refused: refused}
	if len(kept) > 0 {
		f.seq++
		w.Seq = f.seq
		if !f.hold {
			f.applied = f.seq
		}
	}
	return w, nil
}

func (f *fakeReplicator) Delete(ctx context.Context, id, key string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	if f.err != nil {
		return 0, f.err
	}
	if id == "missing" {
		return 0, search.ErrNotFound
	}
	f.deleted = append(f.deleted, id)
	f.seq++
	if !f.hold {
		f.applied = f.seq
	}
	return f.seq, nil
}

// PutSynonymSet logs the set and, unless held, applies it as a replica
// applies the log: through Engine.Apply.
func (f *fakeReplicator) PutSynonymSet(ctx context.Context, set search.SynonymSet, key string) (search.SynonymSet, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	if f.err != nil {
		return search.SynonymSet{}, 0, f.err
	}
	set, err := f.engine.PrepareSynonymSet(set)
	if err != nil {
		return search.SynonymSet{}, 0, err
	}
	v, err := search.EncodeSynonymSet(set)
	if err != nil {
		return search.SynonymSet{}, 0, err
	}
	seq, err := f.log(index.Op{ID: set.ID, Kind: index.OpSynonymSet, Value: v})
	return set, seq, err
}

func (f *fakeReplicator) DeleteSynonymSet(ctx context.Context, id, key string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	if f.err != nil {
		return 0, f.err
	}
	if _, err := f.engine.SynonymSet(id); err != nil {
		return 0, err
	}
	return f.log(index.Op{ID: id, Kind: index.OpSynonymSet})
}

func (f *fakeReplicator) log(op index.Op) (uint64, error) {
	f.seq++
	if f.hold {
		return f.seq, nil
	}
	if err := f.engine.Apply([]index.Op{op}, f.seq); err != nil {
		return 0, err
	}
	f.applied = f.seq
	return f.seq, nil
}

func (f *fakeReplicator) WaitApplied(ctx context.Context, seq uint64) error {
	f.mu.Lock()
	applied := f.applied
	f.mu.Unlock()
	if applied >= seq {
		return nil
	}
	<-ctx.Done()
	return search.ErrNotCaughtUp
}

func (f *fakeReplicator) Status() search.ReplicaStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func mustReplicatedService(tb testing.TB) (*testService, *fakeReplicator) {
	tb.Helper()
	eng := mustEngine(tb, testDocs()...)
	rep := &fakeReplicator{engine: eng, status: search.ReplicaStatus{AppliedSeq: 7, StreamSeq: 9, Lag: 2, Ready: true}}
	s := mustService(tb, Config{Engine: eng, APIKey: testKey, Replicator: rep, ConsistencyTimeout: 10 * time.Millisecond, WriteRate: -1})
	return s, rep
}

func withHeader(h http.Header, k, v string) http.Header {
	h.Set(k, v)
	return h
}

func TestReplicatedWritesAnswerTheirSequence(t *testing.T) {
	s, rep := mustReplicatedService(t)
	put := s.do(t, http.MethodPut, "/v1/documents/new-doc", strings.NewReader(`{"title":"Brick kilns","description":"Debt bondage in Peru"}`),
		withHeader(authHeader(testKey), "Idempotency-Key", "client-key-1"))
	if put.Code != http.StatusOK || put.Header().Get("Search-Seq") != "1" {
		t.Fatalf("PUT = %d, Search-Seq %q; want 200, 1; body %s", put.Code, put.Header().Get("Search-Seq"), put.Body)
	}
	d := mustDecode[index.Document](t, put)
	// The answer is the document as logged: prepared and enriched.
	if d.Kind != index.KindProject || len(d.Countries) != 1 {
		t.Errorf("PUT answered %+v, want the prepared document", d)
	}
	del := s.do(t, http.MethodDelete, "/v1/documents/new-doc", nil, authHeader(testKey))
	if del.Code != http.StatusNoContent || del.Header().Get("Search-Seq") != "2" {
		t.Fatalf("DELETE = %d, Search-Seq %q; want 204, 2", del.Code, del.Header().Get("Search-Seq"))
	}
	bulk := s.do(t, http.MethodPost, "/v1/documents", strings.NewReader(`{"id":"x","title":"X"}`+"\n"+`{"id":"y"}`+"\n"), authHeader(testKey))
	res := mustDecode[bulkResult](t, bulk)
	if bulk.Code != http.StatusOK || res.Seq != 3 || res.Indexed != 1 || res.Refused != 1 || bulk.Header().Get("Search-Seq") != "3" {
		t.Fatalf("bulk = %d %+v, Search-Seq %q; want 200, seq 3, 1 indexed, 1 refused", bulk.Code, res, bulk.Header().Get("Search-Seq"))
	}
	if diff := cmp.Diff([]string{"client-key-1", "", ""}, rep.keys); diff != "" {
		t.Errorf("idempotency keys passed mismatch (-want +got):\n%s", diff)
	}
	mustError(t, s.do(t, http.MethodDelete, "/v1/documents/missing", nil, authHeader(testKey)), http.StatusNotFound, CodeNotFound)
	bad := s.do(t, http.MethodPut, "/v1/documents/z", strings.NewReader(`{"title":""}`), authHeader(testKey))
	mustError(t, bad, http.StatusBadRequest, CodeInvalidParameter)
}

func TestReplicatedWriteErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		header     http.Header
		status     int
		code       string
		retryAfter string
	}{
		{"no quorum", search.ErrUnavailable, nil, http.StatusServiceUnavailable, CodeUnavailable, "5"},
		{"over the batch limit", &search.LimitError{Message: "at most 1000 documents"}, nil, http.StatusRequestEntityTooLarge, CodeTooLarge, ""},
		{"key with a space", nil, http.Header{"Idempotency-Key": {"a b"}}, http.StatusBadRequest, CodeInvalidParameter, ""},
		{"key too long", nil, http.Header{"Idempotency-Key": {strings.Repeat("k", 201)}}, http.StatusBadRequest, CodeInvalidParameter, ""},
		{"key twice", nil, http.Header{"Idempotency-Key": {"a", "b"}}, http.StatusBadRequest, CodeInvalidParameter, ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			s, rep := mustReplicatedService(t)
			rep.err = test.err
			h := authHeader(testKey)
			for k, vs := range test.header {
				h[k] = vs
			}
			for _, req := range []struct{ method, path, body string }{
				{http.MethodPut, "/v1/documents/a", `{"title":"A"}`},
				{http.MethodPost, "/v1/documents", `{"id":"a","title":"A"}` + "\n"},
				{http.MethodDelete, "/v1/documents/a", ""},
			} {
				if test.code == CodeTooLarge && req.method == http.MethodDelete {
					continue
				}
				rec := s.do(t, req.method, req.path, strings.NewReader(req.body), h)
				mustError(t, rec, test.status, test.code)
				if got := rec.Header().Get("Retry-After"); got != test.retryAfter {
					t.Errorf("%s %s: Retry-After = %q, want %q", req.method, req.path, got, test.retryAfter)
				}
			}
		})
	}
}

func TestMinSeqWaitsForTheReplica(t *testing.T) {
	s, rep := mustReplicatedService(t)
	rep.hold = true
	put := s.do(t, http.MethodPut, "/v1/documents/held", strings.NewReader(`{"title":"Held"}`), authHeader(testKey))
	if put.Code != http.StatusOK {
		t.Fatalf("PUT = %d %s", put.Code, put.Body)
	}
	reads := []struct {
		name, method, target, body string
		header                     http.Header
	}{
		{"search", http.MethodGet, "/v1/search?q=mining&min_seq=1", "", nil},
		{"search header", http.MethodGet, "/v1/search?q=mining", "", http.Header{"Search-Min-Seq": {"1"}}},
		{"search body", http.MethodPost, "/v1/search", `{"q":"mining","min_seq":1}`, nil},
		{"suggest", http.MethodGet, "/v1/suggest?q=min&min_seq=1", "", nil},
		{"document", http.MethodGet, "/v1/documents/peru-mining?min_seq=1", "", nil},
	}
	for _, r := range reads {
		t.Run(r.name+" behind", func(t *testing.T) {
			rec := s.do(t, r.method, r.target, strings.NewReader(r.body), r.header)
			mustError(t, rec, http.StatusServiceUnavailable, CodeNotCaughtUp)
			if rec.Header().Get("Retry-After") == "" {
				t.Error("not_caught_up without Retry-After")
			}
		})
	}
	rep.mu.Lock()
	rep.applied = 1
	rep.mu.Unlock()
	for _, r := range reads {
		t.Run(r.name+" caught up", func(t *testing.T) {
			rec := s.do(t, r.method, r.target, strings.NewReader(r.body), r.header)
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
		})
	}
	for _, target := range []string{"/v1/search?min_seq=x", "/v1/search?min_seq=-1", "/v1/search?min_seq=1&min_seq=2", "/v1/suggest?q=a&min_seq=1.5"} {
		mustError(t, s.get(t, target), http.StatusBadRequest, CodeInvalidParameter)
	}
}

func TestMinSeqOnASingleNodeIsAlreadyMet(t *testing.T) {
	s := mustService(t, Config{})
	for _, target := range []string{"/v1/search?q=mining&min_seq=99", "/v1/suggest?q=min&min_seq=99", "/v1/documents/peru-mining?min_seq=99"} {
		if rec := s.get(t, target); rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200; body %s", target, rec.Code, rec.Body)
		}
	}
}

func TestReadyzReportsReplication(t *testing.T) {
	s, rep := mustReplicatedService(t)
	got := mustDecode[health](t, s.get(t, "/readyz"))
	if got.AppliedSeq == nil || *got.AppliedSeq != 7 || got.Lag == nil || *got.Lag != 2 {
		t.Errorf("/readyz = %+v, want applied_seq 7 and lag 2", got)
	}
	rep.mu.Lock()
	rep.status = search.ReplicaStatus{AppliedSeq: 3, StreamSeq: 900}
	rep.mu.Unlock()
	msg := mustError(t, s.get(t, "/readyz"), http.StatusServiceUnavailable, CodeNotReady)
	if !strings.Contains(msg, "applied 3 of 900") {
		t.Errorf("not ready message %q does not say where the replica stands", msg)
	}
	rep.mu.Lock()
	rep.status = search.ReplicaStatus{AppliedSeq: 3, StreamSeq: 3, Ready: true, Problem: "log entry 4 cannot be applied"}
	rep.mu.Unlock()
	msg = mustError(t, s.get(t, "/readyz"), http.StatusServiceUnavailable, CodeNotReady)
	if !strings.Contains(msg, "entry 4") {
		t.Errorf("not ready message %q does not name the failed entry", msg)
	}
}
