package search_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
)

// synonymDocs have one distinctive word each, so a test sees exactly which
// words a query reached.
func synonymDocs() []index.Document {
	d := func(id, title string) index.Document {
		return index.Document{ID: id, Kind: index.KindProject, Title: title, Description: "A project about " + strings.ToLower(title) + "."}
	}
	return []index.Document{
		d("crowdwork", "Crowdwork"),
		d("microtasks", "Microtasks"),
		d("children", "Children"),
		d("kids", "Kids"),
		d("cocoa", "Cocoa"),
		d("cacao", "Cacao"),
		d("chocolate", "Chocolate"),
		d("brick", "Brick kilns"),
	}
}

func mustSynonymEngine(tb testing.TB, dir string, opts search.Options) (*index.Index, *search.Engine) {
	tb.Helper()
	opts.ResponseCache = search.DefaultResponseCache
	e, ix := testkit.New(tb, testkit.Engine{Dir: dir, Search: opts})
	return ix, e
}

// hitIDs are the ids a query finds, sorted.
func hitIDs(tb testing.TB, e *search.Engine, q string) []string {
	tb.Helper()
	res := mustSearch(tb, e, search.Request{Query: q, Facets: []string{}, PerPage: 50})
	out := []string{}
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	sort.Strings(out)
	return out
}

func TestSynonymSetsOneWayAndMultiWay(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		sets  []search.SynonymSet
		query string
		want  []string
	}{
		{"no set", nil, "crowdwork", []string{"crowdwork"}},
		{"multi-way, first term", []search.SynonymSet{{ID: "gig", Synonyms: []string{"crowdwork", "microtasks"}}}, "crowdwork", []string{"crowdwork", "microtasks"}},
		{"multi-way, second term", []search.SynonymSet{{ID: "gig", Synonyms: []string{"crowdwork", "microtasks"}}}, "microtasks", []string{"crowdwork", "microtasks"}},
		{"one-way, root", []search.SynonymSet{{ID: "kids", Root: "kids", Synonyms: []string{"children"}}}, "kids", []string{"children", "kids"}},
		{"one-way, synonym only itself", []search.SynonymSet{{ID: "kids", Root: "kids", Synonyms: []string{"children"}}}, "children", []string{"children"}},
		{"written as the editor likes", []search.SynonymSet{{ID: "kids", Root: "  KIDS ", Synonyms: []string{"Children"}}}, "kids", []string{"children", "kids"}},
		// One level: cocoa~cacao and cacao~chocolate do not make cocoa
		// match chocolate.
		{"chain, first", []search.SynonymSet{{ID: "a", Synonyms: []string{"cocoa", "cacao"}}, {ID: "b", Synonyms: []string{"cacao", "chocolate"}}}, "cocoa", []string{"cacao", "cocoa"}},
		{"chain, shared term", []search.SynonymSet{{ID: "a", Synonyms: []string{"cocoa", "cacao"}}, {ID: "b", Synonyms: []string{"cacao", "chocolate"}}}, "cacao", []string{"cacao", "chocolate", "cocoa"}},
		{"chain, last", []search.SynonymSet{{ID: "a", Synonyms: []string{"cocoa", "cacao"}}, {ID: "b", Synonyms: []string{"cacao", "chocolate"}}}, "chocolate", []string{"cacao", "chocolate"}},
		{"phrase", []search.SynonymSet{{ID: "kilns", Synonyms: []string{"brick kilns", "kids"}}}, "kids", []string{"brick", "kids"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, e := mustSynonymEngine(t, "", search.Options{})
			if err := e.Upsert(ctx, synonymDocs()); err != nil {
				t.Fatal(err)
			}
			// Cached before the sets: the answer after must not be the cached one.
			hitIDs(t, e, test.query)
			for _, s := range test.sets {
				if _, err := e.PutSynonymSet(ctx, s); err != nil {
					t.Fatalf("PutSynonymSet(%+v): %v", s, err)
				}
			}
			if diff := cmp.Diff(test.want, hitIDs(t, e, test.query)); diff != "" {
				t.Errorf("%q finds (-want +got):\n%s", test.query, diff)
			}
		})
	}
}

func TestSynonymSetDeleteAndReplace(t *testing.T) {
	ctx := context.Background()
	_, e := mustSynonymEngine(t, "", search.Options{})
	if err := e.Upsert(ctx, synonymDocs()); err != nil {
		t.Fatal(err)
	}
	stored, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "gig", Synonyms: []string{" crowdwork ", "micro   tasks", "microtasks"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(search.SynonymSet{ID: "gig", Synonyms: []string{"crowdwork", "micro tasks", "microtasks"}}, stored); diff != "" {
		t.Errorf("stored set (-want +got):\n%s", diff)
	}
	// Replaced whole: microtasks is no longer in it.
	if _, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "gig", Root: "crowdwork", Synonyms: []string{"kids"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"crowdwork", "kids"}, hitIDs(t, e, "crowdwork")); diff != "" {
		t.Errorf("after the replacement (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]search.SynonymSet{{ID: "gig", Root: "crowdwork", Synonyms: []string{"kids"}}}, e.SynonymSets()); diff != "" {
		t.Errorf("SynonymSets (-want +got):\n%s", diff)
	}
	if err := e.DeleteSynonymSet(ctx, "gig"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"crowdwork"}, hitIDs(t, e, "crowdwork")); diff != "" {
		t.Errorf("after the delete (-want +got):\n%s", diff)
	}
	if err := e.DeleteSynonymSet(ctx, "gig"); !errors.Is(err, search.ErrSynonymNotFound) {
		t.Errorf("second delete = %v, want ErrSynonymNotFound", err)
	}
	if _, err := e.SynonymSet("gig"); !errors.Is(err, search.ErrSynonymNotFound) {
		t.Errorf("SynonymSet after delete = %v, want ErrSynonymNotFound", err)
	}
	if got := e.SynonymSets(); len(got) != 0 {
		t.Errorf("SynonymSets after delete = %+v, want none", got)
	}
}

func TestSynonymSetValidation(t *testing.T) {
	long := strings.Repeat("x", search.MaxSynonymTermBytes+1)
	many := make([]string, search.MaxSynonymTerms+1)
	for i := range many {
		many[i] = fmt.Sprintf("term%d", i)
	}
	tests := []struct {
		name  string
		set   search.SynonymSet
		param string
		msg   string
	}{
		{"empty id", search.SynonymSet{ID: "", Synonyms: []string{"a1", "b1"}}, "id", `synonym set id "" must be 1 to 64 letters, digits, "_" or "-"`},
		{"id with a dot", search.SynonymSet{ID: "a.b", Synonyms: []string{"a1", "b1"}}, "id", `synonym set id "a.b" must be 1 to 64 letters, digits, "_" or "-"`},
		{"id too long", search.SynonymSet{ID: strings.Repeat("a", 65), Synonyms: []string{"a1", "b1"}}, "id", "must be 1 to 64 letters"},
		{"no terms", search.SynonymSet{ID: "x"}, "synonyms", "a multi-way set (no root) needs at least 2 synonyms"},
		{"one term", search.SynonymSet{ID: "x", Synonyms: []string{"gig"}}, "synonyms", "a multi-way set (no root) needs at least 2 synonyms"},
		{"root alone", search.SynonymSet{ID: "x", Root: "kids"}, "synonyms", "a one-way set needs at least 1 synonym besides its root"},
		{"too many", search.SynonymSet{ID: "x", Synonyms: many}, "synonyms", "too many terms: 33, at most 32 in one set (the root included)"},
		{"too many with root", search.SynonymSet{ID: "x", Root: "r1", Synonyms: many[:32]}, "synonyms", "too many terms: 33, at most 32"},
		{"empty term", search.SynonymSet{ID: "x", Synonyms: []string{"gig", "  "}}, "synonyms", "synonym 2 is empty"},
		{"empty synonym of a root", search.SynonymSet{ID: "x", Root: "kids", Synonyms: []string{""}}, "synonyms", "synonym 1 is empty"},
		{"long term", search.SynonymSet{ID: "x", Synonyms: []string{"gig", long}}, "synonyms", "synonym 2 \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…\" is 101 bytes long, more than 100"},
		{"long root", search.SynonymSet{ID: "x", Root: long, Synonyms: []string{"gig"}}, "root", "root \"xxxx"},
		{"stop words only", search.SynonymSet{ID: "x", Synonyms: []string{"gig", "of the"}}, "synonyms", `synonym 2 "of the" has no word a search can match (only stop words or punctuation)`},
		{"punctuation only", search.SynonymSet{ID: "x", Root: "--", Synonyms: []string{"gig"}}, "root", `root "--" has no word a search can match`},
		{"nine words", search.SynonymSet{ID: "x", Synonyms: []string{"gig", "one two three four five six seven eight nine"}}, "synonyms", `synonym 2 "one two three four five six seven eight nine" has 9 words, more than 8: a query's phrases are looked up to 8 words`},
		{"duplicate", search.SynonymSet{ID: "x", Synonyms: []string{"gig work", "crowdwork", "Gig  Work"}}, "synonyms", `synonym 3 "Gig Work" repeats "gig work": to a search they are the same words`},
		{"root repeated", search.SynonymSet{ID: "x", Root: "kids", Synonyms: []string{"children", "kids"}}, "synonyms", `synonym 2 "kids" repeats "kids"`},
		{"invalid UTF-8", search.SynonymSet{ID: "x", Synonyms: []string{"gig", "a\xffb"}}, "synonyms", "synonym 2 is not valid UTF-8"},
	}
	_, e := mustSynonymEngine(t, "", search.Options{})
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := e.PutSynonymSet(context.Background(), test.set)
			var se *search.SynonymError
			var inv *search.InvalidError
			if !errors.As(err, &se) || !errors.As(err, &inv) {
				t.Fatalf("PutSynonymSet = %v, want a SynonymError that is an InvalidError", err)
			}
			if inv.Param != test.param || !strings.Contains(inv.Message, test.msg) {
				t.Errorf("refusal = %q (param %q), want %q containing %q", inv.Message, inv.Param, test.param, test.msg)
			}
			if _, err := e.PrepareSynonymSet(test.set); err == nil || err.Error() != inv.Message {
				t.Errorf("PrepareSynonymSet = %v, want the same refusal", err)
			}
		})
	}
	if got := e.SynonymSets(); len(got) != 0 {
		t.Errorf("refused sets were stored: %+v", got)
	}
}

func TestSynonymAlternativesAreBounded(t *testing.T) {
	ctx := context.Background()
	// The seeds give "hub" 40 alternatives already.
	seed := make([]string, 40)
	for i := range seed {
		seed[i] = fmt.Sprintf("seed%d", i)
	}
	_, e := mustSynonymEngine(t, "", search.Options{Synonyms: map[string][]string{"hub": seed}})
	terms := func(prefix string, n int) []string {
		out := []string{"hub"}
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	// 40 + 20 = 60: allowed.
	if _, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "a", Synonyms: terms("a", 20)}); err != nil {
		t.Fatalf("set to 60 alternatives: %v", err)
	}
	// A second set sharing "hub" would take it to 40 + 20 + 5 = 65.
	_, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "b", Synonyms: terms("b", 5)})
	want := `term "hub" would match 65 other phrases with this set, the synonym sets it shares terms with and the built-in synonyms, more than 64`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second set = %v, want %q", err, want)
	}
	// A one-way set from hub counts the same.
	if _, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "c", Root: "hub", Synonyms: terms("c", 5)[1:]}); err == nil {
		t.Error("a one-way set past the bound was stored")
	}
	// Four more fit, replacing set a counts it once.
	if _, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "b", Synonyms: terms("b", 4)}); err != nil {
		t.Errorf("set to 64 alternatives: %v", err)
	}
	if _, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "a", Synonyms: terms("a", 20)}); err != nil {
		t.Errorf("the same set again: %v", err)
	}
	// Terms only a chain reaches do not count: b0 has 4 alternatives.
	if _, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "d", Synonyms: []string{"b0", "d0"}}); err != nil {
		t.Errorf("a set sharing a term with a full set: %v", err)
	}
}

func TestSynonymSetsSurviveReopenAndRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	want := []search.SynonymSet{{ID: "gig", Synonyms: []string{"crowdwork", "microtasks"}}, {ID: "kids", Root: "kids", Synonyms: []string{"children"}}}
	ix, e := mustSynonymEngine(t, dir, search.Options{})
	if err := e.Upsert(ctx, synonymDocs()); err != nil {
		t.Fatal(err)
	}
	for _, s := range want {
		if _, err := e.PutSynonymSet(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, e *search.Engine) {
		t.Helper()
		if diff := cmp.Diff(want, e.SynonymSets()); diff != "" {
			t.Errorf("%s: sets (-want +got):\n%s", when, diff)
		}
		if diff := cmp.Diff([]string{"children", "kids"}, hitIDs(t, e, "kids")); diff != "" {
			t.Errorf("%s: kids finds (-want +got):\n%s", when, diff)
		}
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, e = mustSynonymEngine(t, dir, search.Options{})
	check("after reopening", e)

	src := func(yield func([]index.Document) error) error { return yield(synonymDocs()) }
	if _, err := e.Rebuild(ctx, src); err != nil {
		t.Fatal(err)
	}
	check("after Rebuild", e)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, e = mustSynonymEngine(t, dir, search.Options{})
	check("after Rebuild and reopening", e)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	// As searchd -rebuild and the indexer open the directory: without
	// reading the generation they replace, except for the editors' sets.
	fresh, err := index.Open(dir, index.Options{Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.KeptProblem(); err != nil {
		t.Fatalf("KeptProblem = %v", err)
	}
	e, err = search.New(fresh, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Rebuild(ctx, src); err != nil {
		t.Fatal(err)
	}
	check("after a fresh rebuild", e)
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	_, e = mustSynonymEngine(t, dir, search.Options{})
	check("after a fresh rebuild and reopening", e)
}

func TestSynonymSetsAppliedFromTheLog(t *testing.T) {
	ctx := context.Background()
	_, e := mustSynonymEngine(t, "", search.Options{})
	if err := e.Upsert(ctx, synonymDocs()); err != nil {
		t.Fatal(err)
	}
	set, err := e.PrepareSynonymSet(search.SynonymSet{ID: "kids", Root: "kids", Synonyms: []string{"children"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := search.EncodeSynonymSet(set)
	if err != nil {
		t.Fatal(err)
	}
	doc := index.Document{ID: "youth", Kind: index.KindProject, Title: "Youth", Description: "Youth employment."}
	ops := []index.Op{{ID: "youth", Doc: &doc}, {ID: "kids", Kind: index.OpSynonymSet, Value: v}}
	if err := e.Apply(ops, 7); err != nil {
		t.Fatal(err)
	}
	if seq, err := e.AppliedSeq(); err != nil || seq != 7 {
		t.Errorf("AppliedSeq = %d, %v; want 7", seq, err)
	}
	if diff := cmp.Diff([]string{"children", "kids"}, hitIDs(t, e, "kids")); diff != "" {
		t.Errorf("kids finds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"youth"}, hitIDs(t, e, "youth")); diff != "" {
		t.Errorf("youth finds (-want +got):\n%s", diff)
	}
	// A delete, in the same batch as a document.
	if err := e.Apply([]index.Op{{ID: "kids", Kind: index.OpSynonymSet}, {ID: "youth"}}, 8); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"kids"}, hitIDs(t, e, "kids")); diff != "" {
		t.Errorf("after the delete, kids finds (-want +got):\n%s", diff)
	}
	if got := e.SynonymSets(); len(got) != 0 {
		t.Errorf("sets after the delete: %+v", got)
	}
	if err := e.Apply([]index.Op{{ID: "bad", Kind: index.OpSynonymSet, Value: []byte("{")}}, 9); err == nil {
		t.Error("an undecodable set was applied")
	}
	if seq, _ := e.AppliedSeq(); seq != 8 {
		t.Errorf("AppliedSeq after a failed apply = %d, want 8", seq)
	}
}

// TestSynonymSetCountAndSizeAreBounded fills the index through Apply, as
// the log would (a logged set is applied as written), then a PUT past a
// bound is refused.
func TestSynonymSetCountAndSizeAreBounded(t *testing.T) {
	ctx := context.Background()
	fill := func(t *testing.T, e *search.Engine, n int, set func(i int) search.SynonymSet) {
		t.Helper()
		ops := make([]index.Op, n)
		for i := range ops {
			s := set(i)
			v, err := search.EncodeSynonymSet(s)
			if err != nil {
				t.Fatal(err)
			}
			ops[i] = index.Op{ID: s.ID, Kind: index.OpSynonymSet, Value: v}
		}
		if err := e.Apply(ops, 1); err != nil {
			t.Fatal(err)
		}
		if got := len(e.SynonymSets()); got != n {
			t.Fatalf("%d sets applied, want %d", got, n)
		}
	}
	t.Run("count", func(t *testing.T) {
		_, e := mustSynonymEngine(t, "", search.Options{})
		fill(t, e, search.MaxSynonymSets, func(i int) search.SynonymSet {
			return search.SynonymSet{ID: fmt.Sprintf("s%d", i), Synonyms: []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)}}
		})
		_, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "one-more", Synonyms: []string{"x1", "y1"}})
		want := "too many synonym sets: the index holds the most it may, 10000; delete one or add these terms to an existing set"
		if err == nil || err.Error() != want {
			t.Errorf("one set more = %v, want %q", err, want)
		}
		// Replacing a set is no new set.
		if _, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "s7", Synonyms: []string{"x1", "y1"}}); err != nil {
			t.Errorf("replacing a set at the bound: %v", err)
		}
	})
	t.Run("size", func(t *testing.T) {
		_, e := mustSynonymEngine(t, "", search.Options{})
		// 360 sets of 32 terms of about 95 bytes: about 1.14 MB.
		fill(t, e, 360, func(i int) search.SynonymSet {
			terms := make([]string, search.MaxSynonymTerms)
			for j := range terms {
				terms[j] = fmt.Sprintf("w%d%s%d", i, strings.Repeat("x", 90), j)
			}
			return search.SynonymSet{ID: fmt.Sprintf("s%d", i), Synonyms: terms}
		})
		_, err := e.PutSynonymSet(ctx, search.SynonymSet{ID: "small", Synonyms: []string{"x1", "y1"}})
		if err == nil || !strings.Contains(err.Error(), "more than 1048576: delete sets no longer needed") {
			t.Errorf("a set past 1 MiB in all = %v, want the size refusal", err)
		}
	})
}

// TestAnEditorSynonymRanksAsASeedSynonym: the same pair as a seed synonym
// and as an editor's set gives the same hits and scores, and an editor's
// set over a translation ranks it as a synonym, not a translation.
func TestAnEditorSynonymRanksAsASeedSynonym(t *testing.T) {
	ctx := context.Background()
	scores := func(opts search.Options, sets ...search.SynonymSet) []string {
		t.Helper()
		_, e := mustSynonymEngine(t, "", opts)
		docs := append(synonymDocs(), index.Document{ID: "both", Kind: index.KindProject, Title: "Kids and children", Description: "Children."})
		if err := e.Upsert(ctx, docs); err != nil {
			t.Fatal(err)
		}
		for _, s := range sets {
			if _, err := e.PutSynonymSet(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		res := mustSearch(t, e, search.Request{Query: "kids", Facets: []string{}})
		var out []string
		for _, h := range res.Hits {
			out = append(out, fmt.Sprintf("%s %.6f", h.ID, h.Score))
		}
		return out
	}
	kids := search.SynonymSet{ID: "kids", Root: "kids", Synonyms: []string{"children"}}
	seed := scores(search.Options{Synonyms: map[string][]string{"kids": {"children"}}})
	if len(seed) != 3 {
		t.Fatalf("seed synonym: hits %q, want kids, both and children", seed)
	}
	if diff := cmp.Diff(seed, scores(search.Options{}, kids)); diff != "" {
		t.Errorf("editor's set vs seed synonym (-seed +editor):\n%s", diff)
	}
	translated := search.Options{Translations: map[string][]string{"kids": {"children"}}}
	if diff := cmp.Diff(seed, scores(translated)); diff == "" {
		t.Fatal("a translation ranks as a synonym: the test cannot tell them apart")
	}
	if diff := cmp.Diff(seed, scores(translated, kids)); diff != "" {
		t.Errorf("editor's set over a translation vs seed synonym (-seed +editor):\n%s", diff)
	}
}
