package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRestartKeepsAnalytics: the query analytics of a searchd stopped with
// SIGTERM are there when it starts again, and after a rebuild of the
// index. The search still in its fold window at the signal is counted by
// the shutdown.
func TestRestartKeepsAnalytics(t *testing.T) {
	dir := t.TempDir()
	const key = "k3y-analytics"
	auth := http.Header{"Authorization": {"Bearer " + key}}
	first := startChild(t, []string{"-index", dir}, "SEARCH_API_KEY="+key)
	if got, want := first.ready["analytics"], filepath.Join(dir, analyticsFile); got != want {
		t.Errorf("ready line analytics = %v, want %s", got, want)
	}
	search := func(c *child, query string) map[string]any {
		t.Helper()
		code, b := c.mustDo(t, "GET", "/v1/search?"+query, "", nil)
		var m map[string]any
		if code != 200 || json.Unmarshal(b, &m) != nil {
			t.Fatalf("GET /v1/search?%s = %d %s", query, code, b)
		}
		return m
	}
	search(first, "q=min&session=tab-process-1")
	search(first, "q=mining&session=tab-process-1")
	labour := search(first, "q=child+labour")
	hits, _ := labour["hits"].([]any)
	if len(hits) == 0 {
		t.Fatalf("no hits for child labour: %v", labour)
	}
	doc := hits[0].(map[string]any)["id"].(string)
	event, _ := json.Marshal(map[string]any{"type": "click", "query_id": labour["query_id"], "document_id": doc, "position": 1})
	if code, b := first.mustDo(t, "POST", "/v1/events", string(event), http.Header{"Content-Type": {"text/plain;charset=UTF-8"}}); code != 202 || string(b) != "{\"accepted\":true}\n" {
		t.Fatalf("click = %d %s", code, b)
	}
	first.signal(t, syscall.SIGTERM, 30*time.Second)
	if !first.stopped() {
		t.Fatalf("no clean stop:\n%s\n%s", first.stdout, first.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, analyticsFile)); err != nil {
		t.Fatalf("no analytics file in the index directory: %v", err)
	}

	type row struct {
		Query  string `json:"query"`
		Count  int    `json:"count"`
		Clicks int    `json:"clicks"`
	}
	want := []row{{"child labour", 1, 1}, {"mining", 1, 0}}
	check := func(c *child, when string) {
		t.Helper()
		code, b := c.mustDo(t, "GET", "/v1/analytics/queries", "", auth)
		var got struct {
			Queries []row `json:"queries"`
			Total   int   `json:"total"`
		}
		if code != 200 || json.Unmarshal(b, &got) != nil {
			t.Fatalf("%s: GET /v1/analytics/queries = %d %s", when, code, b)
		}
		if diff := cmp.Diff(want, got.Queries); diff != "" || got.Total != 2 {
			t.Errorf("%s: queries mismatch, total %d (-want +got):\n%s", when, got.Total, diff)
		}
	}
	second := startChild(t, []string{"-index", dir}, "SEARCH_API_KEY="+key)
	check(second, "after SIGTERM and a restart")
	second.signal(t, syscall.SIGTERM, 30*time.Second)

	third := startChild(t, []string{"-index", dir, "-rebuild"}, "SEARCH_API_KEY="+key)
	check(third, "after -rebuild")
	third.signal(t, syscall.SIGTERM, 30*time.Second)
}
