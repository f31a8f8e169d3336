// Package analytics keeps the editors' view of what visitors searched: per
// day and per normalised query, how many searches, how many found nothing,
// how many were answered by relaxing the query, how many were followed by a
// click, and when the query was last seen. Nothing else is kept: no address,
// no user agent, no session beyond the few seconds search-as-you-type
// folding needs, no position or document of a click.
//
// Counts are written in batches (Options.FlushInterval, and on Close), so a
// crash loses at most the last interval's counts: analytics are not
// acknowledged writes. It knows nothing of HTTP or of the index.
package analytics

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the zero values of Options.
const (
	DefaultDays             = 90
	DefaultMaxQueriesPerDay = 10000
	DefaultFoldWindow       = 3 * time.Second
	DefaultFlushInterval    = time.Second
	DefaultIDLifetime       = time.Hour
	DefaultMaxIDs           = 100000
	// MaxDays bounds Options.Days: the reports cover at most a year.
	MaxDays = 366
	// maxSessions bounds the sessions waiting to fold; beyond it a search
	// with a new session counts at once, as one without a session does.
	maxSessions = 100000
	// maxClicksPerSearch bounds the distinct documents one search's clicks
	// are counted for, so a script cannot inflate one query's clicks (a
	// page of results is at most 100 hits; visitors open a few).
	maxClicksPerSearch = 20
	dayLayout          = "2006-01-02"
)

// Options configure a Store.
type Options struct {
	// Path is the bbolt file the counts are kept in; "" keeps them in
	// memory (lost on restart).
	Path string
	// Days is how many days are kept, today included; older days are
	// dropped. 0 = DefaultDays.
	Days int
	// MaxQueriesPerDay bounds the distinct queries kept per day; a new
	// query of a day that has them all is counted in that day's "other"
	// totals only. 0 = DefaultMaxQueriesPerDay.
	MaxQueriesPerDay int
	// FoldWindow is how long a session's search waits for the next
	// keystroke's before it counts. 0 = DefaultFoldWindow.
	FoldWindow time.Duration
	// FlushInterval is how often counts are written; a crash loses at most
	// this much. 0 = DefaultFlushInterval; negative = only when read and on
	// Close (tests).
	FlushInterval time.Duration
	// IDLifetime and MaxIDs bound how long, and how many, query ids a
	// click can name. 0 = the defaults.
	IDLifetime time.Duration
	MaxIDs     int
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Registerer receives the search_analytics_* metrics; nil registers
	// nothing.
	Registerer prometheus.Registerer
}

// Search is one search a visitor made, as the handlers saw it.
type Search struct {
	// Query is the text as typed; the store keeps it normalised.
	Query string
	// Session is the page's token for search-as-you-type folding; "" counts
	// the search at once.
	Session string
	// Hits is how many documents the search found.
	Hits uint64
	// Relaxed says the search was answered by dropping some of its words.
	Relaxed bool
}

// Counts are one query's (or one day's) numbers.
type Counts struct {
	Searches        uint64
	ZeroResults     uint64
	Relaxed         uint64
	ClickedSearches uint64
	Clicks          uint64
	// LastSeen is the latest search's time, to the second; zero for none.
	LastSeen time.Time
}

// Add adds o to c; the later LastSeen wins.
func (c *Counts) Add(o Counts) {
	c.Searches += o.Searches
	c.ZeroResults += o.ZeroResults
	c.Relaxed += o.Relaxed
	c.ClickedSearches += o.ClickedSearches
	c.Clicks += o.Clicks
	if o.LastSeen.After(c.LastSeen) {
		c.LastSeen = o.LastSeen
	}
}

// Store counts searches and clicks. It is safe for concurrent use.
type Store struct {
	opts    Options
	now     func() time.Time
	metrics *metrics

	// flushMu orders flushes, so a read after a flush sees every count
	// made before it.
	flushMu sync.Mutex
	backend backend

	mu       sync.Mutex
	closed   bool
	sessions map[string]*pending
	ids      map[string]*record
	idOrder  []issued // oldest first, from idHead on
	idHead   int
	delta    map[dayQuery]Counts

	stop chan struct{}
	done chan struct{}
}

// dayQuery is one row of the store.
type dayQuery struct{ day, query string }

// record is a counted (or about to be counted) search that clicks can be
// attributed to. Every query id of a folded burst points at the same
// record, so a click on an earlier keystroke's results goes to the query
// finally counted.
type record struct {
	key     dayQuery
	at      time.Time
	hits    uint64
	relaxed bool
	// committed is set once the search is in delta.
	committed bool
	// clicked lists hashes of the documents clicked, for the repeat
	// check: 8 bytes each, whatever the id's length, so the ids kept for
	// clicks stay small in memory. Clicks made before the record is
	// committed wait in it.
	clicked []uint64
}

// pending is a session's search waiting for the fold window to pass.
type pending struct {
	rec      *record
	deadline time.Time
}

type issued struct {
	id string
	at time.Time
}

// Open opens (or creates) the store. Close it to write the last counts.
func Open(opts Options) (*Store, error) {
	if opts.Days == 0 {
		opts.Days = DefaultDays
	}
	if opts.Days < 1 || opts.Days > MaxDays {
		return nil, fmt.Errorf("analytics: days must be between 1 and %d, not %d", MaxDays, opts.Days)
	}
	if opts.MaxQueriesPerDay == 0 {
		opts.MaxQueriesPerDay = DefaultMaxQueriesPerDay
	}
	if opts.MaxQueriesPerDay < 1 {
		return nil, fmt.Errorf("analytics: max queries per day must be positive, not %d", opts.MaxQueriesPerDay)
	}
	if opts.FoldWindow <= 0 {
		opts.FoldWindow = DefaultFoldWindow
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.IDLifetime <= 0 {
		opts.IDLifetime = DefaultIDLifetime
	}
	if opts.MaxIDs <= 0 {
		opts.MaxIDs = DefaultMaxIDs
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("analytics: register metrics: %w", err)
	}
	var b backend
	if opts.Path == "" {
		b = newMemBackend()
	} else if b, err = openBolt(opts.Path); err != nil {
		return nil, err
	}
	s := &Store{
		opts: opts, now: opts.Now, metrics: m, backend: b,
		sessions: map[string]*pending{},
		ids:      map[string]*record{},
		delta:    map[dayQuery]Counts{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	// Days past the bound go at once, not at the first flush.
	if err := s.flush(); err != nil {
		_ = b.close()
		return nil, err
	}
	if opts.FlushInterval > 0 {
		go s.flushLoop()
	} else {
		close(s.done)
	}
	return s, nil
}

// Days is how many days are kept.
func (s *Store) Days() int { return s.opts.Days }

func (s *Store) flushLoop() {
	defer close(s.done)
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// A failed write keeps its counts for the next try; the
			// next read reports the error.
			_ = s.flush()
		}
	}
}

// ErrClosed is returned by reads of a closed store.
var ErrClosed = errors.New("analytics store is closed")

// Close counts the searches still waiting to fold, writes every count and
// closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for id, p := range s.sessions {
		s.commit(p.rec)
		delete(s.sessions, id)
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	err := s.flush()
	if cerr := s.backend.close(); err == nil {
		err = cerr
	}
	return err
}

// Normalize is the form a query is counted under: lower case, control
// characters dropped, runs of spaces made one, no space at either end.
func Normalize(q string) string {
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return unicode.ToLower(r)
	}, q)
	return strings.Join(strings.Fields(q), " ")
}

// Record counts one search and returns the query id a click names it by,
// "" when it is not counted (an empty query, a closed store). With a
// session the search may still fold into a later one of the same session
// (see Options.FoldWindow); its id then stands for the later search.
func (s *Store) Record(sr Search) string {
	q := Normalize(sr.Query)
	if q == "" {
		return ""
	}
	now := s.now()
	id := newID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ""
	}
	key := dayQuery{now.UTC().Format(dayLayout), q}
	if sr.Session != "" {
		if p, ok := s.sessions[sr.Session]; ok {
			// Only this session's window is checked here; the others
			// pass at the next flush.
			if now.Before(p.deadline) && folds(p.rec.key.query, q) {
				// The earlier keystroke's record becomes this search:
				// its ids, and clicks on them, follow.
				p.rec.key, p.rec.at, p.rec.hits, p.rec.relaxed = key, now, sr.Hits, sr.Relaxed
				p.deadline = now.Add(s.opts.FoldWindow)
				s.metrics.folded.Inc()
				s.issue(id, p.rec, now)
				return id
			}
			s.commit(p.rec)
			delete(s.sessions, sr.Session)
		}
	}
	rec := &record{key: key, at: now, hits: sr.Hits, relaxed: sr.Relaxed}
	if sr.Session != "" && len(s.sessions) < maxSessions {
		s.sessions[sr.Session] = &pending{rec: rec, deadline: now.Add(s.opts.FoldWindow)}
	} else {
		s.commit(rec)
	}
	s.issue(id, rec, now)
	return id
}

// folds says a search for b replaces a pending search for a: the visitor
// typed on (a is a prefix of b) or deleted back (b of a), or searched the
// same text again.
func folds(a, b string) bool {
	return strings.HasPrefix(b, a) || strings.HasPrefix(a, b)
}

// Click outcomes that are not counted, as Click reports them.
const (
	ReasonUnknownQuery = "unknown_query_id"
	ReasonRepeat       = "repeat_click"
	ReasonTooMany      = "too_many_clicks"
	ReasonClosed       = "closed"
)

// Click counts a click on a document of the search queryID names. It
// reports why a click is not counted: an unknown or expired id, a document
// of that search already counted, too many documents clicked.
func (s *Store) Click(queryID, documentID string, position int) (counted bool, reason string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ReasonClosed
	}
	s.dropIDs(now)
	rec, ok := s.ids[queryID]
	if !ok {
		s.metrics.events.WithLabelValues(ReasonUnknownQuery).Inc()
		return false, ReasonUnknownQuery
	}
	doc := hashID(documentID)
	for _, d := range rec.clicked {
		if d == doc {
			s.metrics.events.WithLabelValues(ReasonRepeat).Inc()
			return false, ReasonRepeat
		}
	}
	if len(rec.clicked) >= maxClicksPerSearch {
		s.metrics.events.WithLabelValues(ReasonTooMany).Inc()
		return false, ReasonTooMany
	}
	rec.clicked = append(rec.clicked, doc)
	s.metrics.events.WithLabelValues("counted").Inc()
	s.metrics.position.Observe(float64(position))
	if rec.committed {
		c := Counts{Clicks: 1}
		if len(rec.clicked) == 1 {
			c.ClickedSearches = 1
			s.metrics.clickedSearches.Inc()
		}
		s.metrics.clicks.Inc()
		s.addDelta(rec.key, c)
	}
	return true, ""
}

// commit counts a record's search, and the clicks it gathered while it
// waited. Called with mu held.
func (s *Store) commit(rec *record) {
	if rec.committed {
		return
	}
	rec.committed = true
	c := Counts{Searches: 1, LastSeen: rec.at.UTC().Truncate(time.Second)}
	outcome := "results"
	switch {
	case rec.hits == 0:
		c.ZeroResults = 1
		outcome = "zero_results"
	case rec.relaxed:
		c.Relaxed = 1
		outcome = "relaxed"
	}
	s.metrics.searches.WithLabelValues(outcome).Inc()
	if n := len(rec.clicked); n > 0 {
		c.ClickedSearches, c.Clicks = 1, uint64(n)
		s.metrics.clickedSearches.Inc()
		s.metrics.clicks.Add(float64(n))
	}
	s.addDelta(rec.key, c)
}

func (s *Store) addDelta(key dayQuery, c Counts) {
	d := s.delta[key]
	d.Add(c)
	s.delta[key] = d
}

// issue maps id to rec for clicks, dropping ids past their lifetime or the
// bound, oldest first. Called with mu held.
func (s *Store) issue(id string, rec *record, now time.Time) {
	s.ids[id] = rec
	s.idOrder = append(s.idOrder, issued{id, now})
	s.dropIDs(now)
}

func (s *Store) dropIDs(now time.Time) {
	for s.idHead < len(s.idOrder) && (len(s.idOrder)-s.idHead > s.opts.MaxIDs || now.Sub(s.idOrder[s.idHead].at) >= s.opts.IDLifetime) {
		delete(s.ids, s.idOrder[s.idHead].id)
		s.idOrder[s.idHead] = issued{}
		s.idHead++
	}
	// The dropped front is given back once it is half the slice, so each
	// id is copied at most once on average.
	if s.idHead > 0 && s.idHead >= len(s.idOrder)/2 {
		s.idOrder = append(s.idOrder[:0:0], s.idOrder[s.idHead:]...)
		s.idHead = 0
	}
}

// expire counts the sessions' searches whose window has passed. Called
// with mu held.
func (s *Store) expire(now time.Time) {
	for token, p := range s.sessions {
		if !now.Before(p.deadline) {
			s.commit(p.rec)
			delete(s.sessions, token)
		}
	}
	s.dropIDs(now)
}

// Settle counts the searches whose fold window has passed and writes every
// count, so a read after it sees them all.
func (s *Store) Settle() error {
	s.mu.Lock()
	if !s.closed {
		s.expire(s.now())
	}
	s.mu.Unlock()
	return s.flush()
}

// flush writes the counts made since the last flush and drops the days
// past the bound.
func (s *Store) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	if len(s.sessions) > 0 && !s.closed {
		s.expire(s.now())
	}
	batch := s.delta
	s.delta = map[dayQuery]Counts{}
	keepFrom := s.firstDay(s.now())
	s.mu.Unlock()
	if err := s.backend.write(batch, keepFrom, s.opts.MaxQueriesPerDay); err != nil {
		// Put the counts back for the next try.
		s.mu.Lock()
		for k, c := range batch {
			s.addDelta(k, c)
		}
		s.mu.Unlock()
		return fmt.Errorf("write analytics: %w", err)
	}
	return nil
}

// firstDay is the oldest day kept on the day of now.
func (s *Store) firstDay(now time.Time) string {
	return now.UTC().AddDate(0, 0, -(s.opts.Days - 1)).Format(dayLayout)
}

func hashID(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return hex.EncodeToString(b[:])
}
