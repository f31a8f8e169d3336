package synthetic

import (
	"fmt"

	"github.com/mpower/labor-search/seeds"
)

// SeedTaxonomy is the taxonomy of the embedded seed pages: the world's
// countries with their regions, the partner page's sectors, areas and
// implementation partners, and the text of every seed document.
func SeedTaxonomy() (Taxonomy, error) {
	v, err := seeds.Vocabulary()
	if err != nil {
		return Taxonomy{}, fmt.Errorf("seed vocabulary: %w", err)
	}
	docs, err := seeds.Documents()
	if err != nil {
		return Taxonomy{}, fmt.Errorf("seed documents: %w", err)
	}
	tax := Taxonomy{
		Sectors:  v.Sectors,
		Areas:    v.Areas,
		Partners: v.Partners,
	}
	for _, c := range v.Countries {
		tax.Countries = append(tax.Countries, Country{Name: c.Name, Regions: []string{c.Region}})
	}
	for _, d := range docs {
		tax.Texts = append(tax.Texts, d.Title, d.Description)
	}
	return tax, nil
}

// NewFromSeeds builds a generator over the seed taxonomy.
func NewFromSeeds(seed uint64) (*Generator, error) {
	tax, err := SeedTaxonomy()
	if err != nil {
		return nil, err
	}
	return New(tax, seed)
}
