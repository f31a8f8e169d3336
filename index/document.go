// Package index owns the Bleve index: the document shape, the mapping, opening
// and batching, and the atomic rebuild; and, over each index snapshot, the
// document sets searches run on (matches, filters and facet counts as
// bitmaps, browsing, ranking only the matching documents, the vocabulary,
// highlights). It knows nothing of what a visitor's words mean: search builds
// the queries.
package index

import (
	"fmt"
	"strings"
	"time"
)

// Kinds of documents the portal holds.
const (
	KindProject    = "project"
	KindInitiative = "initiative"
	KindPartner    = "partner"
)

// DateLayout is the only date format documents and requests use.
const DateLayout = "2006-01-02"

// Document is one searchable record, in the same shape as the API's JSON and
// the indexer's JSON Lines input.
type Document struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Countries   []string `json:"countries"`
	Regions     []string `json:"regions"`
	Sectors     []string `json:"sectors"`
	Areas       []string `json:"areas"`
	Partners    []string `json:"partners"`
	Funder      string   `json:"funder,omitempty"`
	// Start and End are YYYY-MM-DD days. Either may be missing: a project
	// with a start only is ongoing, one with an end only has an unknown
	// start, and a document with neither (the initiative and partner pages,
	// catalogue records without dates) has no known period.
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// textBytes is about the size of d's text, what its analysis grows from.
func (d *Document) textBytes() int {
	n := len(d.ID) + len(d.Kind) + len(d.Title) + len(d.Description) + len(d.Funder) + len(d.Start) + len(d.End)
	for _, l := range [][]string{d.Countries, d.Regions, d.Sectors, d.Areas, d.Partners} {
		for _, v := range l {
			n += len(v)
		}
	}
	return n
}

// MaxIDLength bounds document ids so they stay usable in URLs and logs.
const MaxIDLength = 200

// ApplyDefaults fills what a written document may leave out: a document
// without a kind is a project, as nearly every record of a catalogue is.
func (d *Document) ApplyDefaults() {
	if strings.TrimSpace(d.Kind) == "" {
		d.Kind = KindProject
	}
}

// Validate reports the first problem that would make the document unusable.
func (d *Document) Validate() error {
	switch {
	case strings.TrimSpace(d.ID) == "":
		return fmt.Errorf("id is required")
	case len(d.ID) > MaxIDLength:
		return fmt.Errorf("id is longer than %d bytes", MaxIDLength)
	case strings.ContainsAny(d.ID, "/?#\x00"):
		return fmt.Errorf("id %q contains one of / ? # or NUL", d.ID)
	case strings.TrimSpace(d.Title) == "":
		return fmt.Errorf("title is required")
	}
	switch d.Kind {
	case KindProject, KindInitiative, KindPartner:
	case "":
		return fmt.Errorf("kind is required (project, initiative or partner)")
	default:
		return fmt.Errorf("kind %q is not one of project, initiative, partner", d.Kind)
	}
	start, err := parseOptionalDate("start", d.Start)
	if err != nil {
		return err
	}
	end, err := parseOptionalDate("end", d.End)
	if err != nil {
		return err
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		return fmt.Errorf("end %s is before start %s", d.End, d.Start)
	}
	return nil
}

func parseOptionalDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not a YYYY-MM-DD date", name, s)
	}
	return t, nil
}
