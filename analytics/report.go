package analytics

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Filter picks the queries a report lists.
type Filter string

// The filters of Queries.
const (
	FilterAll         Filter = "all"
	FilterZeroResults Filter = "zero_results"
	FilterRelaxed     Filter = "relaxed"
	// FilterNoClicks lists the queries searched, found something and
	// never clicked: what visitors looked at and did not want.
	FilterNoClicks Filter = "no_clicks"
)

// Filters names every filter, as the API spells them.
func Filters() []string {
	return []string{string(FilterAll), string(FilterZeroResults), string(FilterRelaxed), string(FilterNoClicks)}
}

func (f Filter) keeps(c Counts) bool {
	switch f {
	case FilterZeroResults:
		return c.ZeroResults > 0
	case FilterRelaxed:
		return c.Relaxed > 0
	case FilterNoClicks:
		return c.Searches > 0 && c.Clicks == 0 && c.ZeroResults < c.Searches
	}
	return true
}

// QueryStats is one query's counts over a range of days.
type QueryStats struct {
	Query string
	Counts
}

// ClickThrough is the share of searches followed by at least one click.
func (c Counts) ClickThrough() float64 { return ratio(c.ClickedSearches, c.Searches) }

// ZeroResultRate is the share of searches that found nothing.
func (c Counts) ZeroResultRate() float64 { return ratio(c.ZeroResults, c.Searches) }

// RelaxedRate is the share of searches answered by dropping words.
func (c Counts) RelaxedRate() float64 { return ratio(c.Relaxed, c.Searches) }

// ratio is n/d to four decimals, 0 when d is 0.
func ratio(n, d uint64) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*10000) / 10000
}

// Queries lists the queries counted on the days from to to (inclusive, UTC)
// that filter keeps, most searched first (then by query), at most limit of
// them, and how many there are in all.
func (s *Store) Queries(from, to time.Time, filter Filter, limit int) ([]QueryStats, int, error) {
	if err := s.readable(); err != nil {
		return nil, 0, err
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	sums := map[string]Counts{}
	err := s.backend.scan(day(from), day(to), func(_, q string, c Counts) {
		sum := sums[q]
		sum.Add(c)
		sums[q] = sum
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read analytics: %w", err)
	}
	var out []QueryStats
	for q, c := range sums {
		if filter.keeps(c) {
			out = append(out, QueryStats{Query: q, Counts: c})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Searches != out[j].Searches {
			return out[i].Searches > out[j].Searches
		}
		return out[i].Query < out[j].Query
	})
	total := len(out)
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, total, nil
}

// DayStats is one day's totals. Other is the part of them counted for
// queries beyond the day's bound of distinct queries, which Queries does
// not list.
type DayStats struct {
	Date  time.Time
	Total Counts
	Other Counts
}

// Summary gives the totals of every day from to to (inclusive, UTC), days
// without searches included, oldest first.
func (s *Store) Summary(from, to time.Time) ([]DayStats, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	byDay := map[string]*DayStats{}
	var out []DayStats
	for d := from.UTC(); !d.After(to.UTC()); d = d.AddDate(0, 0, 1) {
		out = append(out, DayStats{Date: d})
	}
	for i := range out {
		byDay[day(out[i].Date)] = &out[i]
	}
	if err := s.backend.scan(day(from), day(to), func(d, _ string, c Counts) {
		if ds := byDay[d]; ds != nil {
			ds.Total.Add(c)
		}
	}); err != nil {
		return nil, fmt.Errorf("read analytics: %w", err)
	}
	if err := s.backend.scanOther(day(from), day(to), func(d string, c Counts) {
		if ds := byDay[d]; ds != nil {
			ds.Total.Add(c)
			ds.Other.Add(c)
		}
	}); err != nil {
		return nil, fmt.Errorf("read analytics: %w", err)
	}
	return out, nil
}

// readable settles the store before a read, so the read sees every
// search whose fold window has passed. The read then holds flushMu, as
// the memory backend is not safe beside a write.
func (s *Store) readable() error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return s.Settle()
}

func day(t time.Time) string { return t.UTC().Format(dayLayout) }

// Today is the day, in UTC, the store counts a search made now under.
func (s *Store) Today() time.Time {
	y, m, d := s.now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
