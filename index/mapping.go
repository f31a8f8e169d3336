package index

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
)

// MappingVersion is stored in every on-disk index. A binary whose mapping
// differs refuses to open an older index instead of silently mis-searching it.
const MappingVersion = "6"

// Analyzer names the search package uses to treat query text exactly as the
// indexed text was treated.
const (
	// AnalyzerText: accents folded per token, possessives, French elided
	// articles ("d'Ivoire", "l'enfant") and stop words removed,
	// Snowball-stemmed (Porter2). Used by every searchable text field.
	AnalyzerText = "text_en"
	// AnalyzerWords: accents folded, lowercased, stop words removed, not
	// stemmed. The "words" field keeps the vocabulary as documents spell it,
	// for typo correction, prefixes, "did you mean" and suggestions.
	AnalyzerWords = "words"
	analyzerSort  = "sort_key"
)

// Indexed field names. Facet fields hold exact keyword values; each has a
// *_text twin analysed for free-text search.
const (
	FieldKind        = "kind"
	FieldTitle       = "title"
	FieldDescription = "description"
	FieldCountries   = "countries"
	FieldRegions     = "regions"
	FieldSectors     = "sectors"
	FieldAreas       = "areas"
	FieldPartners    = "partners"
	FieldFunder      = "funder"
	FieldStart       = "start"
	FieldEnd         = "end"
	FieldStartYear   = "start_year"
	FieldTitleSort   = "title_sort"
	FieldWords       = "words"
	FieldSource      = "source"
	TextSuffix       = "_text"
)

// keywordFields are the exact-valued facet and filter fields.
var keywordFields = []string{FieldKind, FieldCountries, FieldRegions, FieldSectors, FieldAreas, FieldPartners, FieldFunder, FieldStartYear}

// metaTextFields are the analysed twins of the metadata lists.
var metaTextFields = []string{FieldCountries + TextSuffix, FieldRegions + TextSuffix, FieldSectors + TextSuffix, FieldAreas + TextSuffix, FieldPartners + TextSuffix}

// plain is a text field outside _all, without term vectors.
func plain(analyzer string, indexed, stored, docValues bool) *mapping.FieldMapping {
	f := bleve.NewTextFieldMapping()
	if analyzer != "" {
		f.Analyzer = analyzer
	}
	f.Index = indexed
	f.Store = stored
	f.DocValues = docValues
	f.IncludeTermVectors = false
	f.IncludeInAll = false
	return f
}

// NewMapping builds the one explicit mapping every index uses: BM25 scoring,
// a static document mapping (only listed fields are indexed) and no _all field.
func NewMapping() (*mapping.IndexMappingImpl, error) {
	if err := registerAnalysis(); err != nil {
		return nil, err
	}
	im := bleve.NewIndexMapping()
	im.ScoringModel = bindex.BM25Scoring
	if err := im.AddCustomAnalyzer(AnalyzerText, map[string]interface{}{
		"type":      custom.Name,
		"tokenizer": unicode.Name,
		"token_filters": []string{
			foldFilterName, en.PossessiveName, lowercase.Name, fr.ElisionName, en.StopName, stemFilterName,
		},
	}); err != nil {
		return nil, fmt.Errorf("analyzer %s: %w", AnalyzerText, err)
	}
	if err := im.AddCustomAnalyzer(AnalyzerWords, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{foldFilterName, en.PossessiveName, lowercase.Name, fr.ElisionName, en.StopName},
	}); err != nil {
		return nil, fmt.Errorf("analyzer %s: %w", AnalyzerWords, err)
	}
	if err := im.AddCustomAnalyzer(analyzerSort, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     single.Name,
		"token_filters": []string{foldFilterName, lowercase.Name},
	}); err != nil {
		return nil, fmt.Errorf("analyzer %s: %w", analyzerSort, err)
	}
	im.DefaultAnalyzer = AnalyzerText
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false

	dm := bleve.NewDocumentStaticMapping()

	text := func(store, vectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = AnalyzerText
		f.Store = store
		f.IncludeTermVectors = vectors
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	keyword := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = true
		return f
	}
	// Title and description are stored and keep term vectors: highlighting
	// and phrase queries need both and fail silently without them.
	dm.AddFieldMappingsAt(FieldTitle, text(true, true))
	dm.AddFieldMappingsAt(FieldDescription, text(true, true))
	for _, name := range keywordFields {
		dm.AddFieldMappingsAt(name, keyword())
	}
	// The metadata twins are matched word by word; without term vectors
	// indexing takes a sixth less CPU.
	for _, name := range metaTextFields {
		dm.AddFieldMappingsAt(name, text(false, false))
	}
	for _, name := range []string{FieldStart, FieldEnd} {
		f := bleve.NewDateTimeFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = true
		dm.AddFieldMappingsAt(name, f)
	}
	// Title sort key: one lowercased token with doc values, for sorting.
	dm.AddFieldMappingsAt(FieldTitleSort, plain(analyzerSort, true, false, true))
	dm.AddFieldMappingsAt(FieldWords, plain(AnalyzerWords, true, false, false))
	// The whole document as JSON: one stored field to load per hit instead
	// of one per list, and GET /v1/documents/{id} returns exactly what was
	// written.
	dm.AddFieldMappingsAt(FieldSource, plain("", false, true, false))

	// No _all composite field: every query names its fields, and the
	// composite costs a tenth of indexing time.
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())

	im.DefaultMapping = dm
	return im, nil
}
