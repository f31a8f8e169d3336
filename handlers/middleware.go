package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/mpower/labor-search/internal/input"
)

// requestInfo travels in the request context so the outermost middleware,
// which writes the log line and the metrics, learns what the inner layers
// found out: the matched route template and, for searches, the hit count.
type requestInfo struct {
	route   string
	hits    uint64
	hasHits bool
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return info
	}
	// Handlers called without the middleware (never in the service) still
	// get somewhere to write.
	return &requestInfo{}
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// contentSecurityPolicy allows only the service's own scripts, styles and
// images: no inline script, no framing, no plugins.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// middleware wraps the router with, from the outside in: security headers,
// the log line and metrics, panic recovery, and CORS.
func (s *server) middleware(router http.Handler) http.Handler {
	inner := s.cors.wrap(router)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", contentSecurityPolicy)

		info := &requestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		s.serveRecovering(sw, r, inner)

		took := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := info.route
		if route == "" {
			route = routeUnmatched
		}
		s.metrics.observeRequest(route, r.Method, sw.status, took)

		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
			slog.Int("bytes", sw.bytes),
			slog.String("remote", r.RemoteAddr),
		}
		if info.hasHits {
			attrs = append(attrs, slog.Uint64("hits", info.hits))
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		s.logger.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// serveRecovering turns a panic into a logged 500 envelope, so one bad
// request never takes the process down or leaves the client hanging.
func (s *server) serveRecovering(w *statusWriter, r *http.Request, next http.Handler) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.logger.Error("panic serving request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("panic", fmt.Sprint(v)),
			slog.String("stack", string(debug.Stack())))
		if w.status == 0 {
			writeError(w, newError(CodeInternal, "internal error"))
		}
	}()
	next.ServeHTTP(w, r)
}

// corsPolicy lets pages on the configured origins call the API from a
// browser. Credentials (cookies) are never allowed: the API key travels in
// the Authorization header, which a page must send deliberately.
type corsPolicy struct {
	any     bool
	origins map[string]bool
	// replicated adds the replication headers to what browsers may send
	// and read.
	replicated bool
}

func newCORSPolicy(origins []string) (corsPolicy, error) {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			p.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return p, fmt.Errorf("CORS origin %q is not of the form https://host[:port]", o)
		}
		p.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return p, nil
}

func (p corsPolicy) enabled() bool { return p.any || len(p.origins) > 0 }

func (p corsPolicy) allows(origin string) bool {
	return p.any || p.origins[strings.ToLower(origin)]
}

const corsMaxAge = int(DefaultCORSMaxAge / time.Second)

func (p corsPolicy) wrap(next http.Handler) http.Handler {
	if !p.enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed := p.allows(origin)
		allowOrigin := origin
		if p.any {
			allowOrigin = "*"
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			infoFrom(r.Context()).route = routePreflight
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !allowed {
				writeError(w, newError(CodeForbidden, "origin %q may not call this API from a browser", input.Clip(origin)))
				return
			}
			h.Set("Access-Control-Allow-Origin", allowOrigin)
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			if p.replicated {
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Search-Min-Seq")
			} else {
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			}
			h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", allowOrigin)
			if p.replicated {
				h.Set("Access-Control-Expose-Headers", "Retry-After, Search-Seq")
			} else {
				h.Set("Access-Control-Expose-Headers", "Retry-After")
			}
		}
		next.ServeHTTP(w, r)
	})
}
