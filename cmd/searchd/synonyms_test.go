package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

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
