// Package handlers is the HTTP face of the search service: routes, decoding
// and validating parameters into search requests, JSON out, errors to
// statuses, CORS, security headers, metrics and one log line per request.
// It knows nothing of Bleve; the engine is an interface.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mpower/labor-search/analytics"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// Engine is what the handlers need from the search engine; *search.Engine
// satisfies it, and tests may pass a fake.
type Engine interface {
	Search(ctx context.Context, r search.Request) (*search.Response, error)
	Suggest(ctx context.Context, r search.SuggestRequest) (*search.SuggestResponse, error)
	Get(ctx context.Context, id string) (*index.Document, error)
	Upsert(ctx context.Context, docs []index.Document) error
	// Write writes the valid documents of docs and lists the others; with
	// atomic set, one invalid document keeps them all out.
	Write(ctx context.Context, docs []index.Document, atomic bool) ([]search.Refusal, error)
	Delete(ctx context.Context, id string) error
	Count() (uint64, error)
}

// Defaults for the zero values of Config.
const (
	DefaultSearchTimeout     = 2 * time.Second
	DefaultMaxSearches       = 64
	DefaultCORSMaxAge        = 10 * time.Minute
	MaxSearchBodyBytes       = 1 << 20
	MaxDocumentBodyBytes     = index.MaxDocumentBytes
	MaxBulkBodyBytes         = 32 << 20
	defaultRetryAfterSeconds = 1
)

// Config holds the handlers' dependencies and settings.
type Config struct {
	// Engine answers searches and applies writes. Required.
	Engine Engine
	// Registry receives the HTTP and search metrics and is what /metrics
	// serves. Required; the service owns it (no global registry).
	Registry *prometheus.Registry
	// APIKey guards the write routes. Empty refuses every write with 403.
	APIKey string
	// CORSOrigins are the origins (scheme://host[:port]) whose pages may call
	// the API from a browser; "*" allows any. Empty allows none.
	CORSOrigins []string
	// Logger receives one line per request. Nil discards.
	Logger *slog.Logger
	// SearchTimeout bounds each search and suggestion; 0 = DefaultSearchTimeout.
	SearchTimeout time.Duration
	// MaxSearches bounds searches in flight; beyond it a search is refused
	// with 503 and Retry-After. 0 = DefaultMaxSearches.
	MaxSearches int
	// WriteRate is how many write requests per second one client (IP
	// address, or IPv6 /64) may make on average, and WriteBurst how many in
	// a row; beyond them a write gets 429 with Retry-After. 0 =
	// DefaultWriteRate and DefaultWriteBurst; a negative WriteRate turns the
	// limit off.
	WriteRate  float64
	WriteBurst int
	// Now is the clock, for the default as_of day and the write limit;
	// nil = time.Now.
	Now func() time.Time
	// Version is reported by search_build_info.
	Version string
	// Replicator, when set, takes the writes to the replicated log; reads
	// may then wait for a sequence with min_seq. Nil: a single node.
	Replicator Replicator
	// ConsistencyTimeout bounds a read's wait for min_seq; 0 =
	// DefaultConsistencyTimeout.
	ConsistencyTimeout time.Duration
	// Synonyms keeps the editors' synonym sets of /v1/synonyms; nil: the
	// Engine's, when it keeps them (*search.Engine does).
	Synonyms SynonymStore
	// Analytics counts the searches visitors make and their clicks, and
	// answers /v1/analytics/*. Nil turns query analytics off: no query_id,
	// events are not counted, the reports answer 503. The caller closes it
	// after the server has finished its requests.
	Analytics *analytics.Store
	// EventRate and EventBurst are WriteRate and WriteBurst for POST
	// /v1/events, in a bucket of their own; 0 = the write defaults, a
	// negative EventRate turns the limit off.
	EventRate  float64
	EventBurst int
}

type server struct {
	engine        Engine
	apiKey        string
	logger        *slog.Logger
	searchTimeout time.Duration
	slots         chan struct{}
	now           func() time.Time
	metrics       *httpMetrics
	cors          corsPolicy
	writes        *writeLimiter // nil: no limit
	// replicator is nil on a single node.
	replicator         Replicator
	consistencyTimeout time.Duration
	// synonyms is nil when the service keeps none (a test's fake engine).
	synonyms SynonymStore
	// analytics is nil when query analytics are off.
	analytics *analytics.Store
	events    *writeLimiter // nil: no limit
}

// New builds the service's HTTP handler and registers its metrics on
// cfg.Registry. It fails when a dependency is missing or the metrics are
// already registered there.
func New(cfg Config) (http.Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("handlers: Config.Engine is required")
	}
	if cfg.Registry == nil {
		return nil, errors.New("handlers: Config.Registry is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SearchTimeout <= 0 {
		cfg.SearchTimeout = DefaultSearchTimeout
	}
	if cfg.MaxSearches <= 0 {
		cfg.MaxSearches = DefaultMaxSearches
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ConsistencyTimeout <= 0 {
		cfg.ConsistencyTimeout = DefaultConsistencyTimeout
	}
	cors, err := newCORSPolicy(cfg.CORSOrigins)
	if err != nil {
		return nil, err
	}
	s := &server{
		engine:        cfg.Engine,
		apiKey:        cfg.APIKey,
		logger:        cfg.Logger,
		searchTimeout: cfg.SearchTimeout,
		slots:         make(chan struct{}, cfg.MaxSearches),
		now:           cfg.Now,
		cors:          cors,
		writes:        newWriteLimiter(cfg.WriteRate, cfg.WriteBurst, cfg.Now),

		replicator:         cfg.Replicator,
		consistencyTimeout: cfg.ConsistencyTimeout,
		synonyms:           cfg.Synonyms,
		analytics:          cfg.Analytics,
		events:             newWriteLimiter(cfg.EventRate, cfg.EventBurst, cfg.Now),
	}
	if s.synonyms == nil {
		s.synonyms, _ = cfg.Engine.(SynonymStore)
	}
	s.cors.replicated = cfg.Replicator != nil
	metricsHandler := promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelError),
	})
	routes := s.routes(metricsHandler)
	s.metrics, err = newHTTPMetrics(cfg.Registry, cfg.Engine, cfg.Version, routeSeries(routes))
	if err != nil {
		return nil, fmt.Errorf("handlers: register metrics: %w", err)
	}
	return s.middleware(s.router(routes)), nil
}
