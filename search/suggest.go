package search

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

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
	var titles []Suggestion
	// One snapshot: the completions and the titles holding them are of
	// the same documents.
	err := e.ix.Read(func(rd *index.Reader) error {
		words, err := rd.Words()
		if err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
		if !typing {
			return nil
		}
		v := &vocab{r: rd, words: words}
		cands := v.prefix(last.term, r.Limit)
		if v.has(last.term) {
			cands = append([]candidate{{term: last.term, count: v.docFreq(last.term)}}, cands...)
		}
		fuzzy := len(cands) == 0
		if fuzzy {
			cands = v.fuzzy(last.term, r.Limit)
		}
		var titleTerms []string
		for _, c := range cands {
			text := strings.TrimSpace(head + " " + c.term)
			resp.Suggestions = append(resp.Suggestions, Suggestion{
				Text: text, Kind: "query", Count: int(c.count),
				Highlight: markTyped(head, c.term, last.term, fuzzy),
			})
			titleTerms = append(titleTerms, c.term)
		}
		titles, err = e.suggestTitles(ctx, rd, toks[:len(toks)-1], titleTerms, r.Limit)
		return err
	})
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
func (e *Engine) suggestTitles(ctx context.Context, rd *index.Reader, before []token, completions []string, limit int) ([]Suggestion, error) {
	limit = min(limit, maxTitleSuggestions)
	if limit <= 0 || len(completions) == 0 {
		return nil, nil
	}
	m := marks{}
	var must []index.Clause
	for _, t := range before {
		if s := e.stem(t.term); s != "" {
			must = append(must, index.Term{Field: index.FieldTitle, Term: s, Boost: 1})
			m.add(index.FieldTitle, s)
		}
	}
	var any index.AnyOf
	for _, c := range completions {
		if s := e.stem(c); s != "" {
			any = append(any, index.Term{Field: index.FieldTitle, Term: s, Boost: 1})
			m.add(index.FieldTitle, s)
		}
	}
	if len(any) == 0 {
		return nil, nil
	}
	// The first titles in document order, neither ranked nor counted:
	// suggestions run on every keystroke, and ranking or counting every
	// title that holds a common word is not worth it.
	res, err := rd.Search(ctx, index.Query{Required: append(must, any), PageOnly: true, Size: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Suggestion, 0, len(res.Hits))
	for _, h := range res.Hits {
		title := h.Doc.Title
		hl := html.EscapeString(title)
		frags, err := e.ix.Highlight(&index.Document{ID: h.Doc.ID, Title: title}, m)
		if err != nil {
			return nil, fmt.Errorf("highlight %s: %w", h.Doc.ID, err)
		}
		if f := frags[index.FieldTitle]; len(f) > 0 {
			hl = f[0]
		}
		out = append(out, Suggestion{Text: title, Kind: "title", ID: h.Doc.ID, Highlight: hl})
	}
	return out, nil
}
