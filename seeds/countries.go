package seeds

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// The names of the world's countries come from CLDR (the Unicode Common
// Locale Data Repository, through golang.org/x/text/language/display) in the
// languages of the portal's records; the data files add only what CLDR lacks:
// regions, common alternative names ("Burma", "Ivory Coast", "DRC") and
// demonyms.

// cldrLanguages are the languages whose CLDR country names are matched.
var cldrLanguages = []*display.Dictionary{display.English, display.Spanish, display.French, display.Portuguese}

// countryEntry is one country or territory of countries.tsv with every name
// it goes by.
type countryEntry struct {
	line    int
	code    string   // ISO 3166-1 alpha-2
	name    string   // the canonical name facets show
	regions []string // as written, primary first
	// names are the canonical name, CLDR's names and the data's other names
	// and demonyms, each once (compared normalised), canonical first.
	names []string
}

// loadCountries reads countries.tsv and country_names.tsv and adds CLDR's
// names. A CLDR name listed in cldr_exclusions.txt is left out: it is a
// common word or a name of somewhere else.
func loadCountries() ([]countryEntry, error) {
	recs, err := readRecords(countriesFile, 3, 4)
	if err != nil {
		return nil, err
	}
	excluded := map[string]bool{}
	ex, err := readList(cldrExclusionsFile)
	if err != nil {
		return nil, err
	}
	for _, n := range ex {
		excluded[Normalize(n)] = true
	}
	extra, err := readRecords(countryNamesFile, 3, 3)
	if err != nil {
		return nil, err
	}
	byCode := map[string]int{}
	out := make([]countryEntry, 0, len(recs))
	canonical := map[string]string{} // normalised canonical name -> code
	for _, r := range recs {
		code := r.fields[0]
		region, err := language.ParseRegion(code)
		if err != nil || len(code) != 2 || region.String() != code {
			return nil, fmt.Errorf("%s:%d: %q is not an ISO 3166-1 alpha-2 code", countriesFile, r.line, code)
		}
		// A withdrawn code (FX, ZR, TP, UK …) names no CLDR region of today.
		if canon := region.Canonicalize().String(); canon != code {
			return nil, fmt.Errorf("%s:%d: %s is a withdrawn code; use %s", countriesFile, r.line, code, canon)
		}
		if _, dup := byCode[code]; dup {
			return nil, fmt.Errorf("%s:%d: code %s listed twice", countriesFile, r.line, code)
		}
		byCode[code] = len(out)
		c := countryEntry{line: r.line, code: code, name: r.fields[1], regions: splitPipes(r.fields[2])}
		c.addNames(r.fields[1])
		c.addNames(splitPipes(r.fields[3])...)
		canonical[Normalize(c.name)] = code
		out = append(out, c)
	}
	for _, r := range extra {
		i, ok := byCode[r.fields[0]]
		if !ok {
			return nil, fmt.Errorf("%s:%d: code %q is not in %s", countryNamesFile, r.line, r.fields[0], countriesFile)
		}
		switch r.fields[1] {
		case "en", "es", "fr", "pt":
		default:
			return nil, fmt.Errorf("%s:%d: language %q is not one of en, es, fr, pt", countryNamesFile, r.line, r.fields[1])
		}
		out[i].addNames(splitPipes(r.fields[2])...)
	}
	for i := range out {
		region := language.MustParseRegion(out[i].code)
		for _, d := range cldrLanguages {
			for _, n := range cldrNames(d.Regions().Name(region)) {
				// "Myanmar (Burma)" gives Burma; "RAE de Hong Kong (China)"
				// must not give China to Hong Kong.
				if code, ok := canonical[Normalize(n)]; ok && code != out[i].code {
					continue
				}
				if !excluded[Normalize(n)] {
					out[i].addNames(n)
				}
			}
		}
	}
	return out, nil
}

// cldrNames turns a CLDR display name into the names a text uses: "Congo -
// Kinshasa" is written "Congo-Kinshasa", "Myanmar (Burma)" is both Myanmar
// and Burma, "Bosnia & Herzegovina" also "Bosnia and Herzegovina".
func cldrNames(s string) []string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "’", "'"), " - ", "-")
	var out []string
	if open := strings.Index(s, " ("); open > 0 && strings.HasSuffix(s, ")") {
		out = append(out, s[:open], s[open+2:len(s)-1])
	} else {
		out = append(out, s)
	}
	for _, n := range out {
		if strings.Contains(n, " & ") {
			out = append(out, strings.ReplaceAll(n, " & ", " and "))
		}
	}
	return out
}

// addNames adds names not yet known (compared normalised).
func (c *countryEntry) addNames(names ...string) {
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		key := Normalize(n)
		dup := false
		for _, have := range c.names {
			if Normalize(have) == key {
				dup = true
				break
			}
		}
		if !dup {
			c.names = append(c.names, n)
		}
	}
}
