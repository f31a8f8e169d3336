package handlers

import (
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mpower/labor-search/analytics"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/input"
	"github.com/mpower/labor-search/search"
)

// Query analytics: which searches are counted, the click events of the
// search page, and the editors' reports. What a search counts as is
// decided here (page 1 of a query a visitor typed, not analytics=false);
// how searches fold and are kept is the analytics package's.

// Parameters of GET and POST /v1/search that steer analytics, not the
// search.
const (
	paramAnalytics = "analytics"
	paramSession   = "session"
)

// Bounds of the analytics routes.
const (
	MaxEventBodyBytes      = 4 << 10
	defaultReportDays      = 7
	maxReportDays          = 366
	defaultReportLimit     = 20
	maxReportLimit         = 1000
	minSessionLength       = 8
	maxSessionLength       = 64
	maxQueryIDLength       = 64
	eventTypeClick         = "click"
	reasonAnalyticsOff     = "analytics_off"
	analyticsOffMessage    = "query analytics are off on this service"
	paramFilter            = "filter"
	paramEventType         = "type"
	paramEventQueryID      = "query_id"
	paramEventDocumentID   = "document_id"
	paramEventPosition     = "position"
	analyticsDateParamHelp = "a date in the form YYYY-MM-DD (UTC)"
)

// tracking is what a search request says about its own counting.
type tracking struct {
	off     bool   // analytics=false
	session string // "" = none
}

// takeTracking removes analytics and session from a search's query
// parameters, checking them.
func takeTracking(values url.Values) (tracking, error) {
	var t tracking
	for _, name := range []string{paramAnalytics, paramSession} {
		vs := values[name]
		delete(values, name)
		if len(vs) == 0 {
			continue
		}
		if len(vs) > 1 {
			return t, search.Invalid(name, "%s is given %d times; give it once", name, len(vs))
		}
		v := strings.TrimSpace(vs[0])
		if v == "" {
			continue
		}
		var err error
		if name == paramAnalytics {
			t.off, err = parseAnalyticsFlag(v)
		} else {
			t.session, err = checkSession(v)
		}
		if err != nil {
			return t, err
		}
	}
	return t, nil
}

func parseAnalyticsFlag(v string) (off bool, err error) {
	switch strings.ToLower(v) {
	case "true":
		return false, nil
	case "false":
		return true, nil
	}
	return false, search.Invalid(paramAnalytics, "analytics must be true or false, not %q", input.Clip(v))
}

// checkSession refuses a token that is not one the page makes. The token
// is not echoed: it is not to be written anywhere.
func checkSession(v string) (string, error) {
	if !isToken(v, minSessionLength, maxSessionLength) {
		return "", search.Invalid(paramSession, "session must be %d to %d letters, digits, - or _ (a random token the page makes for each tab)", minSessionLength, maxSessionLength)
	}
	return v, nil
}

func isToken(v string, minLen, maxLen int) bool {
	if len(v) < minLen || len(v) > maxLen {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// trackingJSON reads "analytics" and "session" from a JSON search body's
// raw values (taken out by takeFields).
func trackingJSON(taken map[string]json.RawMessage) (tracking, error) {
	var t tracking
	if raw, ok := taken[paramAnalytics]; ok && !isNull(raw) {
		var on bool
		if err := json.Unmarshal(raw, &on); err != nil {
			return t, search.Invalid(paramAnalytics, "analytics must be true or false")
		}
		t.off = !on
	}
	if raw, ok := taken[paramSession]; ok && !isNull(raw) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return t, search.Invalid(paramSession, "session must be a string")
		}
		if s = strings.TrimSpace(s); s != "" {
			var err error
			if t.session, err = checkSession(s); err != nil {
				return t, err
			}
		}
	}
	return t, nil
}

// record counts a search a visitor made and returns its query id, ""
// when it is not counted: analytics off, an empty (browse) query, a page
// after the first (the same search, read on).
func (s *server) record(req search.Request, resp *search.Response, t tracking) string {
	if s.analytics == nil || t.off || req.Page > 1 || strings.TrimSpace(req.Query) == "" {
		return ""
	}
	return s.analytics.Record(analytics.Search{
		Query: req.Query, Session: t.session, Hits: resp.Total, Relaxed: resp.Relaxed != nil,
	})
}

// searchReply is a search's answer with its query id when counted.
type searchReply struct {
	*search.Response
	QueryID string `json:"query_id,omitempty"`
}

// eventReply answers POST /v1/events: 202 whether the event counted or
// not, since a beacon cannot act on an error.
type eventReply struct {
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason,omitempty"`
}

// clickEvent is the body of POST /v1/events.
type clickEvent struct {
	Type       string `json:"type"`
	QueryID    string `json:"query_id"`
	DocumentID string `json:"document_id"`
	Position   *int   `json:"position"`
}

var eventFields = []string{paramEventType, paramEventQueryID, paramEventDocumentID, paramEventPosition}

// eventKind says what an event field must hold, for type errors.
func eventKind(field string) string {
	if field == paramEventPosition {
		return "a whole number (the hit's 1-based rank)"
	}
	return "a string"
}

// postEvent counts a click on a hit. navigator.sendBeacon sends a string
// as text/plain, so that is accepted beside JSON.
func (s *server) postEvent(r *http.Request) (*reply, error) {
	if r.URL.RawQuery != "" {
		return nil, invalid("POST /v1/events takes the event in the JSON body, not the query string")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			return nil, invalid("Content-Type %q is not accepted; send the event as application/json or text/plain (as navigator.sendBeacon sends a string)", input.Clip(ct))
		}
	}
	body, err := readBody(r, MaxEventBodyBytes)
	if err != nil {
		return nil, err
	}
	ev, err := parseEvent(body)
	if err != nil {
		return nil, err
	}
	if s.analytics == nil {
		return &reply{status: http.StatusAccepted, body: eventReply{Reason: reasonAnalyticsOff}}, nil
	}
	counted, reason := s.analytics.Click(ev.QueryID, ev.DocumentID, *ev.Position)
	return &reply{status: http.StatusAccepted, body: eventReply{Accepted: counted, Reason: reason}}, nil
}

func parseEvent(body []byte) (clickEvent, error) {
	var ev clickEvent
	fields, err := input.Object(body, "the event")
	if err != nil {
		return ev, err
	}
	if err := input.CheckNames(fields, eventFields, map[string]string{"id": paramEventDocumentID, "doc": paramEventDocumentID, "queryID": paramEventQueryID, "rank": paramEventPosition}, "field"); err != nil {
		return ev, err
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, input.DecodeError(err, "the event", eventKind)
	}
	switch {
	case ev.Type == "":
		return ev, search.Invalid(paramEventType, `type is missing; the one event type is "click"`)
	case ev.Type != eventTypeClick:
		return ev, search.Invalid(paramEventType, `type %q is not an event type%s; the one event type is "click"`, input.Clip(ev.Type), input.DidYouMean(ev.Type, []string{eventTypeClick}))
	case ev.QueryID == "":
		return ev, search.Invalid(paramEventQueryID, "query_id is missing; send the query_id of the search response the hit was in")
	case !isToken(ev.QueryID, 1, maxQueryIDLength):
		return ev, search.Invalid(paramEventQueryID, "query_id %q is not a query id of a search response", input.Clip(ev.QueryID))
	case strings.TrimSpace(ev.DocumentID) == "":
		return ev, search.Invalid(paramEventDocumentID, "document_id is missing; send the id of the hit clicked")
	case len(ev.DocumentID) > index.MaxIDLength:
		return ev, search.Invalid(paramEventDocumentID, "document_id is longer than %d bytes, the longest id a document may have", index.MaxIDLength)
	case ev.Position == nil:
		return ev, search.Invalid(paramEventPosition, "position is missing; send the hit's 1-based rank in the results")
	case *ev.Position < 1 || *ev.Position > search.MaxDepth:
		return ev, search.Invalid(paramEventPosition, "position must be between 1 (the first hit) and %d", search.MaxDepth)
	}
	return ev, nil
}

// reportRange is the days a report covers.
type reportRange struct {
	from, to time.Time
}

var (
	queriesParams   = []string{paramFrom, paramTo, paramFilter, paramLimit}
	summaryParams   = []string{paramFrom, paramTo}
	analyticsAlias  = map[string]string{"start": paramFrom, "since": paramFrom, "end": paramTo, "until": paramTo, "size": paramLimit, "per_page": paramLimit, "type": paramFilter, "show": paramFilter}
	analyticsOffErr = newError(CodeUnavailable, analyticsOffMessage)
)

// parseReportQuery checks a report's parameters: each known, given once,
// from and to dates no more than maxReportDays apart (default: the last
// defaultReportDays days, today included).
func parseReportQuery(values url.Values, known []string, today time.Time) (reportRange, url.Values, error) {
	var rr reportRange
	if err := input.CheckNames(values, known, analyticsAlias, "parameter"); err != nil {
		return rr, nil, err
	}
	clean := url.Values{}
	for name, vs := range values {
		if len(vs) > 1 {
			return rr, nil, search.Invalid(name, "%s is given %d times; give it once", name, len(vs))
		}
		if v := strings.TrimSpace(vs[0]); v != "" {
			clean.Set(name, v)
		}
	}
	day := func(name string) (time.Time, error) {
		v := clean.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(index.DateLayout, v)
		if err != nil {
			return time.Time{}, search.Invalid(name, "%s %q is not %s", name, input.Clip(v), analyticsDateParamHelp)
		}
		return t, nil
	}
	var err error
	if rr.from, err = day(paramFrom); err != nil {
		return rr, nil, err
	}
	if rr.to, err = day(paramTo); err != nil {
		return rr, nil, err
	}
	switch {
	case rr.from.IsZero() && rr.to.IsZero():
		rr.to = today
		rr.from = today.AddDate(0, 0, -(defaultReportDays - 1))
	case rr.to.IsZero():
		rr.to = today
		if rr.from.After(rr.to) {
			rr.to = rr.from
		}
	case rr.from.IsZero():
		rr.from = rr.to.AddDate(0, 0, -(defaultReportDays - 1))
	}
	if rr.to.Before(rr.from) {
		return rr, nil, search.Invalid(paramTo, "to %s is before from %s", rr.to.Format(index.DateLayout), rr.from.Format(index.DateLayout))
	}
	if days := int(rr.to.Sub(rr.from).Hours()/24) + 1; days > maxReportDays {
		return rr, nil, search.Invalid(paramFrom, "from %s to %s is %d days; a report covers at most %d", rr.from.Format(index.DateLayout), rr.to.Format(index.DateLayout), days, maxReportDays)
	}
	return rr, clean, nil
}

// queryRow is one query of GET /v1/analytics/queries.
type queryRow struct {
	Query        string  `json:"query"`
	Count        uint64  `json:"count"`
	ZeroResults  uint64  `json:"zero_results"`
	Relaxed      uint64  `json:"relaxed"`
	Clicks       uint64  `json:"clicks"`
	ClickThrough float64 `json:"click_through"`
	LastSeen     string  `json:"last_seen"`
}

type queriesReply struct {
	From    string     `json:"from"`
	To      string     `json:"to"`
	Filter  string     `json:"filter"`
	Queries []queryRow `json:"queries"`
	Total   int        `json:"total"`
}

func (s *server) analyticsQueries(r *http.Request) (*reply, error) {
	if s.analytics == nil {
		return nil, analyticsOffErr
	}
	values, err := parseRawQuery(r)
	if err != nil {
		return nil, err
	}
	rr, clean, err := parseReportQuery(values, queriesParams, s.analytics.Today())
	if err != nil {
		return nil, err
	}
	filter := analytics.FilterAll
	if v := clean.Get(paramFilter); v != "" {
		if !slices.Contains(analytics.Filters(), v) {
			return nil, search.Invalid(paramFilter, "filter %q is not one of %s%s", input.Clip(v), strings.Join(analytics.Filters(), ", "), input.DidYouMean(v, analytics.Filters()))
		}
		filter = analytics.Filter(v)
	}
	limit := defaultReportLimit
	if v := clean.Get(paramLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxReportLimit {
			return nil, search.Invalid(paramLimit, "limit must be a whole number between 1 and %d, not %q", maxReportLimit, input.Clip(v))
		}
		limit = n
	}
	list, total, err := s.analytics.Queries(rr.from, rr.to, filter, limit)
	if err != nil {
		return nil, err
	}
	out := queriesReply{
		From: rr.from.Format(index.DateLayout), To: rr.to.Format(index.DateLayout),
		Filter: string(filter), Queries: make([]queryRow, 0, len(list)), Total: total,
	}
	for _, q := range list {
		out.Queries = append(out.Queries, queryRow{
			Query: q.Query, Count: q.Searches, ZeroResults: q.ZeroResults, Relaxed: q.Relaxed,
			Clicks: q.Clicks, ClickThrough: q.ClickThrough(), LastSeen: q.LastSeen.UTC().Format(time.RFC3339),
		})
	}
	return ok(out), nil
}

// dayTotals is one day, or the whole range, of GET /v1/analytics/summary.
type dayTotals struct {
	Date             string  `json:"date,omitempty"`
	Searches         uint64  `json:"searches"`
	ZeroResults      uint64  `json:"zero_results"`
	Relaxed          uint64  `json:"relaxed"`
	ClickedSearches  uint64  `json:"clicked_searches"`
	Clicks           uint64  `json:"clicks"`
	ZeroResultRate   float64 `json:"zero_result_rate"`
	RelaxedRate      float64 `json:"relaxed_rate"`
	ClickThroughRate float64 `json:"click_through_rate"`
	// OtherSearches are the searches of queries beyond the day's bound
	// of distinct queries: in these totals, not in the query list.
	OtherSearches uint64 `json:"other_searches"`
}

func totals(date string, c, other analytics.Counts) dayTotals {
	return dayTotals{
		Date: date, Searches: c.Searches, ZeroResults: c.ZeroResults, Relaxed: c.Relaxed,
		ClickedSearches: c.ClickedSearches, Clicks: c.Clicks,
		ZeroResultRate: c.ZeroResultRate(), RelaxedRate: c.RelaxedRate(), ClickThroughRate: c.ClickThrough(),
		OtherSearches: other.Searches,
	}
}

type summaryReply struct {
	From   string      `json:"from"`
	To     string      `json:"to"`
	Days   []dayTotals `json:"days"`
	Totals dayTotals   `json:"totals"`
	// RetentionDays is how many days are kept: days before are empty.
	RetentionDays int `json:"retention_days"`
}

func (s *server) analyticsSummary(r *http.Request) (*reply, error) {
	if s.analytics == nil {
		return nil, analyticsOffErr
	}
	values, err := parseRawQuery(r)
	if err != nil {
		return nil, err
	}
	rr, _, err := parseReportQuery(values, summaryParams, s.analytics.Today())
	if err != nil {
		return nil, err
	}
	days, err := s.analytics.Summary(rr.from, rr.to)
	if err != nil {
		return nil, err
	}
	out := summaryReply{
		From: rr.from.Format(index.DateLayout), To: rr.to.Format(index.DateLayout),
		Days: make([]dayTotals, 0, len(days)), RetentionDays: s.analytics.Days(),
	}
	var all, other analytics.Counts
	for _, d := range days {
		out.Days = append(out.Days, totals(d.Date.Format(index.DateLayout), d.Total, d.Other))
		all.Add(d.Total)
		other.Add(d.Other)
	}
	out.Totals = totals("", all, other)
	return ok(out), nil
}

// eventsLimited is limited with the events' own bucket, so a page's
// beacons never use up an editor's writes, nor the reverse.
func (s *server) eventsLimited(next apiFunc) apiFunc {
	return func(r *http.Request) (*reply, error) {
		if s.events == nil {
			return next(r)
		}
		if ok, wait := s.events.allow(clientOf(r)); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			e := newError(CodeRateLimited, "too many events from this client; retry in %d s", secs)
			e.retryAfter = secs
			return nil, e
		}
		return next(r)
	}
}
