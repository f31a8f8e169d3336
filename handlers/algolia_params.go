package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mpower/labor-search/internal/input"
	"github.com/mpower/labor-search/search"
)

// The Algolia protocol (/1/indexes/...) is what InstantSearch and
// Algolia's own clients speak. Its requests are mapped onto search.Request
// here; its answers are shaped in algolia_result.go. Unlike /v1, unknown
// parameters are ignored: the clients send many (analytics tags, agents,
// ranking options) that change nothing a visitor would see. Parameters
// that would change which documents match and that the engine cannot
// honour are refused instead of being silently dropped.

// AlgoliaIndex is the index name a portal gives InstantSearch. Each sort
// order is a replica named after it (AlgoliaIndexes).
const AlgoliaIndex = "projects"

// Defaults and bounds of the Algolia parameters, as Algolia documents them
// where the engine allows (a page is at most search.MaxPerPage hits).
const (
	algoliaDefaultHitsPerPage = 20
	algoliaDefaultFacetValues = 100
	algoliaDefaultFacetHits   = 10
	algoliaMaxFacetHits       = 100
	// algoliaSnippetWords is the snippet length when the client names
	// none: about the 200 characters of /v1's highlight fragments.
	algoliaSnippetWords = 30
	// algoliaListedSnippetWords is Algolia's length for an attribute in
	// attributesToSnippet without ":N".
	algoliaListedSnippetWords = 10
	algoliaMaxSnippetWords    = 200
	// algoliaMaxTag bounds the highlight tags and the ellipsis.
	algoliaMaxTag = 64
	// maxAlgoliaQueries bounds one multi-query; each query is a search.
	maxAlgoliaQueries = 50
	// Algolia's default tags; InstantSearch always sends its own.
	algoliaPreTag   = "<em>"
	algoliaPostTag  = "</em>"
	algoliaEllipsis = "…"
)

// algoliaRefused are parameters that filter results in ways the engine
// cannot express; ignoring them would answer a different question.
var algoliaRefused = []string{"filters", "numericFilters", "tagFilters", "insideBoundingBox", "insidePolygon"}

// algoliaText are the attributes with text to highlight and snippet, as
// Hit's JSON names them.
var algoliaText = []string{"title", "description"}

// AlgoliaIndexes maps each index name the Algolia routes accept to its sort
// order: AlgoliaIndex ranks by relevance, and projects_<field>_<asc|desc>
// sorts (projects_start_desc, newest first).
func AlgoliaIndexes() map[string]string {
	out := map[string]string{}
	for _, s := range search.SortOrders() {
		switch {
		case s == "relevance":
			out[AlgoliaIndex] = s
		case strings.HasPrefix(s, "-"):
			out[AlgoliaIndex+"_"+s[1:]+"_desc"] = s
		default:
			out[AlgoliaIndex+"_"+s+"_asc"] = s
		}
	}
	return out
}

// algoliaFacetNames maps the attribute names a portal may give its widgets
// to the engine's facet names: the filter fields, and the plural names the
// hits carry (countries, sectors, ...), so either spelling works.
var algoliaFacetNames = func() map[string]string {
	out := map[string]string{}
	plural := map[string]string{
		search.FieldCountry: "countries", search.FieldRegion: "regions", search.FieldSector: "sectors",
		search.FieldArea: "areas", search.FieldPartner: "partners",
	}
	for _, f := range search.FilterFields() {
		out[f] = f
		if p, ok := plural[f]; ok {
			out[p] = f
		}
	}
	return out
}()

// algoliaValue is one parameter as sent: JSON (v5's flattened fields, or a
// params object), or text from a v4 URL-encoded params string, where
// numbers, booleans and arrays arrive as strings.
type algoliaValue struct {
	raw    json.RawMessage
	text   string
	isText bool
}

type algoliaParams map[string]algoliaValue

// algoliaQuery is one query of a request, mapped.
type algoliaQuery struct {
	index string // as asked
	req   search.Request
	// page and hitsPerPage are Algolia's: 0-based, and 0 hits per page
	// for counts alone.
	page, hitsPerPage int
	// beyond is set for a page past the deepest the engine serves: its
	// answer has the counts and no hits, as Algolia's does past
	// paginationLimitedTo.
	beyond bool
	// names maps each engine facet to the name the client asked it by,
	// which the answer uses.
	names map[string]string
	// refined lists each facet's values in facetFilters: they are
	// answered even with a zero count, so a ticked box stays on screen.
	refined map[string][]string

	preTag, postTag, ellipsis string
	highlight                 []string       // attributes of _highlightResult
	snippet                   map[string]int // attributes of _snippetResult and their length in words
	retrieve                  func(attr string) bool

	// facetSearch is a search for facet values: facet (the engine's
	// name) values starting with facetQuery, at most maxFacetHits.
	facetSearch  bool
	facet        string
	facetQuery   string
	maxFacetHits int

	query  string // as sent, echoed
	params string // the parameters as a query string, echoed

	// analytics is false for what is not a visitor's search: a query sent
	// with analytics:false, a counts-only query (InstantSearch's extra
	// per-facet queries), a facet-value search. Such queries are left out
	// of the search metrics (hits, zero results, did you mean) and of
	// query analytics.
	analytics bool
	// clickAnalytics asks for the answer's queryID, which click events
	// name; session is the userToken when it is a token a page makes,
	// for search-as-you-type folding.
	clickAnalytics bool
	session        string
}

// parseAlgoliaBatch reads the body of POST /1/indexes/*/queries: Algolia's
// {"requests": [...]} or, as InstantSearch's own search() call and
// Searchkit's client send it, a bare array of requests.
func parseAlgoliaBatch(body []byte) ([]*algoliaQuery, error) {
	trimmed := bytes.TrimSpace(body)
	var raws []json.RawMessage
	switch {
	case len(trimmed) == 0:
		return nil, search.Invalid("body", `the request body is empty; send {"requests": [...]}`)
	case trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, input.DecodeError(err, "the request body", func(string) string { return "" })
		}
	default:
		fields, err := input.Object(trimmed, "the request body")
		if err != nil {
			return nil, err
		}
		reqs, ok := fields["requests"]
		if !ok {
			return nil, search.Invalid("requests", `the request body has no "requests" array`)
		}
		if err := json.Unmarshal(reqs, &raws); err != nil {
			return nil, search.Invalid("requests", "requests must be an array of objects")
		}
	}
	if len(raws) == 0 {
		return nil, search.Invalid("requests", "requests is empty; send at least one query")
	}
	if len(raws) > maxAlgoliaQueries {
		return nil, search.Invalid("requests", "%d requests in one call; the limit is %d", len(raws), maxAlgoliaQueries)
	}
	out := make([]*algoliaQuery, 0, len(raws))
	for i, raw := range raws {
		q, err := parseAlgoliaRequest(raw, "", "")
		var inv *search.InvalidError
		switch {
		case errors.As(err, &inv):
			return nil, search.Invalid(inv.Param, "requests[%d]: %s", i, inv.Message)
		case err != nil:
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// parseAlgoliaRequest maps one request object. index and facet, when not
// empty, come from the path (/1/indexes/{index}/query,
// /1/indexes/{index}/facets/{facet}/query) and make the object's own
// indexName, type and facet irrelevant.
func parseAlgoliaRequest(raw json.RawMessage, index, facet string) (*algoliaQuery, error) {
	fields, err := input.Object(raw, "a request")
	if err != nil {
		return nil, err
	}
	p := algoliaParams{}
	for name, v := range fields {
		p[name] = algoliaValue{raw: v}
	}
	// v4 (and InstantSearch's own request shape) nest the parameters in
	// params; they win over flattened fields of the same name.
	if v, ok := p["params"]; ok {
		delete(p, "params")
		if err := p.merge(v.raw); err != nil {
			return nil, err
		}
	}
	if index == "" {
		if index, err = p.str("indexName", ""); err != nil {
			return nil, err
		}
		if index == "" {
			return nil, search.Invalid("indexName", "indexName is missing; name the index, %s", AlgoliaIndex)
		}
		typ, err := p.str("type", "default")
		if err != nil {
			return nil, err
		}
		switch typ {
		case "default":
		case "facet":
			if facet, err = p.str("facet", ""); err != nil {
				return nil, err
			}
			if facet == "" {
				return nil, search.Invalid("facet", `a request of type "facet" needs the facet to search`)
			}
		default:
			return nil, search.Invalid("type", `type %q is not "default" or "facet"`, input.Clip(typ))
		}
	}
	if facet == "" {
		// searchForFacetValues of the v3 and v4 clients names it so.
		if facet, err = p.str("facetName", ""); err != nil {
			return nil, err
		}
		if _, asked := p["facetQuery"]; !asked {
			facet = ""
		}
	}
	return p.query(index, facet)
}

// merge adds the parameters of params: a URL-encoded string or an object.
func (p algoliaParams) merge(params json.RawMessage) error {
	trimmed := bytes.TrimSpace(params)
	switch {
	case isNull(trimmed):
		return nil
	case len(trimmed) > 0 && trimmed[0] == '{':
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &fields); err != nil {
			return search.Invalid("params", "params is not a valid JSON object")
		}
		for name, v := range fields {
			p[name] = algoliaValue{raw: v}
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(trimmed, &s); err != nil {
		return search.Invalid("params", "params must be a URL-encoded string or an object")
	}
	values, err := url.ParseQuery(s)
	if err != nil {
		return search.Invalid("params", "params is not a valid URL-encoded string: %s", err.Error())
	}
	for name, vs := range values {
		v := vs[len(vs)-1]
		if !utf8.ValidString(v) {
			return search.Invalid(name, "%s in params is not valid UTF-8", input.Clip(name))
		}
		p[name] = algoliaValue{text: v, isText: true}
	}
	return nil
}

// query maps the parameters onto a search request.
func (p algoliaParams) query(index, facet string) (*algoliaQuery, error) {
	sort, ok := AlgoliaIndexes()[index]
	if !ok {
		return nil, &apiError{code: CodeNotFound, message: "Index does not exist"}
	}
	for _, name := range algoliaRefused {
		if v, ok := p[name]; ok && !v.empty() {
			return nil, search.Invalid(name, "%s is not supported here; filter with facetFilters (an inner array is OR within one attribute, the outer level AND)", name)
		}
	}
	q := &algoliaQuery{index: index, names: map[string]string{}, refined: map[string][]string{}}
	q.req.Sort = search.Sort(sort)
	var err error
	if q.query, err = p.str("query", ""); err != nil {
		return nil, err
	}
	q.req.Query = strings.TrimSpace(q.query)
	if err := p.paging(q); err != nil {
		return nil, err
	}
	if err := p.facets(q); err != nil {
		return nil, err
	}
	if err := p.facetFilters(q); err != nil {
		return nil, err
	}
	if err := p.marking(q); err != nil {
		return nil, err
	}
	analytics, err := p.boolean("analytics", true)
	if err != nil {
		return nil, err
	}
	q.analytics = analytics && q.hitsPerPage > 0
	if q.clickAnalytics, err = p.boolean("clickAnalytics", false); err != nil {
		return nil, err
	}
	// Any userToken is accepted, as Algolia accepts it; only one shaped
	// like the page's session tokens folds keystrokes.
	if token, err := p.str("userToken", ""); err == nil && isToken(token, minSessionLength, maxSessionLength) {
		q.session = token
	}
	if facet != "" {
		if err := p.facetSearch(q, facet); err != nil {
			return nil, err
		}
	}
	q.params = p.encode()
	return q, nil
}

// paging maps page (0-based) and hitsPerPage, or offset and length.
func (p algoliaParams) paging(q *algoliaQuery) error {
	hpp, err := p.integer("hitsPerPage", algoliaDefaultHitsPerPage)
	if err != nil {
		return err
	}
	page, err := p.integer("page", 0)
	if err != nil {
		return err
	}
	if _, ok := p["length"]; ok {
		length, err := p.integer("length", 0)
		if err != nil {
			return err
		}
		offset, err := p.integer("offset", 0)
		if err != nil {
			return err
		}
		if length < 1 || offset < 0 || offset%length != 0 {
			return search.Invalid("offset", "offset %d and length %d do not fall on a page; give an offset that is a multiple of length, or page and hitsPerPage", offset, length)
		}
		hpp, page = length, offset/length
	}
	if hpp < 0 || hpp > search.MaxPerPage {
		return search.Invalid("hitsPerPage", "hitsPerPage must be between 0 (counts only) and %d", search.MaxPerPage)
	}
	if page < 0 {
		return search.Invalid("page", "page must be 0 or more (pages count from 0)")
	}
	q.page, q.hitsPerPage = page, hpp
	switch {
	case hpp == 0:
		// Counts alone, relaxed as a first page of the default size
		// would be.
		q.req.CountOnly = true
		q.req.Page, q.req.PerPage = 1, search.DefaultPerPage
	case page+1 > search.MaxDepth/hpp:
		q.beyond = true
		q.req.CountOnly = true
		q.req.Page, q.req.PerPage = search.MaxDepth/hpp, hpp
	default:
		q.req.Page, q.req.PerPage = page+1, hpp
	}
	return nil
}

// facets maps facets (a name, a list, or "*") and maxValuesPerFacet.
func (p algoliaParams) facets(q *algoliaQuery) error {
	names, err := p.list("facets")
	if err != nil {
		return err
	}
	q.req.Facets = []string{}
	for _, name := range names {
		if name == "*" {
			for _, f := range search.FilterFields() {
				q.addFacet(f, f)
			}
			continue
		}
		f, err := algoliaFacet("facets", name)
		if err != nil {
			return err
		}
		q.addFacet(f, name)
	}
	size, err := p.integer("maxValuesPerFacet", algoliaDefaultFacetValues)
	if err != nil {
		return err
	}
	if size < 1 {
		return search.Invalid("maxValuesPerFacet", "maxValuesPerFacet must be 1 or more")
	}
	// InstantSearch derives it from its widgets' show-more limits; more
	// than the engine lists is answered with all it lists rather than an
	// error that would blank the page.
	q.req.FacetSize = min(size, search.MaxFacetSize)
	return nil
}

func (q *algoliaQuery) addFacet(f, as string) {
	if !slices.Contains(q.req.Facets, f) {
		q.req.Facets = append(q.req.Facets, f)
		q.names[f] = as
	}
}

// algoliaFacet is the engine's name of an attribute a client named.
func algoliaFacet(param, name string) (string, error) {
	if f, ok := algoliaFacetNames[name]; ok {
		return f, nil
	}
	return "", search.Invalid(param, "unknown attribute %q%s; the attributes for faceting are %s", input.Clip(name), input.DidYouMean(name, search.FilterFields()), strings.Join(search.FilterFields(), ", "))
}

// facetFilters maps Algolia's facet filters: the outer array is AND, an
// inner array OR. The engine ORs the values of one attribute and ANDs
// attributes, so an inner array must hold one attribute, and an attribute
// may appear in one group only.
func (p algoliaParams) facetFilters(q *algoliaQuery) error {
	v, ok := p["facetFilters"]
	if !ok || v.empty() {
		return nil
	}
	var groups []json.RawMessage
	raw := v.raw
	if v.isText {
		raw = json.RawMessage(v.text)
		if !strings.HasPrefix(strings.TrimSpace(v.text), "[") {
			raw, _ = json.Marshal(v.text)
		}
	}
	var single string
	if err := json.Unmarshal(raw, &single); err == nil {
		groups = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &groups); err != nil {
		return search.Invalid("facetFilters", `facetFilters must be an array of "attribute:value" strings and arrays of them`)
	}
	for _, g := range groups {
		var filters []string
		if err := json.Unmarshal(g, &single); err == nil {
			filters = []string{single}
		} else if err := json.Unmarshal(g, &filters); err != nil {
			return search.Invalid("facetFilters", `facetFilters must be an array of "attribute:value" strings and arrays of them`)
		}
		field, values := "", []string(nil)
		for _, filter := range filters {
			f, value, err := parseFacetFilter(filter)
			if err != nil {
				return err
			}
			if field != "" && f != field {
				return search.Invalid("facetFilters", "facetFilters %q ORs two attributes (%s, %s); values of one attribute can be ORed, attributes only ANDed", input.Clip(strings.Join(filters, ",")), field, f)
			}
			field = f
			if !slices.Contains(values, value) {
				values = append(values, value)
			}
		}
		if field == "" {
			continue
		}
		if prev, ok := q.req.Filters[field]; ok {
			if !slices.Equal(slices.Sorted(slices.Values(prev)), slices.Sorted(slices.Values(values))) {
				return search.Invalid("facetFilters", "facetFilters ANDs two groups of %s values; a document can be required to have one of several values of an attribute, not several at once (refinementList operator \"and\" is not supported)", field)
			}
			continue
		}
		if q.req.Filters == nil {
			q.req.Filters = map[string][]string{}
		}
		q.req.Filters[field] = values
		q.refined[field] = values
	}
	return nil
}

// parseFacetFilter splits "attribute:value". A value starting with "-" is
// an exclusion, which the engine cannot express; InstantSearch escapes a
// value that really starts with "-" as "\-".
func parseFacetFilter(filter string) (field, value string, err error) {
	name, value, ok := strings.Cut(filter, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return "", "", search.Invalid("facetFilters", "facet filter %q is not of the form attribute:value", input.Clip(filter))
	}
	if field, err = algoliaFacet("facetFilters", strings.TrimSpace(name)); err != nil {
		return "", "", err
	}
	switch {
	case strings.HasPrefix(value, "-"):
		return "", "", search.Invalid("facetFilters", "facet filter %q excludes a value; exclusions are not supported", input.Clip(filter))
	case strings.HasPrefix(value, `\-`):
		value = value[1:]
	}
	if value == "" {
		return "", "", search.Invalid("facetFilters", "facet filter %q has no value", input.Clip(filter))
	}
	if utf8.RuneCountInString(value) > search.MaxQueryLength {
		return "", "", search.Invalid("facetFilters", "a facet filter value is longer than %d characters", search.MaxQueryLength)
	}
	return field, value, nil
}

// marking maps the highlight and snippet parameters.
func (p algoliaParams) marking(q *algoliaQuery) error {
	var err error
	if q.preTag, err = p.str("highlightPreTag", algoliaPreTag); err != nil {
		return err
	}
	if q.postTag, err = p.str("highlightPostTag", algoliaPostTag); err != nil {
		return err
	}
	if q.ellipsis, err = p.str("snippetEllipsisText", algoliaEllipsis); err != nil {
		return err
	}
	// Each tag is written around every marked word of every hit, twice.
	for name, v := range map[string]string{"highlightPreTag": q.preTag, "highlightPostTag": q.postTag, "snippetEllipsisText": q.ellipsis} {
		if utf8.RuneCountInString(v) > algoliaMaxTag {
			return search.Invalid(name, "%s is longer than %d characters", name, algoliaMaxTag)
		}
	}
	q.highlight = algoliaText
	if _, ok := p["attributesToHighlight"]; ok {
		attrs, err := p.list("attributesToHighlight")
		if err != nil {
			return err
		}
		q.highlight = nil
		for _, a := range algoliaText {
			if slices.Contains(attrs, a) || slices.Contains(attrs, "*") {
				q.highlight = append(q.highlight, a)
			}
		}
	}
	q.snippet = map[string]int{}
	if _, ok := p["attributesToSnippet"]; !ok {
		for _, a := range algoliaText {
			q.snippet[a] = algoliaSnippetWords
		}
	} else {
		attrs, err := p.list("attributesToSnippet")
		if err != nil {
			return err
		}
		for _, spec := range attrs {
			name, n, hasN := strings.Cut(spec, ":")
			words := algoliaListedSnippetWords
			if hasN {
				if words, err = strconv.Atoi(n); err != nil || words < 1 || words > algoliaMaxSnippetWords {
					return search.Invalid("attributesToSnippet", "attributesToSnippet %q: the length must be a number of words from 1 to %d", input.Clip(spec), algoliaMaxSnippetWords)
				}
			}
			for _, a := range algoliaText {
				if a == name || name == "*" {
					q.snippet[a] = words
				}
			}
		}
	}
	retrieve, err := p.list("attributesToRetrieve")
	if err != nil {
		return err
	}
	q.retrieve = retrieved(retrieve)
	// The text is marked from the engine's match offsets; its own HTML
	// highlights are not needed.
	q.req.NoHighlight = true
	q.req.Matches = q.hitsPerPage > 0 && !q.beyond
	return nil
}

// retrieved says which attributes of a hit are answered, from
// attributesToRetrieve: all when not given or "*", then "-attr" leaves one
// out. objectID is always answered.
func retrieved(attrs []string) func(string) bool {
	if len(attrs) == 0 {
		return func(string) bool { return true }
	}
	all := slices.Contains(attrs, "*")
	return func(a string) bool {
		if a == "objectID" || slices.Contains(attrs, "-"+a) {
			return a == "objectID"
		}
		return all || slices.Contains(attrs, a)
	}
}

// facetSearch maps a search for values of facet starting with facetQuery:
// the facet's counts (as many as the engine lists) under the query and the
// filters, as the refinement list would show them.
func (p algoliaParams) facetSearch(q *algoliaQuery, facet string) error {
	f, err := algoliaFacet("facet", facet)
	if err != nil {
		return err
	}
	q.facetSearch, q.facet, q.analytics = true, f, false
	q.names = map[string]string{f: facet}
	if q.facetQuery, err = p.str("facetQuery", ""); err != nil {
		return err
	}
	if utf8.RuneCountInString(q.facetQuery) > search.MaxQueryLength {
		return search.Invalid("facetQuery", "facetQuery is longer than %d characters", search.MaxQueryLength)
	}
	if q.maxFacetHits, err = p.integer("maxFacetHits", algoliaDefaultFacetHits); err != nil {
		return err
	}
	if q.maxFacetHits < 1 || q.maxFacetHits > algoliaMaxFacetHits {
		return search.Invalid("maxFacetHits", "maxFacetHits must be between 1 and %d", algoliaMaxFacetHits)
	}
	q.req.Facets = []string{f}
	q.req.FacetSize = search.MaxFacetSize
	q.req.CountOnly, q.req.Matches = true, false
	if q.hitsPerPage == 0 || q.beyond {
		q.req.Page, q.req.PerPage = 1, search.DefaultPerPage
	}
	return nil
}

func (v algoliaValue) empty() bool {
	if v.isText {
		return strings.TrimSpace(v.text) == "" || strings.TrimSpace(v.text) == "[]"
	}
	s := string(bytes.TrimSpace(v.raw))
	return s == "null" || s == `""` || s == "[]"
}

// scalar is the value as text: a JSON string's content (some clients
// send numbers and booleans as strings), or the JSON itself.
func (v algoliaValue) scalar() string {
	if v.isText {
		return v.text
	}
	var s string
	if json.Unmarshal(v.raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(v.raw))
}

// str is a string parameter; def when absent or null.
func (p algoliaParams) str(name, def string) (string, error) {
	v, ok := p[name]
	if !ok {
		return def, nil
	}
	if v.isText {
		return v.text, nil
	}
	if isNull(v.raw) {
		return def, nil
	}
	var s string
	if err := json.Unmarshal(v.raw, &s); err != nil {
		return "", search.Invalid(name, "%s must be a string", name)
	}
	return s, nil
}

// integer is a whole-number parameter; def when absent or null.
func (p algoliaParams) integer(name string, def int) (int, error) {
	v, ok := p[name]
	if !ok || (!v.isText && isNull(v.raw)) {
		return def, nil
	}
	text := v.scalar()
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		return 0, search.Invalid(name, "%s must be a whole number, not %s", name, input.Clip(text))
	}
	return n, nil
}

// boolean is a true/false parameter; def when absent or null.
func (p algoliaParams) boolean(name string, def bool) (bool, error) {
	v, ok := p[name]
	if !ok || (!v.isText && isNull(v.raw)) {
		return def, nil
	}
	switch strings.TrimSpace(v.scalar()) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, search.Invalid(name, "%s must be true or false", name)
}

// list is a list-of-names parameter: a JSON array, or a string of names
// separated by commas (a JSON array inside a v4 params string too).
func (p algoliaParams) list(name string) ([]string, error) {
	v, ok := p[name]
	if !ok || v.empty() {
		return nil, nil
	}
	raw := v.raw
	if v.isText {
		if !strings.HasPrefix(strings.TrimSpace(v.text), "[") {
			return splitNames(v.text), nil
		}
		raw = json.RawMessage(v.text)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return splitNames(s), nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, search.Invalid(name, "%s must be a list of names", name)
	}
	return out, nil
}

func splitNames(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// encode writes the parameters as Algolia echoes them in params: a query
// string, arrays as JSON.
func (p algoliaParams) encode() string {
	names := make([]string, 0, len(p))
	for name := range p {
		switch name {
		case "indexName", "type", "facet":
		default:
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		text := p[name].scalar()
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(text))
	}
	return b.String()
}
