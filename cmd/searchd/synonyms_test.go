package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/internal/natstest"
	"github.com/mpower/labor-search/search"
)

// TestSynonymSetsSurviveRestartAndRebuild: an editor's set written through
// the API is still there, and still widens searches, after a restart, a
// -rebuild from the seeds and a -rebuild from a file.
func TestSynonymSetsSurviveRestartAndRebuild(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SEARCH_API_KEY": "k3y", "SEARCH_INDEX": filepath.Join(dir, "index")}
	auth := http.Header{"Authorization": {"Bearer k3y"}}
	sugar := []string{"promoting-safe-and-healthy-workplaces-in-honduras-guatemala-and-el-salvador", "strengthening-worker-engagement-empowerment-and-trust-dr"}
	zafra := func(s *service) []string {
		t.Helper()
		code, b := s.request(t, "GET", "/v1/search?facets=&q=zafra", "", nil)
		var resp search.Response
		if err := json.Unmarshal(b, &resp); code != 200 || err != nil {
			t.Fatalf("search = %d %s", code, b)
		}
		ids := []string{}
		for _, h := range resp.Hits {
			ids = append(ids, h.ID)
		}
		sort.Strings(ids)
		return ids
	}
	const set = `{"id":"zafra","root":"zafra","synonyms":["sugar","sugarcane"]}`
	s := mustRun(t, nil, env)
	if got := zafra(s); len(got) != 0 {
		t.Fatalf("zafra finds %q before the set", got)
	}
	if code, b := s.request(t, "PUT", "/v1/synonyms/zafra", `{"root":"zafra","synonyms":["sugar","sugarcane"]}`, auth); code != 200 || string(b) != set+"\n" {
		t.Fatalf("PUT = %d %s", code, b)
	}
	if diff := cmp.Diff(sugar, zafra(s)); diff != "" {
		t.Errorf("after the PUT (-want +got):\n%s", diff)
	}
	input := filepath.Join(dir, "docs.jsonl")
	mustWrite(t, input, `{"id":"dr-sugar","kind":"project","title":"Sugar workers in the Dominican Republic"}`+"\n")
	for _, step := range []struct {
		name string
		args []string
		want []string
	}{
		{"restart", nil, sugar},
		{"-rebuild", []string{"-rebuild"}, sugar},
		{"-rebuild -input", []string{"-rebuild", "-input", input}, []string{"dr-sugar"}},
		{"restart after the rebuilds", nil, []string{"dr-sugar"}},
	} {
		if err := s.stop(); err != nil {
			t.Fatalf("before %s: %v", step.name, err)
		}
		s = mustRun(t, step.args, env)
		if code, b := s.request(t, "GET", "/v1/synonyms", "", nil); code != 200 || string(b) != `{"synonyms":[`+set+`],"total":1}`+"\n" {
			t.Errorf("%s: GET /v1/synonyms = %d %s", step.name, code, b)
		}
		if diff := cmp.Diff(step.want, zafra(s)); diff != "" {
			t.Errorf("%s: zafra finds (-want +got):\n%s", step.name, diff)
		}
	}
}

// TestASynonymWrittenOnOneReplicaWorksOnAnother: real searchd replicas
// over a NATS cluster; a set put on A widens searches on B, a delete on B
// takes it away on A.
func TestASynonymWrittenOnOneReplicaWorksOnAnother(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster")
	}
	c := natstest.Start(t, 3)
	env := map[string]string{"SEARCH_API_KEY": "key", "SEARCH_NATS_URL": strings.Join(c.URLs(), ",")}
	a := mustRun(t, nil, env)
	b := mustRun(t, nil, env)
	status, seq, body := a.call(t, http.MethodPut, "/v1/documents/sugar", `{"title":"Sugar cane cutters","description":"Heat stress in the sugar harvest."}`, nil)
	if status != http.StatusOK {
		t.Fatalf("PUT document = %d %s", status, body)
	}
	found := func(s *service, seq uint64) []string {
		t.Helper()
		status, _, body := s.call(t, http.MethodGet, "/v1/search?facets=&q=zafra&min_seq="+strconv.FormatUint(seq, 10), "", nil)
		var res struct {
			Hits []struct {
				ID string `json:"id"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(body, &res); err != nil || status != http.StatusOK {
			t.Fatalf("search on %s = %d %s", s.base, status, body)
		}
		ids := []string{}
		for _, h := range res.Hits {
			ids = append(ids, h.ID)
		}
		return ids
	}
	if got := found(b, seq); len(got) != 0 {
		t.Fatalf("zafra finds %q before the set", got)
	}
	status, setSeq, body := a.call(t, http.MethodPut, "/v1/synonyms/zafra", `{"root":"zafra","synonyms":["sugar"]}`, nil)
	if status != http.StatusOK || setSeq != seq+1 || string(body) != `{"id":"zafra","root":"zafra","synonyms":["sugar"]}`+"\n" {
		t.Fatalf("PUT synonyms on A = %d, Search-Seq %d: %s", status, setSeq, body)
	}
	if diff := cmp.Diff([]string{"sugar"}, found(b, setSeq)); diff != "" {
		t.Errorf("zafra on B (-want +got):\n%s", diff)
	}
	status, _, body = b.call(t, http.MethodGet, "/v1/synonyms?min_seq="+strconv.FormatUint(setSeq, 10), "", nil)
	if status != http.StatusOK || string(body) != `{"synonyms":[{"id":"zafra","root":"zafra","synonyms":["sugar"]}],"total":1}`+"\n" {
		t.Errorf("GET /v1/synonyms on B = %d %s", status, body)
	}
	status, delSeq, body := b.call(t, http.MethodDelete, "/v1/synonyms/zafra", "", nil)
	if status != http.StatusOK || delSeq != setSeq+1 {
		t.Fatalf("DELETE synonyms on B = %d, Search-Seq %d: %s", status, delSeq, body)
	}
	if got := found(a, delSeq); len(got) != 0 {
		t.Errorf("zafra on A after the delete on B finds %q", got)
	}
	if status, _, _ := a.call(t, http.MethodDelete, "/v1/synonyms/zafra", "", nil); status != http.StatusNotFound {
		t.Errorf("second DELETE on A = %d, want 404", status)
	}
}
