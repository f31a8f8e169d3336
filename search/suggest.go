package search

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/mpower/labor-search/index"
)

// maxTitleSuggestions bounds the document titles among the suggestions.
const maxTitleSuggestions = 3

// Suggest completes what a visitor is typing: the last word from the term
// dictionary (most frequent completions first, or the closest spellings when
// nothing completes it), then titles of documents that match as typed.
func (e *Engine) Suggest(ctx context.Context, r SuggestRequest) (*SuggestResponse, error) {
	began := time.Now()
	if err := r.Normalize(); err != nil {
		return nil, err
	}
	defer e.metrics.observe(kindSuggest, began)
	resp := &SuggestResponse{Query: r.Query, Suggestions: []Suggestion{}}
	toks := e.tokens(r.Query, index.AnalyzerWords)
	if len(toks) == 0 || len(toks) > MaxQueryWords {
		resp.TookMs = float64(time.Since(began).Microseconds()) / 1000
		return resp, nil
	}
	last := toks[len(toks)-1]
	typing := !endsWithSpace(r.Query) && last.end == len(r.Query)
	head := strings.TrimSpace(r.Query[:last.start])
	var titleTerms []string
	voc, err := e.ix.Vocabulary()
	if err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	err = e.ix.WithReader(func(rd bindex.IndexReader) error {
		v := newVocab(rd, voc)
		if v == nil || !typing {
			return nil
		}
		cands := v.prefix(last.term, r.Limit)
		if v.has(last.term) {
			cands = append([]candidate{{term: last.term, count: v.docFreq(last.term)}}, cands...)
		}
		fuzzy := len(cands) == 0
		if fuzzy {
			cands = v.fuzzy(last.term, r.Limit)
		}
		for _, c := range cands {
			text := strings.TrimSpace(head + " " + c.term)
			resp.Suggestions = append(resp.Suggestions, Suggestion{
				Text: text, Kind: "query", Count: int(c.count),
				Highlight: markTyped(head, c.term, last.term, fuzzy),
			})
			titleTerms = append(titleTerms, c.term)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	titles, err := e.suggestTitles(ctx, toks[:len(toks)-1], titleTerms, r.Limit)
	if err != nil {
		return nil, err
	}
	// Completed words first, then titles; titles give way to words down to
	// half the list, and words fill the places titles leave.
	words := min(len(resp.Suggestions), max(r.Limit-len(titles), (r.Limit+1)/2))
	resp.Suggestions = append(resp.Suggestions[:words], titles...)
	if len(resp.Suggestions) > r.Limit {
		resp.Suggestions = resp.Suggestions[:r.Limit]
	}
	resp.TookMs = float64(time.Since(began).Microseconds()) / 1000
	return resp, nil
}

// markTyped shows the completion with the part the visitor typed marked.
func markTyped(head, term, typed string, fuzzy bool) string {
	var b strings.Builder
	if head != "" {
		b.WriteString(html.EscapeString(head))
		b.WriteByte(' ')
	}
	if !fuzzy && strings.HasPrefix(term, typed) {
		b.WriteString("<mark>" + html.EscapeString(typed) + "</mark>")
		b.WriteString(html.EscapeString(term[len(typed):]))
	} else {
		b.WriteString(html.EscapeString(term))
	}
	return b.String()
}

// suggestTitles finds titles holding every earlier word and one of the
// completions of the last.
func (e *Engine) suggestTitles(ctx context.Context, before []token, completions []string, limit int) ([]Suggestion, error) {
	limit = min(limit, maxTitleSuggestions)
	if limit <= 0 || len(completions) == 0 {
		return nil, nil
	}
	var must []query.Query
	for _, t := range before {
		if s := e.stem(t.term); s != "" {
			tq := bleve.NewTermQuery(s)
			tq.SetField(index.FieldTitle)
			must = append(must, tq)
		}
	}
	var any []query.Query
	for _, c := range completions {
		if s := e.stem(c); s != "" {
			tq := bleve.NewTermQuery(s)
			tq.SetField(index.FieldTitle)
			any = append(any, tq)
		}
	}
	if len(any) == 0 {
		return nil, nil
	}
	must = append(must, bleve.NewDisjunctionQuery(any...))
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(must...), limit, 0, false)
	// Unscored, the collector stops at the first few titles instead of
	// ranking every title that holds a common word: suggestions run on
	// every keystroke.
	req.Score = bleve.ScoreNone
	req.Fields = []string{index.FieldTitle}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	req.Highlight.Fields = []string{index.FieldTitle}
	res, err := e.ix.Search(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]Suggestion, 0, len(res.Hits))
	for _, h := range res.Hits {
		title, _ := h.Fields[index.FieldTitle].(string)
		hl := html.EscapeString(title)
		if frags := h.Fragments[index.FieldTitle]; len(frags) > 0 {
			hl = frags[0]
		}
		out = append(out, Suggestion{Text: title, Kind: "title", ID: h.ID, Highlight: hl})
	}
	return out, nil
}
