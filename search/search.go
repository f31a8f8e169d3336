package search

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/mpower/labor-search/index"
)

// facetFields maps API facet and filter names to keyword fields.
var facetFields = map[string]string{
	FieldCountry: index.FieldCountries,
	FieldRegion:  index.FieldRegions,
	FieldSector:  index.FieldSectors,
	FieldArea:    index.FieldAreas,
	FieldPartner: index.FieldPartners,
	FieldKind:    index.FieldKind,
}

func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// plan is a query ready to run: the text part, the filters, and how the
// visitor's words were understood.
type plan struct {
	req      *Request
	asOf     time.Time
	parsed   parsed
	clauses  []query.Query // one per unit
	excluded []query.Query
	exps     [][]expansion
	// optionalWord says whether an analysed word is optional.
	optionalWord func(string) bool
	// parts holds, for a unit that is a phrase from a table, the clause of
	// each of its words.
	parts [][]query.Query
	// required lists the units a hit must match (by index), optional the
	// units that only rank (question words, "projects").
	required, optional []int
	// demote is set when the index holds documents other than projects,
	// whose scores are then scaled down.
	demote bool
}

// core is the text part requiring every required unit; optional units only
// add to the score.
func (p *plan) core() query.Query {
	b := bleve.NewBooleanQuery()
	if len(p.required) > 0 {
		b.AddMust(bleve.NewConjunctionQuery(p.pick(p.required)...))
	} else {
		b.AddMust(bleve.NewMatchAllQuery())
	}
	if len(p.optional) > 0 {
		b.AddShould(p.pick(p.optional)...)
	}
	if len(p.excluded) > 0 {
		b.AddMustNot(p.excluded...)
	}
	return p.demoted(b)
}

// scoring ranks partial matches: every partial unit and optional unit may
// add to the score, none is required (SearchPartial chooses the hits, each
// matching one partial unit at least).
func (p *plan) scoring(units []partialUnit) query.Query {
	qs := p.pick(p.optional)
	for _, u := range units {
		qs = append(qs, u.clause)
	}
	return p.demoted(bleve.NewDisjunctionQuery(qs...))
}

// demoted scales down the scores of the overview and partner pages when
// the index holds any: they list every country and topic, so they stay
// findable but projects, which visitors look for, rank above them.
func (p *plan) demoted(q query.Query) query.Query {
	if !p.demote {
		return q
	}
	return query.NewCustomScoreQueryWithScorer(q, func(_ context.Context, d *bsearch.DocumentMatch) (float64, error) {
		if kind, _ := d.Fields[index.FieldKind].(string); kind != "" && kind != index.KindProject {
			return d.Score * pageWeight, nil
		}
		return d.Score, nil
	}, []string{index.FieldKind}, nil)
}

// pick is the clauses of the units listed.
func (p *plan) pick(units []int) []query.Query {
	out := make([]query.Query, len(units))
	for i, u := range units {
		out[i] = p.clauses[u]
	}
	return out
}

// partialUnit is one part of a query whose matches count toward a partial
// match: a required word, or one word of a phrase from a table. A document
// matching the whole phrase (or one of its alternatives) matches each of
// its words.
type partialUnit struct {
	clause query.Query
	raw    string
}

// partialUnits are the required units, phrases from tables split into their
// words (less optional words), for partial matching: a document about
// "disability" partly matches "persons with disabilities".
func (p *plan) partialUnits() []partialUnit {
	var out []partialUnit
	for _, i := range p.required {
		u := p.parsed.units[i]
		if len(p.parts[i]) == 0 {
			out = append(out, partialUnit{clause: p.clauses[i], raw: u.raw})
			continue
		}
		before := len(out)
		for j, part := range p.parts[i] {
			if p.optionalWord(u.words[j]) {
				continue
			}
			out = append(out, partialUnit{
				clause: bleve.NewDisjunctionQuery(part, p.clauses[i]),
				raw:    p.req.Query[u.spans[j][0]:u.spans[j][1]],
			})
		}
		if len(out) == before {
			out = append(out, partialUnit{clause: p.clauses[i], raw: u.raw})
		}
	}
	return out
}

// exclusion is what the -words exclude, nil without any.
func (p *plan) exclusion() query.Query {
	if len(p.excluded) == 0 {
		return nil
	}
	return bleve.NewDisjunctionQuery(p.excluded...)
}

// pageWeight scales the scores of the initiative and partner pages.
const pageWeight = 0.3

// Search runs one request.
func (e *Engine) Search(ctx context.Context, r Request) (*Response, error) {
	began := time.Now()
	if err := r.Normalize(); err != nil {
		return nil, err
	}
	kind := kindQuery
	if r.Query == "" {
		kind = kindBrowse
	}
	defer e.metrics.observe(kind, began)
	resp, err := e.search(ctx, r, began)
	if err == nil && !r.CountOnly && !r.Untracked {
		e.metrics.count(resp)
	}
	return resp, err
}

// search answers a normalised request.
func (e *Engine) search(ctx context.Context, r Request, began time.Time) (*Response, error) {
	p := &plan{req: &r, asOf: day(r.AsOf)}
	if r.AsOf.IsZero() {
		p.asOf = day(e.now())
	}
	// The same request on the same day and index generation has the same
	// answer. The generation is read first: a write during this search
	// leaves the stored answer under the old generation, where no later
	// request looks.
	cacheKey := ""
	if e.responses != nil {
		if b, err := json.Marshal(r); err == nil {
			cacheKey = fmt.Sprintf("%d|%s|%s", e.ix.Generation(), p.asOf.Format(index.DateLayout), b)
			if cached, ok := e.responses.get(cacheKey); ok {
				e.metrics.cacheHits.Inc()
				out := *cached
				out.TookMs = float64(time.Since(began).Microseconds()) / 1000
				return &out, nil
			}
			e.metrics.cacheMisses.Inc()
		}
	}
	words, err := e.ix.Vocabulary()
	if err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	if err := e.ix.WithReader(func(rd bindex.IndexReader) error {
		v := newVocab(rd, words)
		p.demote = hasOtherKinds(rd)
		parsed, err := e.parse(r.Query, v)
		if err != nil {
			return err
		}
		p.parsed = parsed
		for _, u := range parsed.units {
			// Expanding words walks dictionaries; a request past its
			// deadline stops here rather than after building the query.
			if err := ctx.Err(); err != nil {
				return err
			}
			exp := make([]expansion, len(u.words))
			clause, parts := e.unitClause(u, v, exp)
			p.clauses = append(p.clauses, clause)
			p.parts = append(p.parts, parts)
			p.exps = append(p.exps, exp)
		}
		for _, u := range parsed.excluded {
			p.excluded = append(p.excluded, e.exclusionClause(u))
		}
		p.optionalWord = func(w string) bool { return e.optional[w] }
		for i, u := range parsed.units {
			if e.isOptional(u) {
				p.optional = append(p.optional, i)
			} else {
				p.required = append(p.required, i)
			}
		}
		// A query of question words only means them.
		if len(p.required) == 0 {
			p.required, p.optional = p.optional, nil
		}
		return nil
	}); err != nil {
		return nil, err
	}

	resp, err := e.run(ctx, p)
	if err != nil {
		return nil, err
	}
	// Too few hits match every word to fill a page: the best partial
	// matches follow them. The page size, not the page number, decides, so
	// every page of one search counts the same hits.
	if units := p.partialUnits(); resp.Total < uint64(r.PerPage) && len(units) > 1 {
		partial, err := e.runPartial(ctx, p, units)
		if err != nil {
			return nil, err
		}
		if partial.Total > resp.Total {
			resp = partial
		}
	}
	resp.DidYouMean = e.didYouMean(p)
	resp.Query = r.Query
	resp.Page, resp.PerPage = r.Page, r.PerPage
	if resp.Hits == nil {
		resp.Hits = []Hit{}
	}
	if cacheKey != "" {
		e.responses.put(cacheKey, resp)
	}
	out := *resp
	out.TookMs = float64(time.Since(began).Microseconds()) / 1000
	return &out, nil
}

// run answers with every required unit required.
func (e *Engine) run(ctx context.Context, p *plan) (*Response, error) {
	r := p.req
	if order, ok := p.browseOrder(); ok {
		return e.browse(ctx, p, order)
	}
	if r.CountOnly {
		counts, err := e.countFaceted(ctx, p, p.core())
		if err != nil {
			return nil, err
		}
		return p.answer(counts), nil
	}
	req := e.hitsRequest(p, (r.Page-1)*r.PerPage, r.PerPage)
	res, counts, err := e.searchFaceted(ctx, p, p.core(), req)
	if err != nil {
		return nil, err
	}
	hits := e.hits(res.Hits, p.asOf)
	if err := e.highlight(p, hits); err != nil {
		return nil, err
	}
	resp := p.answer(counts)
	resp.Total, resp.Hits = res.Total, hits
	return resp, nil
}

// runPartial answers with the documents matching every required unit first,
// then the best partial matches (see index.SearchPartial), and says which
// words the partial ones may lack.
func (e *Engine) runPartial(ctx context.Context, p *plan, units []partialUnit) (*Response, error) {
	r := p.req
	spec := p.faceted()
	spec.Over, spec.Exclude = p.scoring(units), p.exclusion()
	from, size := (r.Page-1)*r.PerPage, r.PerPage
	if r.CountOnly {
		// The levels are sets; with no page to rank, none is ranked.
		from, size = 0, 0
	}
	req := e.hitsRequest(p, from, size)
	queries := make([]query.Query, len(units))
	for i, u := range units {
		queries[i] = u.clause
	}
	res, counts, pr, err := e.ix.SearchPartial(ctx, req, spec, index.Partial{Units: queries, Fill: r.PerPage})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	hits := e.hits(res.Hits, p.asOf)
	if err := e.highlight(p, hits); err != nil {
		return nil, err
	}
	resp := p.answer(counts)
	resp.Total, resp.Hits = res.Total, hits
	kept := map[int]bool{}
	for _, k := range pr.Kept {
		kept[k] = true
	}
	var words, dropped []string
	for i, u := range units {
		if kept[i] {
			words = append(words, u.raw)
		} else {
			dropped = append(dropped, u.raw)
		}
	}
	resp.Relaxed = &Relaxed{AllWords: pr.AllUnits, Kept: strings.Join(words, " "), Dropped: dropped}
	return resp, nil
}

// hitsRequest asks for a page of hits with their stored source, in the
// request's order; the index supplies the query (see searchFaceted).
func (e *Engine) hitsRequest(p *plan, from, size int) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(nil, size, from, false)
	req.Fields = []string{index.FieldSource}
	browse := len(p.clauses) == 0
	// Browsing a corpus of projects only, every score is the same: skip
	// scoring and sort by date alone.
	if browse && !p.demote && p.req.Sort == SortRelevance {
		req.Score = bleve.ScoreNone
		req.SortByCustom(sortOrder("-start", false))
		return req
	}
	req.SortByCustom(sortOrder(p.req.Sort, browse))
	return req
}

// highlight marks the words of the query in the page's hits, from the
// title and description terms of every unit (a relaxed query's dropped
// words included: they are absent from the hits anyway).
func (e *Engine) highlight(p *plan, hits []Hit) error {
	if (p.req.NoHighlight && !p.req.Matches) || len(p.clauses) == 0 || len(hits) == 0 {
		return nil
	}
	var parts []query.Query
	for _, c := range p.clauses {
		parts = highlighted(c, parts)
	}
	terms := map[string]map[string]bool{}
	add := func(field, term string) {
		if terms[field] == nil {
			terms[field] = map[string]bool{}
		}
		terms[field][term] = true
	}
	for _, q := range parts {
		switch q := q.(type) {
		case *query.TermQuery:
			add(q.FieldVal, q.Term)
		case *index.Phrase:
			words, err := q.Terms()
			if err != nil {
				return err
			}
			for _, w := range words {
				add(q.Field(), w)
			}
		}
	}
	if len(terms) == 0 {
		return nil
	}
	for i := range hits {
		h := &hits[i]
		d := &index.Document{ID: h.ID, Title: h.Title, Description: h.Description}
		if !p.req.NoHighlight {
			frags, err := e.ix.Highlight(d, terms)
			if err != nil {
				return fmt.Errorf("highlight %s: %w", h.ID, err)
			}
			if len(frags) > 0 {
				h.Highlights = frags
			}
		}
		if p.req.Matches {
			m, err := e.ix.Matches(d, terms)
			if err != nil {
				return fmt.Errorf("matches %s: %w", h.ID, err)
			}
			if len(m) > 0 {
				h.Matches = m
			}
		}
	}
	return nil
}

// highlighted appends the parts of q that match the highlighted fields.
func highlighted(q query.Query, out []query.Query) []query.Query {
	field := func(f string) bool { return f == index.FieldTitle || f == index.FieldDescription }
	switch q := q.(type) {
	case *query.DisjunctionQuery:
		for _, c := range q.Disjuncts {
			out = highlighted(c, out)
		}
	case *query.ConjunctionQuery:
		for _, c := range q.Conjuncts {
			out = highlighted(c, out)
		}
	case *query.BooleanQuery:
		if q.Must != nil {
			out = highlighted(q.Must, out)
		}
		if q.Should != nil {
			out = highlighted(q.Should, out)
		}
	case *query.TermQuery:
		if field(q.FieldVal) {
			out = append(out, q)
		}
	case *query.MatchPhraseQuery:
		if field(q.FieldVal) {
			out = append(out, q)
		}
	case *index.Phrase:
		if field(q.Field()) {
			out = append(out, q)
		}
	}
	return out
}

// sortOrder ends field sorts in the document id, so equal keys page
// stably.
func sortOrder(s Sort, browse bool) bsearch.SortOrder {
	date := func(field string, desc bool) bsearch.SearchSort {
		return &bsearch.SortField{Field: field, Type: bsearch.SortFieldAsDate, Desc: desc, Missing: bsearch.SortFieldMissingLast}
	}
	id := &bsearch.SortDocID{}
	switch s {
	case SortStart, SortStartDesc:
		return bsearch.SortOrder{date(index.FieldStart, s == SortStartDesc), id}
	case SortEnd, SortEndDesc:
		return bsearch.SortOrder{date(index.FieldEnd, s == SortEndDesc), id}
	case SortTitle, SortTitleDesc:
		return bsearch.SortOrder{&bsearch.SortField{Field: index.FieldTitleSort, Type: bsearch.SortFieldAsString, Desc: s == SortTitleDesc, Missing: bsearch.SortFieldMissingLast}, id}
	}
	// Browsing has no text to rank by: projects first, newest first.
	if browse {
		return bsearch.SortOrder{&bsearch.SortScore{Desc: true}, date(index.FieldStart, true), id}
	}
	// Ranked by score alone: a tie-break on the id would read every hit's
	// id from its stored fields (a fifth of a broad query's time at a
	// million documents); Bleve breaks exact ties by document order.
	return bsearch.SortOrder{&bsearch.SortScore{Desc: true}}
}

func (e *Engine) hits(matches bsearch.DocumentMatchCollection, asOf time.Time) []Hit {
	out := make([]Hit, 0, len(matches))
	for _, m := range matches {
		src, _ := m.Fields[index.FieldSource].(string)
		d, err := index.DecodeSource([]byte(src))
		if err != nil {
			d = &index.Document{ID: m.ID}
		}
		h := hitOf(d, asOf)
		h.Score = m.Score
		out = append(out, h)
	}
	return out
}

func hitOf(d *index.Document, asOf time.Time) Hit {
	h := Hit{
		ID: d.ID, Kind: d.Kind, Title: d.Title, Description: d.Description,
		Countries: nonNil(d.Countries), Regions: nonNil(d.Regions), Sectors: nonNil(d.Sectors),
		Areas: nonNil(d.Areas), Partners: nonNil(d.Partners), Funder: d.Funder,
		Status: statusOf(d.Start, d.End, asOf),
	}
	if d.Start != "" {
		h.Start = &d.Start
	}
	if d.End != "" {
		h.End = &d.End
	}
	return h
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// didYouMean rewrites the query with the closest indexed spelling of each
// word the index does not know, as the documents spell it.
func (e *Engine) didYouMean(p *plan) string {
	q := p.req.Query
	type fix struct {
		start, end int
		with       string
	}
	var fixes []fix
	for i, u := range p.parsed.units {
		// A word with synonyms was understood through them.
		if u.quoted || len(u.words) != 1 || len(u.alts) > 0 {
			continue
		}
		exp := p.exps[i][0]
		if exp.known || exp.completions > 0 || len(exp.typos) == 0 {
			continue
		}
		with := exp.typos[0].term
		if r, _ := utf8.DecodeRuneInString(u.raw); unicode.IsUpper(r) {
			w, size := utf8.DecodeRuneInString(with)
			with = string(unicode.ToUpper(w)) + with[size:]
		}
		fixes = append(fixes, fix{u.start, u.end, with})
	}
	if len(fixes) == 0 {
		return ""
	}
	sort.Slice(fixes, func(i, j int) bool { return fixes[i].start > fixes[j].start })
	for _, f := range fixes {
		q = q[:f.start] + f.with + q[f.end:]
	}
	return strings.TrimSpace(q)
}

// hasOtherKinds says whether the index holds any document that is not a
// project; a corpus of projects only skips the per-hit demotion.
func hasOtherKinds(r bindex.IndexReader) bool {
	fd, err := r.FieldDict(index.FieldKind)
	if err != nil {
		return true
	}
	defer fd.Close()
	for {
		de, err := fd.Next()
		if err != nil {
			return true
		}
		if de == nil {
			return false
		}
		if de.Term != index.KindProject && de.Count > 0 {
			return true
		}
	}
}
