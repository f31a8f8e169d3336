package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/google/go-cmp/cmp"
)

// randomWords is n words drawn from vocab, joined by spaces.
func randomWords(rng *rand.Rand, vocab []string, n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = vocab[rng.IntN(len(vocab))]
	}
	return strings.Join(out, " ")
}

func term(field, t string) query.Query {
	q := bleve.NewTermQuery(t)
	q.SetField(field)
	return q
}

func phrase(field, p string) query.Query {
	q := bleve.NewMatchPhraseQuery(p)
	q.SetField(field)
	return q
}

// TestMatchSetsAgreeWithBleve evaluates query shapes the search builds as
// document sets and compares them with what Bleve's searchers match, on
// an index with several segments, rewritten and deleted documents.
func TestMatchSetsAgreeWithBleve(t *testing.T) {
	ix := mustOpen(t, "")
	rng := rand.New(rand.NewPCG(9, 9))
	words := []string{"trade", "union", "workers", "safety", "mining", "cocoa", "child", "labor", "rights", "health"}
	var batch []Document
	for i := 0; i < 2400; i++ {
		batch = append(batch, Document{ID: fmt.Sprintf("d%04d", i), Kind: KindProject, Title: randomWords(rng, words, 3), Description: randomWords(rng, words, 12)})
		if len(batch) == 400 {
			if err := ix.Batch(batch, nil); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	var deletes []string
	for i := 0; i < 2400; i += 13 {
		deletes = append(deletes, fmt.Sprintf("d%04d", i))
	}
	if err := ix.Batch([]Document{{ID: "d0001", Kind: KindPartner, Title: "trade union", Description: "safety"}}, deletes); err != nil {
		t.Fatal(err)
	}

	notUnion := bleve.NewBooleanQuery()
	notUnion.AddMust(term(FieldTitle, "trade"))
	notUnion.AddMustNot(term(FieldDescription, "union"))
	shouldOnly := bleve.NewBooleanQuery()
	shouldOnly.AddShould(term(FieldTitle, "cocoa"), term(FieldTitle, "child"))
	mustAndShould := bleve.NewBooleanQuery()
	mustAndShould.AddMust(term(FieldTitle, "mine"))
	mustAndShould.AddShould(term(FieldTitle, "cocoa"))
	onlyNot := bleve.NewBooleanQuery()
	onlyNot.AddMustNot(term(FieldDescription, "safeti"))
	custom := query.NewCustomScoreQueryWithScorer(term(FieldTitle, "worker"), func(_ context.Context, d *bsearch.DocumentMatch) (float64, error) {
		return d.Score, nil
	}, nil, nil)
	for name, q := range map[string]query.Query{
		"term":                     term(FieldTitle, "union"),
		"missing term":             term(FieldTitle, "zzz"),
		"conjunction":              bleve.NewConjunctionQuery(term(FieldTitle, "trade"), term(FieldDescription, "child")),
		"disjunction":              bleve.NewDisjunctionQuery(term(FieldTitle, "cocoa"), term(FieldDescription, "mine"), term(FieldKind, KindPartner)),
		"covered phrase":           bleve.NewDisjunctionQuery(bleve.NewConjunctionQuery(term(FieldTitle, "trade"), term(FieldTitle, "union")), phrase(FieldTitle, "trade union")),
		"phrase alone in a choice": bleve.NewDisjunctionQuery(term(FieldTitle, "cocoa"), phrase(FieldDescription, "child labor")),
		"phrase":                   phrase(FieldDescription, "health rights"),
		"must not":                 notUnion,
		"should only":              shouldOnly,
		"must and should":          mustAndShould,
		"only must not":            onlyNot,
		"match all":                bleve.NewMatchAllQuery(),
		"custom score":             custom,
		"at least two": func() query.Query {
			d := bleve.NewDisjunctionQuery(term(FieldTitle, "cocoa"), term(FieldTitle, "child"), term(FieldTitle, "mine"))
			d.SetMin(2)
			return d
		}(),
	} {
		req := bleve.NewSearchRequestOptions(q, 5000, 0, false)
		req.Score = bleve.ScoreNone
		res, err := ix.BleveSearch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, h := range res.Hits {
			want = append(want, h.ID)
		}
		sort.Strings(want)
		var got []string
		if err := ix.withSnapshot(func(snap *scorch.IndexSnapshot) error {
			b, err := ix.sets.of(snap).match(context.Background(), ix, q)
			if err != nil {
				return err
			}
			it := b.Iterator()
			for it.HasNext() {
				id, err := snap.ExternalID(bindex.NewIndexInternalID(nil, uint64(it.Next())))
				if err != nil {
					return err
				}
				got = append(got, id)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: %d documents by Bleve, %d as sets (-bleve +sets):\n%s", name, len(want), len(got), diff)
		}
		if len(want) == 0 && name != "missing term" {
			t.Errorf("%s matches nothing; the case tests nothing", name)
		}
	}
}

// TestPhraseMatchesAndScoresAsBleve compares the remembered phrase query
// with Bleve's match-phrase query: the same documents with the same
// scores, and a document written afterwards is found at once.
func TestPhraseMatchesAndScoresAsBleve(t *testing.T) {
	ix := mustOpen(t, "")
	rng := rand.New(rand.NewPCG(4, 2))
	words := []string{"trade", "union", "workers", "safety", "child", "labor"}
	var docs []Document
	for i := 0; i < 1500; i++ {
		docs = append(docs, Document{ID: fmt.Sprintf("p%04d", i), Kind: KindProject, Title: "project", Description: randomWords(rng, words, 10)})
	}
	if err := ix.Batch(docs, nil); err != nil {
		t.Fatal(err)
	}
	search := func(q query.Query) map[string]float64 {
		res, err := ix.BleveSearch(context.Background(), bleve.NewSearchRequestOptions(q, 5000, 0, false))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, h := range res.Hits {
			out[h.ID] = h.Score
		}
		return out
	}
	for round := 0; round < 2; round++ {
		for _, text := range []string{"trade union", "child labor safety", "the workers"} {
			want := search(phrase(FieldDescription, text))
			mine := Phrase{Field: FieldDescription, Text: text, Boost: 1}.bleveQuery(ix)
			for pass := 0; pass < 2; pass++ { // computed, then remembered
				got := search(mine)
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); diff != "" {
					t.Errorf("round %d, %q pass %d: (-bleve +phrase):\n%s", round, text, pass, diff)
				}
				if len(want) == 0 {
					t.Errorf("%q matches nothing; the case tests nothing", text)
				}
			}
		}
		if err := ix.Batch([]Document{{ID: fmt.Sprintf("new%d", round), Kind: KindProject, Title: "x", Description: "trade union child labor safety"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := search(Phrase{Field: FieldDescription, Text: "child labor safety", Boost: 1}.bleveQuery(ix)); got["new0"] == 0 || got["new1"] == 0 {
		t.Errorf("documents written after the phrase was remembered are not found: %v", got["new0"])
	}
}
