package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/search"
)

var testNow = time.Date(2024, 6, 15, 13, 45, 0, 0, time.FixedZone("EDT", -4*3600))

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// defaults is the request every absent parameter leaves.
func defaults() search.Request {
	return search.Request{
		Facets:    search.DefaultFacets(),
		FacetSize: search.DefaultFacetSize,
		Sort:      search.SortRelevance,
		Page:      1,
		PerPage:   search.DefaultPerPage,
		AsOf:      day("2024-06-15"),
	}
}

func with(f func(*search.Request)) search.Request {
	r := defaults()
	f(&r)
	return r
}

func TestParseSearchQuery(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  search.Request
	}{
		{"empty", "", defaults()},
		{"text", "q=mining+safety", with(func(r *search.Request) { r.Query = "mining safety" })},
		{"text trimmed", "q=%20%20mining%20", with(func(r *search.Request) { r.Query = "mining" })},
		{"repeated filter, sorted and deduplicated", "country=Peru&country=Mexico&country=Peru", with(func(r *search.Request) {
			r.Filters = map[string][]string{"country": {"Mexico", "Peru"}}
		})},
		{"several filter fields", "sector=Mining&kind=project&status=active&region=Asia&area=Forced+labor&partner=ILO", with(func(r *search.Request) {
			r.Filters = map[string][]string{"sector": {"Mining"}, "kind": {"project"}, "status": {"active"}, "region": {"Asia"}, "area": {"Forced labor"}, "partner": {"ILO"}}
		})},
		{"empty values are not given", "q=&country=&from=&page=&sort=&highlight=", defaults()},
		{"dates", "from=2020-01-01&to=2021-12-31&as_of=2019-05-05", with(func(r *search.Request) {
			r.From, r.To, r.AsOf = day("2020-01-01"), day("2021-12-31"), day("2019-05-05")
		})},
		{"same from and to", "from=2020-01-01&to=2020-01-01", with(func(r *search.Request) { r.From, r.To = day("2020-01-01"), day("2020-01-01") })},
		{"facets list", "facets=country,+sector,country", with(func(r *search.Request) { r.Facets = []string{"country", "sector"} })},
		{"facets empty asks for none", "facets=", with(func(r *search.Request) { r.Facets = []string{} })},
		{"facets repeated", "facets=kind&facets=status", with(func(r *search.Request) { r.Facets = []string{"kind", "status"} })},
		{"paging and size", "page=3&per_page=100&facet_size=500", with(func(r *search.Request) { r.Page, r.PerPage, r.FacetSize = 3, 100, 500 })},
		{"deepest page", "page=100&per_page=100", with(func(r *search.Request) { r.Page, r.PerPage = 100, 100 })},
		{"sort", "sort=-start", with(func(r *search.Request) { r.Sort = "-start" })},
		{"highlight off", "highlight=false", with(func(r *search.Request) { r.NoHighlight = true })},
		{"highlight on", "highlight=TRUE", defaults()},
		{"q of 512 characters", "q=" + strings.Repeat("é", 512), with(func(r *search.Request) { r.Query = strings.Repeat("é", 512) })},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			values, err := url.ParseQuery(test.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseSearchQuery(values, testNow)
			if err != nil {
				t.Fatalf("ParseSearchQuery(%q): %v", test.query, err)
			}
			if diff := cmp.Diff(test.want, got); diff != "" {
				t.Errorf("ParseSearchQuery(%q) mismatch (-want +got):\n%s", test.query, diff)
			}
		})
	}
}

func TestParseSearchQueryErrors(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		wantParam string
		wantMsg   string // a substring of the message
	}{
		{"unknown parameter with a close name", "contry=Mexico", "contry", `unknown parameter "contry" (did you mean "country"?)`},
		{"unknown parameter by alias", "query=mining", "query", `(did you mean "q"?)`},
		{"plural of a filter", "countries=Mexico", "countries", `(did you mean "country"?)`},
		{"unknown parameter far from any", "zzzzzz=1", "zzzzzz", "valid parameters are q, country,"},
		{"several unknown", "b=1&a=2", "a", `unknown parameter "a" and 1 more`},
		{"repeated scalar", "page=1&page=2", "page", "page is given 2 times"},
		{"bad date", "from=2024-13-01", "from", `from "2024-13-01" is not a date in the form YYYY-MM-DD`},
		{"date in another form", "to=01/02/2024", "to", "YYYY-MM-DD"},
		{"bad as_of", "as_of=today", "as_of", "YYYY-MM-DD"},
		{"to before from", "from=2024-02-01&to=2024-01-01", "to", "to 2024-01-01 is before from 2024-02-01"},
		{"unknown facet", "facets=country,sectr", "facets", `unknown facet "sectr" (did you mean "sector"?)`},
		{"unknown sort", "sort=date", "sort", `sort "date" is not one of relevance, start, -start, end, -end, title, -title`},
		{"sort typo", "sort=titel", "sort", `(did you mean "title"?)`},
		{"q too long", "q=" + strings.Repeat("a", 513), "q", "q is 513 characters long; the limit is 512"},
		{"per_page zero", "per_page=0", "per_page", "per_page must be between 1 and 100"},
		{"per_page too big", "per_page=101", "per_page", "per_page must be between 1 and 100"},
		{"per_page not a number", "per_page=ten", "per_page", `per_page must be a whole number, not "ten"`},
		{"page zero", "page=0", "page", "page must be 1 or more"},
		{"page negative", "page=-1", "page", "page must be 1 or more"},
		{"page too deep", "page=1001", "page", "page 1001 with per_page 10 goes past the first 10000 results"},
		{"page overflowing", "page=99999999999999999999", "page", "page must be a whole number"},
		{"facet_size zero", "facet_size=0", "facet_size", "facet_size must be between 1 and 500"},
		{"facet_size too big", "facet_size=501", "facet_size", "facet_size must be between 1 and 500"},
		{"highlight not boolean", "highlight=yes", "highlight", "highlight must be true or false"},
		{"unknown status", "status=activ", "status", `status "activ" is not one of active, ended, upcoming (did you mean "active"?)`},
		{"unknown kind", "kind=projects", "kind", `(did you mean "project"?)`},
		{"too many filter values", manyCountries(search.MaxFilterValues + 1), "country", "country has 101 values; the limit is 100"},
		{"filter value too long", "partner=" + strings.Repeat("p", 513), "partner", "longer than 512"},
		{"invalid UTF-8", "q=%ff", "q", "not valid UTF-8"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			values, err := url.ParseQuery(test.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseSearchQuery(values, testNow)
			assertInvalid(t, err, test.wantParam, test.wantMsg)
		})
	}
}

func assertInvalid(t *testing.T, err error, wantParam, wantMsg string) {
	t.Helper()
	var inv *search.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error = %v, want a *search.InvalidError", err)
	}
	if inv.Param != wantParam {
		t.Errorf("Param = %q, want %q (message %q)", inv.Param, wantParam, inv.Message)
	}
	if !strings.Contains(inv.Message, wantMsg) {
		t.Errorf("message %q does not contain %q", inv.Message, wantMsg)
	}
}

func TestParseSearchJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		want search.Request
	}{
		{"empty object", `{}`, defaults()},
		{"every field", `{"q":" mining ","country":["Peru","Mexico"],"status":["active"],"from":"2020-01-01","to":"2020-12-31",
			"as_of":"2020-06-01","facets":["sector"],"facet_size":5,"sort":"title","page":2,"per_page":20,"highlight":false}`,
			with(func(r *search.Request) {
				r.Query = "mining"
				r.Filters = map[string][]string{"country": {"Mexico", "Peru"}, "status": {"active"}}
				r.From, r.To, r.AsOf = day("2020-01-01"), day("2020-12-31"), day("2020-06-01")
				r.Facets = []string{"sector"}
				r.FacetSize, r.Sort, r.Page, r.PerPage, r.NoHighlight = 5, "title", 2, 20, true
			})},
		{"empty facets asks for none", `{"facets":[]}`, with(func(r *search.Request) { r.Facets = []string{} })},
		{"null is not given", `{"facets":null,"page":null,"country":null,"q":null}`, defaults()},
		{"empty filter values dropped", `{"country":["", " "]}`, defaults()},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := ParseSearchJSON([]byte(test.body), testNow)
			if err != nil {
				t.Fatalf("ParseSearchJSON(%s): %v", test.body, err)
			}
			if diff := cmp.Diff(test.want, got); diff != "" {
				t.Errorf("ParseSearchJSON(%s) mismatch (-want +got):\n%s", test.body, diff)
			}
		})
	}
}

func TestParseSearchJSONErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantParam string
		wantMsg   string
	}{
		{"unknown field", `{"contry":["Mexico"]}`, "contry", `unknown parameter "contry" (did you mean "country"?)`},
		{"field names are exact", `{"Q":"mining"}`, "Q", `(did you mean "q"?)`},
		{"filter as a string", `{"country":"Mexico"}`, "country", "country must be an array of strings"},
		{"page as a string", `{"page":"2"}`, "page", "page must be a whole number"},
		{"page as a fraction", `{"page":1.5}`, "page", "page must be a whole number"},
		{"highlight as a string", `{"highlight":"no"}`, "highlight", "highlight must be true or false"},
		{"facets as a string", `{"facets":"country"}`, "facets", "facets must be an array of strings"},
		{"comma inside a facet", `{"facets":["country,sector"]}`, "facets", `unknown facet "country,sector"`},
		{"not an object", `["q"]`, "body", "must be a JSON object"},
		{"null body", `null`, "body", "must be a JSON object"},
		{"empty body", ``, "body", "the request body is empty"},
		{"broken JSON", `{"q":`, "body", "not valid JSON"},
		{"trailing data", `{"q":"a"} {}`, "body", "not valid JSON"},
		{"checks like GET", `{"per_page":0}`, "per_page", "per_page must be between 1 and 100"},
		{"bad date", `{"from":"2020-1-1"}`, "from", "YYYY-MM-DD"},
		{"unknown sort", `{"sort":"newest"}`, "sort", "is not one of"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := ParseSearchJSON([]byte(test.body), testNow)
			assertInvalid(t, err, test.wantParam, test.wantMsg)
		})
	}
}

func TestParseSuggestQuery(t *testing.T) {
	tests := []struct {
		query     string
		want      search.SuggestRequest
		wantParam string // set when an error is expected
		wantMsg   string
	}{
		{query: "q=migr", want: search.SuggestRequest{Query: "migr", Limit: search.DefaultSuggestLimit}},
		{query: "q=migr&limit=3", want: search.SuggestRequest{Query: "migr", Limit: 3}},
		{query: "", want: search.SuggestRequest{Limit: search.DefaultSuggestLimit}},
		{query: "q=a&limit=0", wantParam: "limit", wantMsg: "limit must be a whole number between 1 and 20"},
		{query: "q=a&limit=21", wantParam: "limit", wantMsg: "between 1 and 20"},
		{query: "q=a&limit=x", wantParam: "limit", wantMsg: "between 1 and 20"},
		{query: "q=a&q=b", wantParam: "q", wantMsg: "q is given 2 times"},
		{query: "prefix=a", wantParam: "prefix", wantMsg: `(did you mean "q"?)`},
		{query: "q=" + strings.Repeat("x", 513), wantParam: "q", wantMsg: "the limit is 512"},
	}
	for _, test := range tests {
		t.Run(test.query[:min(len(test.query), 20)], func(t *testing.T) {
			values, err := url.ParseQuery(test.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseSuggestQuery(values)
			if test.wantParam != "" {
				assertInvalid(t, err, test.wantParam, test.wantMsg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(test.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// manyCountries is a query string with n different country values.
func manyCountries(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "country=c%d&", i)
	}
	return b.String()
}
