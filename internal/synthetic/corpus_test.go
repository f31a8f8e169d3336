package synthetic

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mpower/labor-search/index"
)

func mustGenerator(tb testing.TB, seed uint64) *Generator {
	tb.Helper()
	g, err := NewFromSeeds(seed)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func mustJSONL(tb testing.TB, seed uint64, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := mustGenerator(tb, seed).WriteJSONL(&buf, n); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	a, b := mustJSONL(t, 7, 2000), mustJSONL(t, 7, 2000)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with seed 7 wrote different bytes")
	}
	if c := mustJSONL(t, 8, 2000); bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 wrote the same bytes")
	}
	// The first documents of a larger corpus are the smaller corpus.
	small := mustJSONL(t, 7, 300)
	if !bytes.HasPrefix(a, small) {
		t.Fatal("the 300-document corpus is not the start of the 2000-document one")
	}
}

func TestShape(t *testing.T) {
	tax, err := SeedTaxonomy()
	if err != nil {
		t.Fatal(err)
	}
	regionsOf := map[string][]string{}
	for _, c := range tax.Countries {
		regionsOf[c.Name] = c.Regions
	}
	inSet := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, v := range list {
			m[v] = true
		}
		return m
	}
	sectors, areas := inSet(tax.Sectors), inSet(tax.Areas)

	const n = 5000
	g, err := New(tax, 3)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.WriteJSONL(&buf, n); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("got %d lines, want %d", len(lines), n)
	}
	ids := map[string]bool{}
	statuses := map[string]int{}
	for i, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var d index.Document
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("line %d does not decode: %v\n%s", i+1, err, line)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("line %d is not a valid document: %v\n%s", i+1, err, line)
		}
		problems := shapeProblems(d, regionsOf, sectors, areas)
		if ids[d.ID] {
			problems = append(problems, "duplicate id")
		}
		ids[d.ID] = true
		if len(problems) > 0 {
			t.Fatalf("line %d: %s\n%s", i+1, strings.Join(problems, "; "), line)
		}
		switch asOf := "2026-01-01"; {
		case asOf < d.Start:
			statuses["upcoming"]++
		case asOf > d.End:
			statuses["ended"]++
		default:
			statuses["active"]++
		}
	}
	// Every status occurs, so status facets and filters have work to do.
	for _, s := range []string{"active", "ended", "upcoming"} {
		if statuses[s] < n/20 {
			t.Errorf("%d of %d documents are %s on 2026-01-01, want at least 5%%", statuses[s], n, s)
		}
	}
}

func shapeProblems(d index.Document, regionsOf map[string][]string, sectors, areas map[string]bool) []string {
	var p []string
	if d.Kind != index.KindProject {
		p = append(p, "kind is "+d.Kind)
	}
	if n := len(strings.Fields(d.Title)); n < minTitleWords || n > maxTitleWords {
		p = append(p, "title has the wrong number of words")
	}
	if n := len(strings.Fields(d.Description)); n < minDescWords || n > maxDescWords {
		p = append(p, "description has the wrong number of words")
	}
	if n := len(d.Countries); n < 1 || n > 3 {
		p = append(p, "not 1-3 countries")
	}
	var wantRegions []string
	for _, c := range d.Countries {
		rs, ok := regionsOf[c]
		if !ok {
			p = append(p, "unknown country "+c)
		}
		for _, r := range rs {
			if !containsString(wantRegions, r) {
				wantRegions = append(wantRegions, r)
			}
		}
	}
	if diff := cmp.Diff(wantRegions, d.Regions); diff != "" {
		p = append(p, "regions are not those of the countries (-want +got):\n"+diff)
	}
	for _, s := range d.Sectors {
		if !sectors[s] {
			p = append(p, "unknown sector "+s)
		}
	}
	for _, a := range d.Areas {
		if !areas[a] {
			p = append(p, "unknown area "+a)
		}
	}
	if len(d.Sectors) == 0 || len(d.Areas) == 0 || len(d.Partners) < 1 || len(d.Partners) > 2 || d.Funder == "" {
		p = append(p, "missing sectors, areas, partners or funder")
	}
	start, _ := time.Parse(index.DateLayout, d.Start)
	end, _ := time.Parse(index.DateLayout, d.End)
	if start.Year() < 2000 || start.Year() > 2030 {
		p = append(p, "start outside 2000-2030")
	}
	if years := end.Sub(start).Hours() / 24 / 365.25; years < 0.99 || years > 6.01 {
		p = append(p, "end is not 1-6 years after start")
	}
	return p
}

// TestVocabularyIsRealistic checks the properties the benchmarks rely on: a
// long tail of rare words (selective queries exist) and a head of words in
// more than a tenth of the documents (broad queries exist).
func TestVocabularyIsRealistic(t *testing.T) {
	const n = 10000
	g := mustGenerator(t, 1)
	df := map[string]int{}
	for i := 0; i < n; i++ {
		d := g.Next()
		seen := map[string]bool{}
		for _, w := range splitWords(d.Title + " " + d.Description) {
			w = strings.ToLower(w)
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	broad, rare := 0, 0
	for _, c := range df {
		switch {
		case c > n/10:
			broad++
		case c <= n/1000:
			rare++
		}
	}
	if len(df) < 20000 || len(df) > 50000 {
		t.Errorf("%d distinct words in %d documents, want 20,000-50,000", len(df), n)
	}
	if broad < 20 {
		t.Errorf("%d words are in more than 10%% of documents, want at least 20", broad)
	}
	if rare < 10000 {
		t.Errorf("%d words are in at most 0.1%% of documents, want at least 10,000", rare)
	}
	// The seed pages' own vocabulary is what visitors type.
	for _, w := range []string{"workers", "labor", "mining", "migrant"} {
		if df[w] == 0 {
			t.Errorf("seed word %q never occurs", w)
		}
	}
}

func TestZipfDrawsInProportion(t *testing.T) {
	weights := []float64{4, 3, 2, 1, 0}
	z := newZipf(weights)
	r := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, len(weights))
	const draws = 200000
	for i := 0; i < draws; i++ {
		counts[z.draw(r)]++
	}
	for i, w := range weights {
		got, want := float64(counts[i])/draws, w/10
		if got < want-0.01 || got > want+0.01 {
			t.Errorf("rank %d drawn %.3f of the time, want %.3f", i, got, want)
		}
	}
}

func TestNewRejectsIncompleteTaxonomy(t *testing.T) {
	full := Taxonomy{
		Countries: []Country{{Name: "Peru", Regions: []string{"South America"}}},
		Sectors:   []string{"Mining"},
		Areas:     []string{"Gender"},
		Texts:     []string{"Workers organise."},
	}
	tests := []struct {
		name   string
		change func(*Taxonomy)
	}{
		{"no countries", func(t *Taxonomy) { t.Countries = nil }},
		{"country without region", func(t *Taxonomy) { t.Countries = []Country{{Name: "Peru"}} }},
		{"no sectors", func(t *Taxonomy) { t.Sectors = nil }},
		{"no areas", func(t *Taxonomy) { t.Areas = nil }},
		{"no words", func(t *Taxonomy) { t.Texts = []string{"12 -- 34"} }},
	}
	if _, err := New(full, 1); err != nil {
		t.Fatalf("complete taxonomy refused: %v", err)
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			tax := full
			test.change(&tax)
			if _, err := New(tax, 1); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	got := splitWords("Workers’ rights (OSH) in the U.S. and México: non-discrimination, 2024.")
	want := []string{"Workers", "rights", "OSH", "in", "the", "and", "México", "non-discrimination"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func BenchmarkWriteJSONL(b *testing.B) {
	g := mustGenerator(b, 1)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := g.WriteJSONL(&buf, 1000); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "docs/s")
}

func TestPercentile(t *testing.T) {
	var l Latencies
	for i := 100; i >= 1; i-- {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for _, test := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := l.Percentile(test.p); got != test.want {
			t.Errorf("p%v = %v, want %v", test.p, got, test.want)
		}
	}
	if got := (Latencies{}).Percentile(99); got != 0 {
		t.Errorf("p99 of nothing = %v, want 0", got)
	}
}
