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
	clauses  []index.Clause // one per unit
	excluded []index.Clause
	exps     [][]expansion
	// marks are the title and description terms to mark in the hits: of
	// every unit, a relaxed query's dropped words included (they are
	// absent from its hits anyway).
	marks marks
	// optionalWord says whether an analysed word is optional.
	optionalWord func(string) bool
	// parts holds, for a unit that is a phrase from a table, the clause of
	// each of its words.
	parts [][]index.Clause
	// required lists the units a hit must match (by index), optional the
	// units that only rank (question words, "projects").
	required, optional []int
	// demote is set when the index holds documents other than projects,
	// whose scores are then scaled down.
	demote bool
}

// query is the plan as the index runs it, with a page of from and size.
func (p *plan) query(from, size int) index.Query {
	q := index.Query{
		Required: p.pick(p.required),
		Optional: p.pick(p.optional),
		Exclude:  p.excluded,
		Faceted:  p.faceted(),
		From:     from,
		Size:     size,
	}
	if p.demote {
		q.OtherKinds = pageWeight
	}
	browse := len(p.clauses) == 0
	// Browsing a corpus of projects only, every score is the same: skip
	// scoring and sort by date alone.
	if browse && !p.demote && p.req.Sort == SortRelevance {
		q.Unscored = true
		q.Sort = sortKeys(SortStartDesc, false)
		return q
	}
	q.Sort = sortKeys(p.req.Sort, browse)
	return q
}

// pick is the clauses of the units listed.
func (p *plan) pick(units []int) []index.Clause {
	out := make([]index.Clause, len(units))
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
	clause index.Clause
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
				clause: index.AnyOf{part, p.clauses[i]},
				raw:    p.req.Query[u.spans[j][0]:u.spans[j][1]],
			})
		}
		if len(out) == before {
			out = append(out, partialUnit{clause: p.clauses[i], raw: u.raw})
		}
	}
	return out
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
	var resp *Response
	// One snapshot answers the whole request: the words are looked up in
	// the documents the query then runs on.
	err := e.ix.Read(func(rd *index.Reader) error {
		words, err := rd.Words()
		if err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
		if err := e.plan(ctx, p, &vocab{r: rd, words: words}); err != nil {
			return err
		}
		if resp, err = e.run(ctx, rd, p); err != nil {
			return err
		}
		// Too few hits match every word to fill a page: the best partial
		// matches follow them. The page size, not the page number,
		// decides, so every page of one search counts the same hits.
		if units := p.partialUnits(); resp.Total < uint64(r.PerPage) && len(units) > 1 {
			partial, err := e.runPartial(ctx, rd, p, units)
			if err != nil {
				return err
			}
			if partial.Total > resp.Total {
				resp = partial
			}
		}
		// Only the answer kept is highlighted: a page of all-word hits
		// that the partial matches replace is never shown.
		return e.highlight(p, resp.Hits)
	})
	if err != nil {
		return nil, err
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

// plan parses the request's text and builds the clause of every unit
// against the snapshot's vocabulary.
func (e *Engine) plan(ctx context.Context, p *plan, v *vocab) error {
	p.demote = v.r.OtherKinds()
	parsed, err := e.parse(p.req.Query, v)
	if err != nil {
		return err
	}
	p.parsed = parsed
	p.marks = marks{}
	c := clauses{e: e, v: v, marks: p.marks}
	for _, u := range parsed.units {
		// Expanding words walks dictionaries; a request past its deadline
		// stops here rather than after building the query.
		if err := ctx.Err(); err != nil {
			return err
		}
		exp := make([]expansion, len(u.words))
		clause, parts := c.unit(u, exp)
		p.clauses = append(p.clauses, clause)
		p.parts = append(p.parts, parts)
		p.exps = append(p.exps, exp)
	}
	for _, u := range parsed.excluded {
		p.excluded = append(p.excluded, e.exclusion(u))
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
}

// run answers with every required unit required.
func (e *Engine) run(ctx context.Context, rd *index.Reader, p *plan) (*Response, error) {
	r := p.req
	if order, ok := p.browseOrder(); ok {
		return e.browse(ctx, rd, p, order)
	}
	from, size := (r.Page-1)*r.PerPage, r.PerPage
	if r.CountOnly {
		from, size = 0, 0
	}
	res, err := rd.Search(ctx, p.query(from, size))
	if err != nil {
		return nil, err
	}
	return e.answer(p, res), nil
}

// runPartial answers with the documents matching every required unit first,
// then the best partial matches (see index.Reader.SearchPartial), and says
// which words the partial ones may lack.
func (e *Engine) runPartial(ctx context.Context, rd *index.Reader, p *plan, units []partialUnit) (*Response, error) {
	r := p.req
	from, size := (r.Page-1)*r.PerPage, r.PerPage
	if r.CountOnly {
		// The levels are sets; with no page to rank, none is ranked.
		from, size = 0, 0
	}
	clauses := make([]index.Clause, len(units))
	for i, u := range units {
		clauses[i] = u.clause
	}
	res, pr, err := rd.SearchPartial(ctx, p.query(from, size), index.Partial{Units: clauses, Fill: r.PerPage})
	if err != nil {
		return nil, err
	}
	resp := e.answer(p, res)
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

// answer is the response of the index's result: its hits (not yet
// highlighted), its total and its facets.
func (e *Engine) answer(p *plan, res *index.Result) *Response {
	hits := make([]Hit, 0, len(res.Hits))
	for _, m := range res.Hits {
		h := hitOf(m.Doc, p.asOf)
		h.Score = m.Score
		hits = append(hits, h)
	}
	resp := p.answer(res.Counts)
	resp.Total, resp.Hits = res.Total, hits
	return resp
}

// highlight marks the words of the query in the page's hits.
func (e *Engine) highlight(p *plan, hits []Hit) error {
	if (p.req.NoHighlight && !p.req.Matches) || len(p.marks) == 0 || len(hits) == 0 {
		return nil
	}
	for i := range hits {
		h := &hits[i]
		d := &index.Document{ID: h.ID, Title: h.Title, Description: h.Description}
		if !p.req.NoHighlight {
			frags, err := e.ix.Highlight(d, p.marks)
			if err != nil {
				return fmt.Errorf("highlight %s: %w", h.ID, err)
			}
			if len(frags) > 0 {
				h.Highlights = frags
			}
		}
		if p.req.Matches {
			m, err := e.ix.Matches(d, p.marks)
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

// sortKeys is the index's order for a sort; field sorts end in the
// document id there, so equal keys page stably.
func sortKeys(s Sort, browse bool) []index.SortKey {
	switch s {
	case SortStart, SortStartDesc:
		return []index.SortKey{{Field: index.FieldStart, Desc: s == SortStartDesc}}
	case SortEnd, SortEndDesc:
		return []index.SortKey{{Field: index.FieldEnd, Desc: s == SortEndDesc}}
	case SortTitle, SortTitleDesc:
		return []index.SortKey{{Field: index.FieldTitleSort, Desc: s == SortTitleDesc}}
	}
	// Browsing has no text to rank by: projects first, newest first.
	if browse {
		return []index.SortKey{{Desc: true}, {Field: index.FieldStart, Desc: true}}
	}
	return nil
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
