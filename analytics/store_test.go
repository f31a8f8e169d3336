package analytics

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mpower/labor-search/internal/testkit"
)

var start = time.Date(2026, 12, 3, 10, 4, 5, 0, time.UTC)

func mustOpen(t *testing.T, opts Options) *Store {
	t.Helper()
	if opts.FlushInterval == 0 {
		opts.FlushInterval = -1
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// counted is what Queries lists, as query -> searches/zero/relaxed/clicked/clicks.
type row struct {
	Searches, Zero, Relaxed, Clicked, Clicks uint64
}

func counted(t *testing.T, s *Store) map[string]row {
	t.Helper()
	day := s.Today()
	list, total, err := s.Queries(day.AddDate(0, 0, -400), day, FilterAll, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if total != len(list) {
		t.Fatalf("total %d, listed %d", total, len(list))
	}
	out := map[string]row{}
	for _, q := range list {
		out[q.Query] = row{q.Searches, q.ZeroResults, q.Relaxed, q.ClickedSearches, q.Clicks}
	}
	return out
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  Forced   Labour ": "forced labour",
		"MINING\tPeru":       "mining peru",
		"a\x00b":             "a b",
		"   ":                "",
		"Émile":              "émile",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFolding: searches of one session within the window fold into the
// last when one is a prefix of the other; anything else counts.
func TestFolding(t *testing.T) {
	type step struct {
		after   time.Duration // since the previous search
		session string
		query   string
		hits    uint64
	}
	tests := []struct {
		name   string
		steps  []step
		want   map[string]row
		folded float64
	}{
		{"typing folds into the final query",
			[]step{{0, "tab-aaaa", "m", 3}, {300 * time.Millisecond, "tab-aaaa", "mi", 3}, {300 * time.Millisecond, "tab-aaaa", "mining", 2}},
			map[string]row{"mining": {Searches: 1}}, 2},
		{"backspacing folds into the shorter query",
			[]step{{0, "tab-aaaa", "mining peru", 0}, {time.Second, "tab-aaaa", "mining pe", 1}, {time.Second, "tab-aaaa", "mining", 2}},
			map[string]row{"mining": {Searches: 1}}, 2},
		{"the same text again within the window counts once",
			[]step{{0, "tab-aaaa", "Mining", 2}, {time.Second, "tab-aaaa", "mining ", 2}},
			map[string]row{"mining": {Searches: 1}}, 1},
		{"a pause as long as the window counts both",
			[]step{{0, "tab-aaaa", "min", 2}, {3 * time.Second, "tab-aaaa", "mining", 2}},
			map[string]row{"min": {Searches: 1}, "mining": {Searches: 1}}, 0},
		{"each keystroke restarts the window",
			[]step{{0, "tab-aaaa", "m", 2}, {2 * time.Second, "tab-aaaa", "mi", 2}, {2 * time.Second, "tab-aaaa", "min", 2}, {2 * time.Second, "tab-aaaa", "mine", 2}},
			map[string]row{"mine": {Searches: 1}}, 3},
		{"a query that is not a prefix counts the one before",
			[]step{{0, "tab-aaaa", "mining", 2}, {time.Second, "tab-aaaa", "peru", 0}},
			map[string]row{"mining": {Searches: 1}, "peru": {Searches: 1, Zero: 1}}, 0},
		{"other sessions do not fold",
			[]step{{0, "tab-aaaa", "min", 2}, {time.Second, "tab-bbbb", "mining", 2}},
			map[string]row{"min": {Searches: 1}, "mining": {Searches: 1}}, 0},
		{"without a session every search counts",
			[]step{{0, "", "m", 2}, {100 * time.Millisecond, "", "mi", 2}, {100 * time.Millisecond, "", "mi", 2}},
			map[string]row{"m": {Searches: 1}, "mi": {Searches: 2}}, 0},
		{"an empty query counts nothing and leaves the pending one",
			[]step{{0, "tab-aaaa", "mining", 2}, {time.Second, "tab-aaaa", "  ", 9}, {time.Second, "tab-aaaa", "mining peru", 1}},
			map[string]row{"mining peru": {Searches: 1}}, 1},
		{"the outcome is the final query's",
			[]step{{0, "tab-aaaa", "xq", 0}, {time.Second, "tab-aaaa", "x", 4}},
			map[string]row{"x": {Searches: 1}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testkit.NewClock(start)
			reg := prometheus.NewRegistry()
			s := mustOpen(t, Options{Now: c.Now, Registerer: reg})
			for _, st := range tt.steps {
				c.Advance(st.after)
				s.Record(Search{Query: st.query, Session: st.session, Hits: st.hits})
			}
			c.Advance(DefaultFoldWindow)
			if diff := cmp.Diff(tt.want, counted(t, s)); diff != "" {
				t.Errorf("counts mismatch (-want +got):\n%s", diff)
			}
			if got := testutil.ToFloat64(s.metrics.folded); got != tt.folded {
				t.Errorf("folded = %v, want %v", got, tt.folded)
			}
		})
	}
}

// A pending search is not counted until its window passes.
func TestPendingNotCountedBeforeWindow(t *testing.T) {
	c := testkit.NewClock(start)
	s := mustOpen(t, Options{Now: c.Now})
	s.Record(Search{Query: "mining", Session: "tab-aaaa", Hits: 1})
	c.Advance(DefaultFoldWindow - time.Millisecond)
	if got := counted(t, s); len(got) != 0 {
		t.Errorf("counted %v inside the window", got)
	}
	c.Advance(time.Millisecond)
	if diff := cmp.Diff(map[string]row{"mining": {Searches: 1}}, counted(t, s)); diff != "" {
		t.Errorf("after the window (-want +got):\n%s", diff)
	}
}

func TestClicks(t *testing.T) {
	c := testkit.NewClock(start)
	reg := prometheus.NewRegistry()
	s := mustOpen(t, Options{Now: c.Now, Registerer: reg})
	// A click on an early keystroke's id, before the burst is counted,
	// goes to the final query.
	early := s.Record(Search{Query: "mi", Session: "tab-aaaa", Hits: 3})
	late := s.Record(Search{Query: "mining", Session: "tab-aaaa", Hits: 2})
	if early == "" || late == "" || early == late {
		t.Fatalf("ids %q and %q: want two different ids", early, late)
	}
	click := func(id, doc string) string {
		ok, reason := s.Click(id, doc, 1)
		if ok {
			return "counted"
		}
		return reason
	}
	for _, tc := range []struct{ id, doc, want string }{
		{early, "peru-mining", "counted"},
		{late, "peru-mining", ReasonRepeat},
		{late, "mexico-mining", "counted"},
		{"nope", "peru-mining", ReasonUnknownQuery},
	} {
		if got := click(tc.id, tc.doc); got != tc.want {
			t.Errorf("click %s on %s = %s, want %s", tc.doc, tc.id, got, tc.want)
		}
	}
	c.Advance(DefaultFoldWindow)
	if diff := cmp.Diff(map[string]row{"mining": {Searches: 1, Clicked: 1, Clicks: 2}}, counted(t, s)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// After the search is counted a click adds to it directly.
	plain := s.Record(Search{Query: "peru", Hits: 1})
	if got := click(plain, "peru-mining"); got != "counted" {
		t.Fatalf("click = %s", got)
	}
	if got := click(plain, "peru-mining"); got != ReasonRepeat {
		t.Fatalf("second click = %s", got)
	}
	want := map[string]row{"mining": {Searches: 1, Clicked: 1, Clicks: 2}, "peru": {Searches: 1, Clicked: 1, Clicks: 1}}
	if diff := cmp.Diff(want, counted(t, s)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(s.metrics.clicks); got != 3 {
		t.Errorf("clicks metric = %v, want 3", got)
	}
	if got := testutil.ToFloat64(s.metrics.clickedSearches); got != 2 {
		t.Errorf("clicked searches metric = %v, want 2", got)
	}
	// Ids expire.
	c.Advance(DefaultIDLifetime)
	if got := click(plain, "mexico-mining"); got != ReasonUnknownQuery {
		t.Errorf("click after the id's lifetime = %s, want %s", got, ReasonUnknownQuery)
	}
}

func TestMaxIDs(t *testing.T) {
	c := testkit.NewClock(start)
	s := mustOpen(t, Options{Now: c.Now, MaxIDs: 2})
	first := s.Record(Search{Query: "a", Hits: 1})
	s.Record(Search{Query: "b", Hits: 1})
	s.Record(Search{Query: "c", Hits: 1})
	if ok, reason := s.Click(first, "x", 1); ok || reason != ReasonUnknownQuery {
		t.Errorf("click on the oldest of 3 ids with room for 2 = %v %s, want unknown", ok, reason)
	}
}

// Beyond the bound of distinct queries a day, new queries count in the
// day's other totals only; known ones still count on their own.
func TestMaxQueriesPerDay(t *testing.T) {
	for _, path := range []string{"", "file"} {
		t.Run("backend="+map[string]string{"": "memory", "file": "bbolt"}[path], func(t *testing.T) {
			c := testkit.NewClock(start)
			opts := Options{Now: c.Now, MaxQueriesPerDay: 2}
			if path != "" {
				opts.Path = filepath.Join(t.TempDir(), "analytics.db")
			}
			s := mustOpen(t, opts)
			for _, q := range []string{"a", "b"} {
				s.Record(Search{Query: q, Hits: 1})
			}
			_ = s.Settle()
			for _, q := range []string{"c", "a", "d"} {
				s.Record(Search{Query: q, Hits: 0})
			}
			want := map[string]row{"a": {Searches: 2, Zero: 1}, "b": {Searches: 1}}
			if diff := cmp.Diff(want, counted(t, s)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			days, err := s.Summary(s.Today(), s.Today())
			if err != nil {
				t.Fatal(err)
			}
			if got := days[0]; got.Total.Searches != 5 || got.Total.ZeroResults != 3 || got.Other.Searches != 2 {
				t.Errorf("summary %+v, want 5 searches, 3 zero, 2 other", got)
			}
		})
	}
}

// Counts survive Close and Open; days past the bound are dropped.
func TestReopenAndRetention(t *testing.T) {
	c := testkit.NewClock(start)
	path := filepath.Join(t.TempDir(), "analytics.db")
	s, err := Open(Options{Path: path, Now: c.Now, Days: 3, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.Record(Search{Query: "day one", Hits: 1})
	c.Advance(24 * time.Hour)
	id := s.Record(Search{Query: "day two", Session: "tab-aaaa", Hits: 0})
	s.Click(id, "doc", 1)
	// Close counts the search still in its window.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, Options{Path: path, Now: c.Now, Days: 3})
	want := map[string]row{"day one": {Searches: 1}, "day two": {Searches: 1, Zero: 1, Clicked: 1, Clicks: 1}}
	if diff := cmp.Diff(want, counted(t, s)); diff != "" {
		t.Errorf("after reopening (-want +got):\n%s", diff)
	}
	list, _, err := s.Queries(s.Today(), s.Today(), FilterAll, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || !list[0].LastSeen.Equal(start.Add(24*time.Hour)) {
		t.Errorf("today's queries %+v, want day two last seen %s", list, start.Add(24*time.Hour))
	}
	// Two days later "day one" is three days old, past a bound of 3.
	c.Advance(48 * time.Hour)
	if diff := cmp.Diff(map[string]row{"day two": want["day two"]}, counted(t, s)); diff != "" {
		t.Errorf("after retention (-want +got):\n%s", diff)
	}
	_ = s.Close()
	// And it stays dropped on disk.
	s = mustOpen(t, Options{Path: path, Now: c.Now, Days: 90})
	if diff := cmp.Diff(map[string]row{"day two": want["day two"]}, counted(t, s)); diff != "" {
		t.Errorf("after reopening with a longer bound (-want +got):\n%s", diff)
	}
}

func TestFilters(t *testing.T) {
	c := testkit.NewClock(start)
	s := mustOpen(t, Options{Now: c.Now})
	s.Record(Search{Query: "zero", Hits: 0})
	s.Record(Search{Query: "loose", Hits: 2, Relaxed: true})
	s.Record(Search{Query: "loose", Hits: 2})
	id := s.Record(Search{Query: "clicked", Hits: 2})
	s.Click(id, "doc", 1)
	s.Record(Search{Query: "unclicked", Hits: 2})
	names := func(f Filter) []string {
		list, total, err := s.Queries(s.Today(), s.Today(), f, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range list {
			out = append(out, q.Query)
		}
		if total != len(out) {
			t.Errorf("%s: total %d, listed %d", f, total, len(out))
		}
		return out
	}
	for f, want := range map[Filter][]string{
		FilterAll:         {"loose", "clicked", "unclicked", "zero"},
		FilterZeroResults: {"zero"},
		FilterRelaxed:     {"loose"},
		FilterNoClicks:    {"loose", "unclicked"},
	} {
		if diff := cmp.Diff(want, names(f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f, diff)
		}
	}
	list, total, err := s.Queries(s.Today(), s.Today(), FilterAll, 1)
	if err != nil || total != 4 || len(list) != 1 || list[0].Query != "loose" {
		t.Errorf("limit 1: %+v total %d err %v", list, total, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(Options{Path: filepath.Join(dir, "missing", "a.db")}); err == nil {
		t.Error("a file in a missing directory opened")
	}
	if _, err := Open(Options{Days: MaxDays + 1}); err == nil {
		t.Error("days beyond the bound accepted")
	}
	path := filepath.Join(dir, "a.db")
	s, err := Open(Options{Path: path, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(Options{Path: path}); err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Errorf("a file another store holds: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not bolt "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: junk}); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("a file that is not bbolt: %v", err)
	}
}

func TestEncodeCounts(t *testing.T) {
	c := Counts{Searches: 1 << 40, ZeroResults: 3, Relaxed: 0, ClickedSearches: 7, Clicks: 300, LastSeen: start}
	got, ok := decodeCounts(encodeCounts(c))
	if !ok || !got.LastSeen.Equal(c.LastSeen) {
		t.Fatalf("decode = %+v %v", got, ok)
	}
	got.LastSeen = c.LastSeen
	if got != c {
		t.Errorf("round trip %+v, want %+v", got, c)
	}
	if _, ok := decodeCounts([]byte{0xff}); ok {
		t.Error("damaged bytes decoded")
	}
}

// TestConcurrentUse records, clicks and reads from several goroutines
// while the flush loop writes every millisecond (run under -race), and
// loses no count.
func TestConcurrentUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "analytics.db")
	s, err := Open(Options{Path: path, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session := ""
			if w%2 == 0 {
				session = fmt.Sprintf("worker-%04d", w)
			}
			for i := range each {
				// No query is a prefix of the next, so none folds.
				id := s.Record(Search{Query: fmt.Sprintf("w%d q%04d", w, i), Session: session, Hits: uint64(i % 3)})
				if i%10 == 0 {
					s.Click(id, "doc", 1)
				}
				if i%50 == 0 {
					if _, _, err := s.Queries(s.Today(), s.Today(), FilterNoClicks, 5); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, Options{Path: path})
	days, err := s.Summary(s.Today(), s.Today())
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Searches: workers * each, ZeroResults: workers * 67, ClickedSearches: workers * 20, Clicks: workers * 20}
	got := days[0].Total
	got.LastSeen = time.Time{}
	if got != want {
		t.Errorf("totals %+v, want %+v", got, want)
	}
}

// A script cannot inflate one search's clicks beyond the bound.
func TestClicksPerSearchBounded(t *testing.T) {
	s := mustOpen(t, Options{Now: testkit.NewClock(start).Now})
	id := s.Record(Search{Query: "mining", Hits: 5})
	for i := range maxClicksPerSearch {
		if ok, reason := s.Click(id, fmt.Sprintf("doc-%d", i), i+1); !ok {
			t.Fatalf("click %d: %s", i+1, reason)
		}
	}
	if ok, reason := s.Click(id, "one-more", 1); ok || reason != ReasonTooMany {
		t.Errorf("click past the bound = %v %s, want %s", ok, reason, ReasonTooMany)
	}
	if diff := cmp.Diff(map[string]row{"mining": {Searches: 1, Clicked: 1, Clicks: maxClicksPerSearch}}, counted(t, s)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
