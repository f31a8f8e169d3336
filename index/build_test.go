package index

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/google/go-cmp/cmp"
)

// toFields is the field map the mapping's reflection walk indexed before
// docBuilder: the reference docBuilder must match.
func toFields(d *Document) (map[string]interface{}, error) {
	src, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode document %q: %w", d.ID, err)
	}
	f := map[string]interface{}{
		FieldKind:        d.Kind,
		FieldTitle:       d.Title,
		FieldDescription: d.Description,
		FieldTitleSort:   d.Title,
		FieldSource:      string(src),
	}
	lists := []struct {
		name   string
		values []string
	}{
		{FieldCountries, d.Countries}, {FieldRegions, d.Regions}, {FieldSectors, d.Sectors},
		{FieldAreas, d.Areas}, {FieldPartners, d.Partners},
	}
	words := []string{d.Title, d.Description}
	for _, l := range lists {
		if len(l.values) == 0 {
			continue
		}
		f[l.name] = l.values
		// Sentences keep list items apart for phrase queries.
		joined := strings.Join(l.values, " . ")
		f[l.name+TextSuffix] = joined
		words = append(words, joined)
	}
	if d.Funder != "" {
		f[FieldFunder] = d.Funder
	}
	f[FieldWords] = strings.Join(words, " . ")
	if d.Start != "" {
		t, err := time.Parse(DateLayout, d.Start)
		if err != nil {
			return nil, fmt.Errorf("document %q: start %q is not a YYYY-MM-DD date", d.ID, d.Start)
		}
		f[FieldStart] = t
		f[FieldStartYear] = d.Start[:4]
	}
	if d.End != "" {
		t, err := time.Parse(DateLayout, d.End)
		if err != nil {
			return nil, fmt.Errorf("document %q: end %q is not a YYYY-MM-DD date", d.ID, d.End)
		}
		f[FieldEnd] = t
	}
	return f, nil
}

// fieldDump is what Bleve indexes of one analysed field.
type fieldDump struct {
	Name      string
	Positions []uint64
	Options   bindex.FieldIndexingOptions
	Stored    string
	Length    int
	Terms     []string // term, frequency and locations, sorted
}

func dumpDocument(d *document.Document) []fieldDump {
	var out []fieldDump
	d.VisitFields(func(f bindex.Field) {
		fd := fieldDump{Name: f.Name(), Positions: f.ArrayPositions(), Options: f.Options()}
		if len(fd.Positions) == 0 {
			fd.Positions = nil
		}
		if f.Options().IsStored() {
			fd.Stored = string(f.Value())
		}
		if f.Options().IsIndexed() {
			f.Analyze()
			fd.Length = f.AnalyzedLength()
			for term, tf := range f.AnalyzedTokenFrequencies() {
				s := fmt.Sprintf("%q x%d", term, tf.Frequency())
				for _, l := range tf.Locations {
					s += fmt.Sprintf(" %d@%d-%d%v", l.Position, l.Start, l.End, l.ArrayPositions)
				}
				fd.Terms = append(fd.Terms, s)
			}
			sort.Strings(fd.Terms)
		}
		out = append(out, fd)
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return fmt.Sprint(out[i].Positions) < fmt.Sprint(out[j].Positions)
	})
	return out
}

// TestBuilderMatchesMapping: docBuilder indexes exactly what the mapping's
// walk of toFields indexed (terms, frequencies, positions, offsets, stored
// values, options), so indexes built either way search alike.
func TestBuilderMatchesMapping(t *testing.T) {
	m, err := NewMapping()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newDocBuilder(m)
	if err != nil {
		t.Fatal(err)
	}
	if b.stem == nil {
		t.Fatal("the text and words analyzers no longer share a chain: each text is analysed twice")
	}
	tests := []Document{
		{ID: "p1", Kind: KindProject, Title: "Côte d'Ivoire's children's work: l'enfant et l'école", Description: "The workers' unions of São Paulo; ILO convention No. 182 (1999) on the worst forms. Élimination du travail des enfants.",
			Countries: []string{"Côte d'Ivoire", "Brazil"}, Regions: []string{"Africa", "Americas"}, Sectors: []string{"Agriculture", "Fishing & aquaculture"},
			Areas: []string{"Child labour"}, Partners: []string{"U.S. Department of Labor", "ILO"}, Funder: "USDOL", Start: "1999-06-17", End: "2004-12-31"},
		{ID: "p2", Kind: KindPartner, Title: "Partner with no lists"},
		{ID: "p3", Kind: KindInitiative, Title: "the and of", Description: "", Start: "2030-01-01"},
		{ID: "p4", Kind: KindProject, Title: "日本 ナイロビ 123abc x-y_z", Description: "a.b.c ... — “quoted” ‘words’ naïve façade", End: "2001-02-03", Countries: []string{"Peru"}},
	}
	for _, d := range tests {
		t.Run(d.ID, func(t *testing.T) {
			fields, err := toFields(&d)
			if err != nil {
				t.Fatal(err)
			}
			want := document.NewDocument(d.ID)
			if err := m.MapDocument(want, fields); err != nil {
				t.Fatal(err)
			}
			got, err := b.build(&d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(dumpDocument(want), dumpDocument(got)); diff != "" {
				t.Errorf("built document mismatch (-mapping +builder):\n%s", diff)
			}
		})
	}
}
