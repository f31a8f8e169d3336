package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mpower/labor-search/search"
)

// reply is what handler logic returns on success: a status and a value to
// encode as JSON, or no body for 204.
type reply struct {
	status int
	body   any
	// header, when set, adds response headers (Search-Seq).
	header http.Header
}

func ok(v any) *reply { return &reply{status: http.StatusOK, body: v} }

// apiFunc is handler logic: it decides, and the adapter writes.
type apiFunc func(r *http.Request) (*reply, error)

// api adapts handler logic to http.Handler. It is the only place a JSON
// answer or an error envelope is written for an API route.
func (s *server) api(f apiFunc) http.Handler { return s.adapt(f, writeError) }

// adapt is api with the error written by writeErr, for routes that speak
// another protocol's error shape.
func (s *server) adapt(f apiFunc, writeErr func(http.ResponseWriter, *apiError)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := f(r)
		if err != nil {
			e, unexpected := classify(err)
			if unexpected {
				// The client sees "internal error"; the cause stays here.
				s.logger.LogAttrs(r.Context(), slog.LevelError, "request failed",
					slog.String("method", r.Method),
					slog.String("route", infoFrom(r.Context()).route),
					slog.String("error", err.Error()))
			}
			writeErr(w, e)
			return
		}
		for k, vs := range res.header {
			w.Header()[k] = vs
		}
		if res.status == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, res.status, res.body)
	})
}

// readBody reads a request body of at most limit bytes; a longer body is a
// *http.MaxBytesError, which classify turns into 413.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
}

// engineCall runs one search or suggestion under the concurrency limit and
// the search deadline, timing the engine alone for search_duration_seconds.
func engineCall[T any](s *server, r *http.Request, call func(ctx context.Context) (T, error)) (T, error) {
	release, err := s.acquire()
	if err != nil {
		var zero T
		return zero, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), s.searchTimeout)
	defer cancel()
	return timed(ctx, call)
}

// acquire takes one of the slots that bound searches in flight, or says
// the service is overloaded; release gives it back.
func (s *server) acquire() (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	default:
		e := newError(CodeOverloaded, "too many searches in flight; retry shortly")
		e.retryAfter = defaultRetryAfterSeconds
		return nil, e
	}
}

// timed runs one engine call under ctx (the engine records its own time
// in search_duration_seconds).
func timed[T any](ctx context.Context, call func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	res, err := call(ctx)
	if err != nil && ctx.Err() != nil {
		// Whatever the engine said, the cause is the deadline (or the client
		// leaving, which nobody will read).
		return zero, context.DeadlineExceeded
	}
	return res, err
}

func (s *server) searchGET(r *http.Request) (*reply, error) {
	values, err := parseRawQuery(r)
	if err != nil {
		return nil, err
	}
	minSeq, err := takeMinSeq(values, r.Header)
	if err != nil {
		return nil, err
	}
	track, err := takeTracking(values)
	if err != nil {
		return nil, err
	}
	req, err := ParseSearchQuery(values, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.awaitSeq(r.Context(), minSeq); err != nil {
		return nil, err
	}
	return s.runSearch(r, req, track)
}

func (s *server) searchPOST(r *http.Request) (*reply, error) {
	if r.URL.RawQuery != "" {
		return nil, invalid("POST /v1/search takes its parameters in the JSON body, not the query string")
	}
	body, err := readBody(r, MaxSearchBodyBytes)
	if err != nil {
		return nil, err
	}
	body, taken, err := takeFields(body, paramMinSeq, paramAnalytics, paramSession)
	if err != nil {
		return nil, err
	}
	minSeq, err := minSeqJSON(taken[paramMinSeq], r.Header)
	if err != nil {
		return nil, err
	}
	track, err := trackingJSON(taken)
	if err != nil {
		return nil, err
	}
	req, err := ParseSearchJSON(body, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.awaitSeq(r.Context(), minSeq); err != nil {
		return nil, err
	}
	return s.runSearch(r, req, track)
}

func (s *server) runSearch(r *http.Request, req search.Request, track tracking) (*reply, error) {
	resp, err := engineCall(s, r, func(ctx context.Context) (*search.Response, error) {
		return s.engine.Search(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	info := infoFrom(r.Context())
	info.hits, info.hasHits = resp.Total, true
	if resp.Hits == nil {
		resp.Hits = []search.Hit{}
	}
	if resp.Facets == nil {
		resp.Facets = map[string][]search.FacetValue{}
	}
	return ok(searchReply{Response: resp, QueryID: s.record(req, resp, track)}), nil
}

func (s *server) suggest(r *http.Request) (*reply, error) {
	values, err := parseRawQuery(r)
	if err != nil {
		return nil, err
	}
	minSeq, err := takeMinSeq(values, r.Header)
	if err != nil {
		return nil, err
	}
	req, err := ParseSuggestQuery(values)
	if err != nil {
		return nil, err
	}
	if err := s.awaitSeq(r.Context(), minSeq); err != nil {
		return nil, err
	}
	resp, err := engineCall(s, r, func(ctx context.Context) (*search.SuggestResponse, error) {
		return s.engine.Suggest(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	if resp.Suggestions == nil {
		resp.Suggestions = []search.Suggestion{}
	}
	info := infoFrom(r.Context())
	info.hits, info.hasHits = uint64(len(resp.Suggestions)), true
	return ok(resp), nil
}

// health is the body of /healthz and /readyz.
type health struct {
	Status    string  `json:"status"`
	Documents *uint64 `json:"documents,omitempty"`
	// AppliedSeq and Lag are where a replica stands in the replicated log.
	AppliedSeq *uint64 `json:"applied_seq,omitempty"`
	Lag        *uint64 `json:"lag,omitempty"`
}

func (s *server) healthz(*http.Request) (*reply, error) {
	return ok(health{Status: "ok"}), nil
}

func (s *server) readyz(r *http.Request) (*reply, error) {
	n, err := s.engine.Count()
	if err != nil {
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("error", err.Error()))
		return nil, newError(CodeNotReady, "the index cannot be read")
	}
	if s.replicator != nil {
		// An empty log is a valid corpus for a replica; being behind it at
		// start is not.
		st := s.replicator.Status()
		if !st.Ready || st.Problem != "" {
			msg := "catching up with the replicated log: applied " + strconv.FormatUint(st.AppliedSeq, 10) + " of " + strconv.FormatUint(st.StreamSeq, 10)
			if st.Problem != "" {
				msg = "applying the replicated log stopped: " + st.Problem
			}
			return nil, newError(CodeNotReady, "%s", msg)
		}
		return ok(health{Status: "ready", Documents: &n, AppliedSeq: &st.AppliedSeq, Lag: &st.Lag}), nil
	}
	if n == 0 {
		return nil, newError(CodeNotReady, "the index holds no documents")
	}
	return ok(health{Status: "ready", Documents: &n}), nil
}

// parseRawQuery parses the query string, refusing one that is malformed
// rather than dropping the bad part as URL.Query would.
func parseRawQuery(r *http.Request) (url.Values, error) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalid("the query string is malformed: %s", err.Error())
	}
	return values, nil
}
