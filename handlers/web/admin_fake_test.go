package web_test

// contractFake answers the analytics and synonym routes as the issue 15
// contract describes them, in front of the real service, so the editors'
// page can be driven before those APIs exist. Searches through it are
// counted, and a query naming a term of a stored set is searched as the
// set's next term, which is enough for the page to show a synonym working.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type fakeQuery struct {
	Query       string  `json:"query"`
	Count       int     `json:"count"`
	ZeroResults int     `json:"zero_results"`
	Relaxed     int     `json:"relaxed"`
	Clicks      int     `json:"clicks"`
	ClickRate   float64 `json:"click_through"`
	LastSeen    string  `json:"last_seen"`
}

type fakeSet struct {
	ID       string   `json:"id"`
	Root     string   `json:"root,omitempty"`
	Synonyms []string `json:"synonyms"`
}

type contractFake struct {
	key  string
	next http.Handler

	mu      sync.Mutex
	queries map[string]*fakeQuery
	sets    map[string]fakeSet
}

var fakeID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func newContractFake(key string, next http.Handler) *contractFake {
	return &contractFake{key: key, next: next, queries: map[string]*fakeQuery{}, sets: map[string]fakeSet{}}
}

func fakeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"status": status, "code": code, "message": message}})
}

func fakeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *contractFake) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+f.key {
		fakeError(w, http.StatusUnauthorized, "unauthorized", "this route needs a valid API key in the header Authorization: Bearer <key>")
		return false
	}
	return true
}

func (f *contractFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v1/search" && r.Method == http.MethodGet:
		f.search(w, r)
	case p == "/v1/events" && r.Method == http.MethodPost:
		var ev struct {
			QueryID string `json:"query_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		f.mu.Lock()
		e := f.queries[ev.QueryID]
		if e != nil {
			e.Clicks++
			e.ClickRate = float64(e.Clicks) / float64(e.Count)
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fakeJSON(w, map[string]any{"accepted": e != nil})
	case p == "/v1/analytics/queries":
		if f.authorized(w, r) {
			f.listQueries(w, r)
		}
	case p == "/v1/analytics/summary":
		if f.authorized(w, r) {
			f.summary(w, r)
		}
	case p == "/v1/synonyms" && r.Method == http.MethodGet:
		f.mu.Lock()
		sets := make([]fakeSet, 0, len(f.sets))
		for _, s := range f.sets {
			sets = append(sets, s)
		}
		f.mu.Unlock()
		slices.SortFunc(sets, func(a, b fakeSet) int { return strings.Compare(a.ID, b.ID) })
		fakeJSON(w, map[string]any{"synonyms": sets, "total": len(sets)})
	case strings.HasPrefix(p, "/v1/synonyms/"):
		id := strings.TrimPrefix(p, "/v1/synonyms/")
		if (r.Method == http.MethodPut || r.Method == http.MethodDelete) && !f.authorized(w, r) {
			return
		}
		f.synonym(w, r, id)
	default:
		f.next.ServeHTTP(w, r)
	}
}

func (f *contractFake) search(w http.ResponseWriter, r *http.Request) {
	values := r.URL.Query()
	q := strings.ToLower(strings.TrimSpace(values.Get("q")))
	f.mu.Lock()
	for _, s := range f.sets {
		if s.Root != "" && s.Root == q {
			values.Set("q", s.Synonyms[0])
			break
		}
		if i := slices.Index(s.Synonyms, q); s.Root == "" && i >= 0 {
			values.Set("q", s.Synonyms[(i+1)%len(s.Synonyms)])
			break
		}
	}
	f.mu.Unlock()
	counted := values.Get("analytics") != "false" && q != ""
	values.Del("analytics")
	values.Del("session")
	inner := r.Clone(r.Context())
	inner.URL.RawQuery = values.Encode()
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, inner)
	var body map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
		body["query"] = r.URL.Query().Get("q")
		if counted {
			f.mu.Lock()
			e := f.queries[q]
			if e == nil {
				e = &fakeQuery{Query: q}
				f.queries[q] = e
			}
			e.Count++
			if total, _ := body["total"].(float64); total == 0 {
				e.ZeroResults++
			}
			e.LastSeen = time.Now().UTC().Format(time.RFC3339)
			e.ClickRate = float64(e.Clicks) / float64(e.Count)
			f.mu.Unlock()
			body["query_id"] = q
		}
		fakeJSON(w, body)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (f *contractFake) listQueries(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	filter := v.Get("filter")
	limit, _ := strconv.Atoi(v.Get("limit"))
	f.mu.Lock()
	var out []fakeQuery
	for _, e := range f.queries {
		keep := filter == "all" || filter == "" ||
			filter == "zero_results" && e.ZeroResults > 0 ||
			filter == "relaxed" && e.Relaxed > 0 ||
			filter == "no_clicks" && e.Clicks == 0 && e.ZeroResults < e.Count
		if keep {
			out = append(out, *e)
		}
	}
	f.mu.Unlock()
	slices.SortFunc(out, func(a, b fakeQuery) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Query, b.Query)
	})
	total := len(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []fakeQuery{}
	}
	fakeJSON(w, map[string]any{"from": v.Get("from"), "to": v.Get("to"), "filter": filter, "queries": out, "total": total})
}

func (f *contractFake) summary(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	from, err1 := time.Parse(time.DateOnly, v.Get("from"))
	to, err2 := time.Parse(time.DateOnly, v.Get("to"))
	if err1 != nil || err2 != nil || to.Before(from) {
		fakeError(w, http.StatusBadRequest, "invalid_parameter", "from and to must be dates YYYY-MM-DD, from before to")
		return
	}
	today := time.Now().UTC().Format(time.DateOnly)
	f.mu.Lock()
	var searches, zero int
	for _, e := range f.queries {
		searches += e.Count
		zero += e.ZeroResults
	}
	f.mu.Unlock()
	rate := func(n int) float64 {
		if searches == 0 {
			return 0
		}
		return float64(n) / float64(searches)
	}
	type day struct {
		Date           string  `json:"date,omitempty"`
		Searches       int     `json:"searches"`
		ZeroResults    int     `json:"zero_results"`
		Relaxed        int     `json:"relaxed"`
		Clicked        int     `json:"clicked_searches"`
		Clicks         int     `json:"clicks"`
		ZeroResultRate float64 `json:"zero_result_rate"`
		RelaxedRate    float64 `json:"relaxed_rate"`
		ClickRate      float64 `json:"click_through_rate"`
	}
	var days []day
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if d.Format(time.DateOnly) == today {
			days = append(days, day{Date: today, Searches: searches, ZeroResults: zero, ZeroResultRate: rate(zero)})
		} else {
			days = append(days, day{Date: d.Format(time.DateOnly)})
		}
	}
	fakeJSON(w, map[string]any{"from": v.Get("from"), "to": v.Get("to"), "days": days,
		"totals": day{Searches: searches, ZeroResults: zero, ZeroResultRate: rate(zero)}})
}

func (f *contractFake) synonym(w http.ResponseWriter, r *http.Request, rawID string) {
	id, _ := url.PathUnescape(rawID)
	if !fakeID.MatchString(id) {
		fakeError(w, http.StatusBadRequest, "invalid_synonym", fmt.Sprintf("id %q: want 1 to 64 of a-z, 0-9, - and _", id))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		s, ok := f.sets[id]
		if !ok {
			fakeError(w, http.StatusNotFound, "not_found", "no synonym set "+id)
			return
		}
		fakeJSON(w, s)
	case http.MethodPut:
		var body struct {
			Root     string   `json:"root"`
			Synonyms []string `json:"synonyms"`
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		if err := json.Unmarshal(buf.Bytes(), &body); err != nil {
			fakeError(w, http.StatusBadRequest, "invalid_json", err.Error())
			return
		}
		for _, t := range append([]string{body.Root}, body.Synonyms...) {
			if len(t) > 100 {
				fakeError(w, http.StatusBadRequest, "invalid_synonym", fmt.Sprintf("term %.20q… is longer than 100 bytes", t))
				return
			}
		}
		s := fakeSet{ID: id, Root: strings.ToLower(body.Root)}
		for _, t := range body.Synonyms {
			s.Synonyms = append(s.Synonyms, strings.ToLower(t))
		}
		f.sets[id] = s
		fakeJSON(w, s)
	case http.MethodDelete:
		if _, ok := f.sets[id]; !ok {
			fakeError(w, http.StatusNotFound, "not_found", "no synonym set "+id)
			return
		}
		delete(f.sets, id)
		fakeJSON(w, map[string]any{"id": id, "deleted": true})
	default:
		fakeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "no")
	}
}
