package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mpower/labor-search/internal/natstest"
)

// call sends a request and returns the status, the Search-Seq header and
// the body.
func (s *service) call(tb testing.TB, method, path, body string, header http.Header) (int, uint64, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Authorization", "Bearer key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	var seq uint64
	if v := resp.Header.Get("Search-Seq"); v != "" {
		if seq, err = strconv.ParseUint(v, 10, 64); err != nil {
			tb.Fatalf("Search-Seq %q: %v", v, err)
		}
	}
	return resp.StatusCode, seq, b
}

func TestReplicasShareWritesThroughTheLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster")
	}
	c := natstest.Start(t, 3)
	env := map[string]string{"SEARCH_API_KEY": "key", "SEARCH_NATS_URL": strings.Join(c.URLs(), ",")}
	dir := t.TempDir()
	a := mustRun(t, []string{"-index", dir}, env)
	b := mustRun(t, nil, env)
	cc := mustRun(t, nil, env)

	status, seq, body := a.call(t, http.MethodPut, "/v1/documents/brick-kilns", `{"title":"Brick kilns","description":"Ending debt bondage in brick kilns."}`, http.Header{"Idempotency-Key": {"k1"}})
	if status != http.StatusOK || seq == 0 {
		t.Fatalf("PUT on A = %d, Search-Seq %d: %s", status, seq, body)
	}
	// The same key again writes nothing new and answers the same sequence.
	if status, again, _ := a.call(t, http.MethodPut, "/v1/documents/brick-kilns", `{"title":"Brick kilns","description":"Ending debt bondage in brick kilns."}`, http.Header{"Idempotency-Key": {"k1"}}); status != http.StatusOK || again != seq {
		t.Errorf("retried PUT = %d, Search-Seq %d; want 200, %d", status, again, seq)
	}
	q := "/v1/search?q=kilns&min_seq=" + strconv.FormatUint(seq, 10)
	status, _, body = b.call(t, http.MethodGet, q, "", nil)
	var res struct {
		Total uint64 `json:"total"`
		Hits  []struct {
			ID string `json:"id"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &res); err != nil || status != http.StatusOK || res.Total != 1 || res.Hits[0].ID != "brick-kilns" {
		t.Fatalf("search on B with min_seq = %d %s", status, body)
	}
	status, bulkSeq, body := cc.call(t, http.MethodPost, "/v1/documents?atomic=true", `{"id":"x1","title":"Cocoa farms"}`+"\n"+`{"id":"x2","title":"Garment factories"}`+"\n", nil)
	var bulk struct {
		Indexed int    `json:"indexed"`
		Seq     uint64 `json:"seq"`
	}
	if err := json.Unmarshal(body, &bulk); err != nil || status != http.StatusOK || bulk.Indexed != 2 || bulk.Seq != bulkSeq || bulkSeq <= seq {
		t.Fatalf("bulk on C = %d, Search-Seq %d: %s", status, bulkSeq, body)
	}
	status, delSeq, _ := b.call(t, http.MethodDelete, "/v1/documents/brick-kilns", "", nil)
	if status != http.StatusNoContent || delSeq <= bulkSeq {
		t.Fatalf("DELETE on B = %d, Search-Seq %d", status, delSeq)
	}
	minSeq := "?min_seq=" + strconv.FormatUint(delSeq, 10)
	if status, _, _ := a.call(t, http.MethodGet, "/v1/documents/brick-kilns"+minSeq, "", nil); status != http.StatusNotFound {
		t.Errorf("deleted document on A = %d, want 404", status)
	}
	if status, _, _ := a.call(t, http.MethodGet, "/v1/documents/x2"+minSeq, "", nil); status != http.StatusOK {
		t.Errorf("bulk document on A = %d, want 200", status)
	}
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	// Restarted on its directory, A resumes where its index stands.
	a = mustRun(t, []string{"-index", dir}, env)
	for _, s := range []*service{a, b, cc} {
		status, _, body := s.call(t, http.MethodGet, "/v1/documents/x1"+minSeq, "", nil)
		if status != http.StatusOK {
			t.Errorf("%s: x1 = %d %s", s.base, status, body)
		}
		status, _, body = s.call(t, http.MethodGet, "/readyz", "", nil)
		var h struct {
			Documents  uint64 `json:"documents"`
			AppliedSeq uint64 `json:"applied_seq"`
		}
		if err := json.Unmarshal(body, &h); err != nil || status != http.StatusOK || h.Documents != 2 || h.AppliedSeq != delSeq {
			t.Errorf("%s: /readyz = %d %s; want 2 documents at applied_seq %d", s.base, status, body, delSeq)
		}
	}
}

func TestReplicatedModeRefusesLocalBuilds(t *testing.T) {
	for _, args := range [][]string{{"-nats", "nats://127.0.0.1:1", "-rebuild"}, {"-nats", "nats://127.0.0.1:1", "-input", "x.jsonl"}} {
		if _, err := parseConfig(args, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "indexer -publish") {
			t.Errorf("parseConfig(%q) = %v, want a refusal naming indexer -publish", args, err)
		}
	}
}
