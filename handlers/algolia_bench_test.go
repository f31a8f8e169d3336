package handlers_test

// What one InstantSearch keystroke costs with two facets ticked, against
// asking the same three questions as separate searches (what an adapter
// that forwards InstantSearch's extra queries does) and against the main
// question alone:
//
//	go test -run '^$' -bench Algolia ./handlers/
//
// 10,000 generated documents, the engine's caches off, the load test's
// selective and broad query texts. Each query ticks the two countries and
// the sector its own answer offers most. Reported per keystroke:
// algolia-ms (one POST /1/indexes/*/queries of the main query and its two
// counts-only queries), three-ms (the three questions as three GET
// /v1/search), main-ms (the main question alone), and the ratios.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mpower/labor-search/internal/synthetic"
	"github.com/mpower/labor-search/search"
)

// keystroke is one refined page's requests both ways.
type keystroke struct {
	batch string   // the Algolia multi-query body
	v1    []string // the same questions, main first
}

func BenchmarkAlgoliaRefinedPage10k(b *testing.B) {
	g, err := synthetic.NewFromSeeds(1)
	if err != nil {
		b.Fatal(err)
	}
	docs := g.Documents(10000)
	mix, err := synthetic.NewMix(docs, 100, 1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	_, srv := mustBenchService(b, docs)
	client := srv.Client()
	get := func(path string) []byte {
		res, err := client.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
		}
		return body
	}
	post := func(body string) {
		res, err := client.Post(srv.URL+"/1/indexes/*/queries", "text/plain", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("POST %s: %d %s", body, res.StatusCode, out)
		}
	}

	for _, class := range []synthetic.Class{synthetic.Selective, synthetic.Broad} {
		var strokes []keystroke
		for _, q := range mix[class] {
			var resp search.Response
			if err := json.Unmarshal(get("/v1/search?facets=country,sector&facet_size=20&per_page=1&q="+url.QueryEscape(q.Text)), &resp); err != nil {
				b.Fatal(err)
			}
			countries, sectors := resp.Facets["country"], resp.Facets["sector"]
			if len(countries) < 2 || len(sectors) < 1 {
				continue
			}
			c1, c2, s := countries[0].Value, countries[1].Value, sectors[0].Value
			f := func(attr, v string) string { return fmt.Sprintf("%q", attr+":"+v) }
			common := fmt.Sprintf(`"indexName":"projects","query":%q,"maxValuesPerFacet":20,"highlightPreTag":"__ais-highlight__","highlightPostTag":"__/ais-highlight__"`, q.Text)
			batch := `{"requests":[` +
				`{` + common + `,"facets":["country","sector"],"hitsPerPage":10,"page":0,"facetFilters":[[` + f("country", c1) + `,` + f("country", c2) + `],[` + f("sector", s) + `]]},` +
				`{` + common + `,"facets":"country","hitsPerPage":0,"page":0,"analytics":false,"facetFilters":[[` + f("sector", s) + `]]},` +
				`{` + common + `,"facets":"sector","hitsPerPage":0,"page":0,"analytics":false,"facetFilters":[[` + f("country", c1) + `,` + f("country", c2) + `]]}]}`
			base := url.Values{"q": {q.Text}, "facet_size": {"20"}}
			with := func(per string, facets string, filters map[string][]string) string {
				v := url.Values{}
				for k, vs := range base {
					v[k] = vs
				}
				v.Set("per_page", per)
				v.Set("facets", facets)
				for k, vs := range filters {
					v[k] = vs
				}
				return "/v1/search?" + v.Encode()
			}
			strokes = append(strokes, keystroke{batch: batch, v1: []string{
				with("10", "country,sector", map[string][]string{"country": {c1, c2}, "sector": {s}}),
				with("1", "country", map[string][]string{"sector": {s}}),
				with("1", "sector", map[string][]string{"country": {c1, c2}}),
			}})
		}
		if len(strokes) < 10 {
			b.Fatalf("%s: only %d queries offer two countries and a sector", class, len(strokes))
		}
		b.Run(string(class), func(b *testing.B) {
			var algolia, three, main time.Duration
			measure := func(into *time.Duration, f func()) {
				began := time.Now()
				f()
				*into += time.Since(began)
			}
			i := 0
			for b.Loop() {
				k := strokes[i%len(strokes)]
				ways := []func(){
					func() { measure(&algolia, func() { post(k.batch) }) },
					func() {
						measure(&three, func() {
							for _, p := range k.v1 {
								get(p)
							}
						})
					},
					func() { measure(&main, func() { get(k.v1[0]) }) },
				}
				// Rotate the order so no way always runs on a warmer cache.
				for j := range ways {
					ways[(i+j)%len(ways)]()
				}
				i++
			}
			n := float64(i)
			b.ReportMetric(synthetic.Ms(algolia)/n, "algolia-ms/op")
			b.ReportMetric(synthetic.Ms(three)/n, "three-ms/op")
			b.ReportMetric(synthetic.Ms(main)/n, "main-ms/op")
			b.ReportMetric(algolia.Seconds()/three.Seconds(), "algolia/three")
			b.ReportMetric(algolia.Seconds()/main.Seconds(), "algolia/main")
		})
	}
}
