package search_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// The dev set (testdata/devset, a copy of ../shared/devset so a fresh clone
// runs it too) is about 180 realistic project records and 60 judged queries.
// TestDevset loads the records beside the seeds and scores every query as
// testdata/devset/score.py does; the figures must not fall below the
// committed baseline, and a change that raises them must commit the new
// figures (go test -run TestDevset ./search/ -update-devset): a ratchet.

var updateDevset = flag.Bool("update-devset", false, "rewrite testdata/devset_baseline.json with the dev-set figures of this run")

const (
	devsetDir      = "testdata/devset"
	devsetBaseline = "testdata/devset_baseline.json"
)

type judgedQuery struct {
	N            int      `json:"n"`
	Q            string   `json:"q"`
	Kind         string   `json:"kind"`
	MustTop5     []judged `json:"must_top5"`
	AlsoRelevant []judged `json:"also_relevant"`
	Why          string   `json:"why"`
}

type judged struct {
	ID string `json:"id"`
}

// devsetFigures are the measures of the dev set's README.
type devsetFigures struct {
	Pass     int     `json:"pass"`
	Queries  int     `json:"queries"`
	Recall5  int     `json:"recall_at_5"`
	Required int     `json:"required"`
	NDCG10   float64 `json:"ndcg_at_10"`
	Zero     int     `json:"zero_result_queries"`
	// Failing lists the queries that do not pass, by number, so a change
	// shows which ones it fixed or broke.
	Failing []int `json:"failing"`
}

func dcg(gains []float64) float64 {
	var s float64
	for i, g := range gains {
		s += g / math.Log2(float64(i)+2)
	}
	return s
}

// mustDevsetEngine indexes the seeds and the dev-set records in one batch,
// so the index is one segment and the scores do not depend on when a
// background merge happens.
func mustDevsetEngine(tb testing.TB) *search.Engine {
	tb.Helper()
	docs, err := seeds.Documents()
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(devsetDir, "projects.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	for i, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var d index.Document
		if err := json.Unmarshal(line, &d); err != nil {
			tb.Fatalf("projects.jsonl line %d: %v", i+1, err)
		}
		docs = append(docs, d)
	}
	ix, err := index.Open("", index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	e := mustEngine(tb, ix)
	refused, err := e.Write(context.Background(), docs, false)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range refused {
		tb.Errorf("dev-set record %q refused: %v", r.ID, r.Err)
	}
	return e
}

func TestDevset(t *testing.T) {
	if testing.Short() {
		t.Skip("the dev set takes a few seconds")
	}
	e := mustDevsetEngine(t)
	raw, err := os.ReadFile(filepath.Join(devsetDir, "queries.json"))
	if err != nil {
		t.Fatal(err)
	}
	var queries []judgedQuery
	if err := json.Unmarshal(raw, &queries); err != nil {
		t.Fatalf("queries.json: %v", err)
	}
	var got devsetFigures
	var ndcgSum float64
	byKind := map[string][2]int{}
	var table strings.Builder
	for _, q := range queries {
		res := mustSearch(t, e, search.Request{Query: q.Q, PerPage: 10, Facets: []string{}, NoHighlight: true})
		var hits []string
		for _, h := range res.Hits {
			hits = append(hits, h.ID)
		}
		must := map[string]bool{}
		for _, m := range q.MustTop5 {
			must[m.ID] = true
		}
		also := map[string]bool{}
		for _, a := range q.AlsoRelevant {
			also[a.ID] = true
		}
		top5 := hits[:min(5, len(hits))]
		found := 0
		var missing []string
		for _, m := range q.MustTop5 {
			if contains(top5, m.ID) {
				found++
			} else {
				missing = append(missing, m.ID)
			}
		}
		pass := found == len(q.MustTop5)
		var gains, ideal []float64
		for _, h := range hits[:min(10, len(hits))] {
			switch {
			case must[h]:
				gains = append(gains, 2)
			case also[h]:
				gains = append(gains, 1)
			default:
				gains = append(gains, 0)
			}
		}
		for range q.MustTop5 {
			ideal = append(ideal, 2)
		}
		for range q.AlsoRelevant {
			ideal = append(ideal, 1)
		}
		ideal = ideal[:min(10, len(ideal))]
		nd := dcg(gains) / dcg(ideal)

		got.Queries++
		got.Required += len(q.MustTop5)
		got.Recall5 += found
		ndcgSum += nd
		k := byKind[q.Kind]
		k[1]++
		if pass {
			got.Pass++
			k[0]++
		} else {
			got.Failing = append(got.Failing, q.N)
		}
		byKind[q.Kind] = k
		if len(hits) == 0 {
			got.Zero++
		}
		verdict := "PASS"
		if !pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(&table, "%3d %s r@5 %d/%d nDCG %.2f [%s] %q", q.N, verdict, found, len(q.MustTop5), nd, q.Kind, q.Q)
		if len(missing) > 0 {
			fmt.Fprintf(&table, "  missing: %s", strings.Join(missing, ", "))
		}
		if len(hits) == 0 {
			table.WriteString("  (no results)")
		}
		table.WriteString("\n")
	}
	got.NDCG10 = math.Round(ndcgSum/float64(got.Queries)*1000) / 1000
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var summary []string
	for _, k := range kinds {
		summary = append(summary, fmt.Sprintf("%s %d/%d", k, byKind[k][0], byKind[k][1]))
	}
	t.Logf("dev set, per query:\n%sby kind: %s\nzero-result queries %d\n%d/%d pass, recall@5 %d/%d, nDCG@10 %.3f",
		table.String(), strings.Join(summary, ", "), got.Zero, got.Pass, got.Queries, got.Recall5, got.Required, got.NDCG10)

	if *updateDevset {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(devsetBaseline, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(devsetBaseline)
	if err != nil {
		t.Fatalf("no baseline (%v); run go test -run TestDevset ./search/ -update-devset and commit %s", err, devsetBaseline)
	}
	var base devsetFigures
	if err := json.Unmarshal(b, &base); err != nil {
		t.Fatalf("%s: %v", devsetBaseline, err)
	}
	if got.Queries != base.Queries || got.Required != base.Required {
		t.Fatalf("the dev set changed (%d queries, %d required; the baseline has %d, %d): rerun with -update-devset", got.Queries, got.Required, base.Queries, base.Required)
	}
	worse := got.Pass < base.Pass || got.Recall5 < base.Recall5 || got.NDCG10 < base.NDCG10 || got.Zero > base.Zero
	if worse {
		t.Errorf("dev-set figures fell below the baseline: pass %d (baseline %d), recall@5 %d (%d), nDCG@10 %.3f (%.3f), zero-result queries %d (%d); newly failing: %v",
			got.Pass, base.Pass, got.Recall5, base.Recall5, got.NDCG10, base.NDCG10, got.Zero, base.Zero, newly(got.Failing, base.Failing))
		return
	}
	if got.Pass != base.Pass || got.Recall5 != base.Recall5 || got.NDCG10 != base.NDCG10 || got.Zero != base.Zero {
		t.Errorf("dev-set figures rose above the baseline (pass %d, recall@5 %d, nDCG@10 %.3f; baseline %d, %d, %.3f): commit them with go test -run TestDevset ./search/ -update-devset, so the ratchet holds them",
			got.Pass, got.Recall5, got.NDCG10, base.Pass, base.Recall5, base.NDCG10)
	}
}

// newly lists what is in now but not in before.
func newly(now, before []int) []int {
	var out []int
	for _, n := range now {
		found := false
		for _, b := range before {
			found = found || b == n
		}
		if !found {
			out = append(out, n)
		}
	}
	return out
}

// TestDevsetQuery shows the first hits of one query over the dev set, for
// working on a failure: DEVSET_Q='Ivory Coast' go test -run TestDevsetQuery -v ./search/
func TestDevsetQuery(t *testing.T) {
	q := os.Getenv("DEVSET_Q")
	if q == "" {
		t.Skip("set DEVSET_Q to a query")
	}
	e := mustDevsetEngine(t)
	res := mustSearch(t, e, search.Request{Query: q, PerPage: 15, Facets: []string{}, NoHighlight: true})
	var b strings.Builder
	fmt.Fprintf(&b, "%q: %d hits", q, res.Total)
	if res.Relaxed != nil {
		fmt.Fprintf(&b, ", relaxed %+v", *res.Relaxed)
	}
	for i, h := range res.Hits {
		fmt.Fprintf(&b, "\n%2d %7.3f %s %v", i+1, h.Score, h.ID, h.Countries)
	}
	t.Log(b.String())
}
