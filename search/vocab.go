package search

import (
	"sort"

	"github.com/mpower/labor-search/index"
)

// Expansion bounds: a prefix or a typo turns into at most this many index
// terms, the most frequent first, so a two-letter prefix never becomes
// thousands of clauses.
const (
	maxPrefixTerms = 12
	maxFuzzyTerms  = 6
	// prefixScan bounds how many dictionary entries one prefix may walk.
	prefixScan = 20000
)

// typoBudget is the number of edits a word of n letters tolerates: none
// below 4 letters, one from 4, two from 8 (Typesense and Algolia defaults).
func typoBudget(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 4:
		return 1
	}
	return 0
}

type candidate struct {
	term  string
	count uint64
	dist  int
}

// vocab answers questions about the indexed vocabulary (the unstemmed
// "words" field) for one query, on the snapshot it runs on: completions
// and counts from the snapshot's in-memory Vocabulary, membership and near
// spellings from its dictionaries.
type vocab struct {
	r     *index.Reader
	words *index.Vocabulary
}

func (v *vocab) has(word string) bool { return v.r.HasWord(word) }

func (v *vocab) docFreq(word string) uint64 { return v.words.Count(word) }

// prefix returns the most frequent words starting with p (p itself excluded).
func (v *vocab) prefix(p string, limit int) []candidate {
	var out []candidate
	scanned := 0
	v.words.Prefix(p, func(term string, count uint64) bool {
		scanned++
		if term != p && count > 0 {
			out = append(out, candidate{term: term, count: count})
		}
		return scanned < prefixScan
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].term < out[j].term
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// fuzzy returns indexed words within the word's typo budget, closest and
// then most frequent first (the word itself excluded).
func (v *vocab) fuzzy(word string, limit int) []candidate {
	budget := typoBudget(len([]rune(word)))
	if budget == 0 {
		return nil
	}
	// Bleve's automata count a transposition as one edit, as
	// editDistance does, so the walk asks for the budget itself: asking
	// for one more walked the two-edit neighbourhood of one-typo words.
	// editDistance still orders what it finds.
	var out []candidate
	seen := 0
	// A dictionary that fails part way keeps the spellings found so far:
	// typos only widen a query.
	_ = v.r.NearWords(word, budget, func(term string) bool {
		seen++
		if term != word {
			if d := editDistance(word, term); d <= budget {
				out = append(out, candidate{term: term, dist: d})
			}
		}
		return seen < 1000
	})
	for i := range out {
		out[i].count = v.docFreq(out[i].term)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].dist != out[j].dist {
			return out[i].dist < out[j].dist
		}
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].term < out[j].term
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// split finds the two indexed words a compound is made of ("healthcare" ->
// "health care"), preferring the most balanced split.
func (v *vocab) split(word string) (string, string, bool) {
	r := []rune(word)
	if len(r) < 6 {
		return "", "", false
	}
	best, bestScore := -1, -1
	for i := 3; i <= len(r)-3; i++ {
		a, b := string(r[:i]), string(r[i:])
		if v.has(a) && v.has(b) {
			score := min(i, len(r)-i)
			if score > bestScore {
				best, bestScore = i, score
			}
		}
	}
	if best < 0 {
		return "", "", false
	}
	return string(r[:best]), string(r[best:]), true
}

// editDistance is the optimal-string-alignment distance: a transposition of
// two neighbouring letters counts as one typo, as visitors expect.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n, m := len(ra), len(rb)
	d := make([][]int, n+1)
	for i := range d {
		d[i] = make([]int, m+1)
		d[i][0] = i
	}
	for j := 0; j <= m; j++ {
		d[0][j] = j
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[n][m]
}
