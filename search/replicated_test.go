package search_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

func TestApplyLearnsAcronymsInTheSameBatchAsTheSequence(t *testing.T) {
	dir := t.TempDir()
	open := func() (*index.Index, *search.Engine) {
		ix, err := index.Open(dir, index.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := search.New(ix, search.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ix, e
	}
	ix, e := open()
	prepared, refused := e.Prepare([]index.Document{
		{ID: "wash", Title: "Clean water", Description: "Improving water, sanitation and hygiene (WASH) in schools."},
		{ID: "other", Title: "Sanitation and hygiene training", Description: "Training on water, sanitation and hygiene for farms."},
	}, true)
	if len(refused) > 0 {
		t.Fatalf("Prepare refused %v", refused)
	}
	if prepared[0].Kind != index.KindProject {
		t.Fatalf("Prepare left kind %q, want the default filled in", prepared[0].Kind)
	}
	ops := []index.Op{{ID: "wash", Doc: &prepared[0]}, {ID: "other", Doc: &prepared[1]}, {ID: "gone"}}
	if err := e.Apply(ops, 3); err != nil {
		t.Fatal(err)
	}
	_ = ix.Close()
	ix, e = open()
	defer ix.Close()
	if seq, err := e.AppliedSeq(); err != nil || seq != 3 {
		t.Fatalf("AppliedSeq() after reopen = %d, %v; want 3", seq, err)
	}
	res := mustSearch(t, e, search.Request{Query: "WASH", Facets: []string{}})
	if !hasPrefixIn(titles(res, 5), "Sanitation and hygiene training") {
		t.Errorf("WASH should find the document that only spells out water, sanitation and hygiene: %q", titles(res, 5))
	}
}

func TestPrepareAtomicRefusesAll(t *testing.T) {
	e := mustEngineOver(t, nil)
	tests := []struct {
		name        string
		atomic      bool
		wantKept    []string
		wantRefused []int
	}{
		{"per document", false, []string{"a"}, []int{1}},
		{"atomic", true, nil, []int{1}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			kept, refused := e.Prepare([]index.Document{{ID: "a", Title: "A"}, {ID: "b"}}, test.atomic)
			var gotKept []string
			for _, d := range kept {
				gotKept = append(gotKept, d.ID)
			}
			var gotRefused []int
			for _, r := range refused {
				gotRefused = append(gotRefused, r.Index)
			}
			if diff := cmp.Diff(test.wantKept, gotKept); diff != "" {
				t.Errorf("kept mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(test.wantRefused, gotRefused); diff != "" {
				t.Errorf("refused mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
