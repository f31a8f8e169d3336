// Command searchd serves full-text search over the labor-rights portal's
// projects, initiatives and partners: the HTTP API, the search page and
// Prometheus metrics. With no flags it indexes the embedded seeds in memory
// and listens on :8080.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mpower/labor-search/analytics"
	"github.com/mpower/labor-search/cmd/internal/loader"
	"github.com/mpower/labor-search/cmd/internal/memory"
	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/replication"
	"github.com/mpower/labor-search/search"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "searchd:", err)
		os.Exit(1)
	}
}

// config is everything flags and the environment set.
type config struct {
	addr            string
	indexDir        string
	apiKey          string
	corsOrigins     []string
	searchTimeout   time.Duration
	shutdownTimeout time.Duration
	maxSearches     int
	writeRate       float64
	writeBurst      int
	responseCache   int
	rebuild         bool
	input           string
	memory          memory.Budget
	// analytics is the query-analytics file: "" for the default (beside
	// the index, or in memory without one), "off" for none.
	analytics           string
	analyticsDays       int
	analyticsMaxQueries int

	// repl is nil on a single node (no -nats).
	repl *replConfig
}

// replConfig is the replicated mode's part of config.
type replConfig struct {
	natsURLs           []string
	natsCreds          string
	natsCA             string
	natsCert           string
	natsKey            string
	stream             string
	streamReplicas     int
	writeTimeout       time.Duration
	consistencyTimeout time.Duration
	readyLag           uint64
	snapshotBucket     string
	snapshotInterval   time.Duration
	// noBootstrap: a replica that never applied the log applies it from
	// the start rather than from a snapshot (always so in memory).
	noBootstrap bool
}

// parseConfig reads flags, each defaulting to its environment variable, so
// a flag wins over the environment and the environment over the default.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("searchd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envDuration := func(name string, def time.Duration) (time.Duration, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s=%q is not a positive duration such as 2s", name, v)
		}
		return d, nil
	}
	searchTimeout, err := envDuration("SEARCH_TIMEOUT", handlers.DefaultSearchTimeout)
	if err != nil {
		return c, err
	}
	shutdownTimeout, err := envDuration("SEARCH_SHUTDOWN_TIMEOUT", 10*time.Second)
	if err != nil {
		return c, err
	}
	maxSearches := handlers.DefaultMaxSearches
	if v := getenv("SEARCH_MAX_SEARCHES"); v != "" {
		if maxSearches, err = strconv.Atoi(v); err != nil || maxSearches < 1 {
			return c, fmt.Errorf("SEARCH_MAX_SEARCHES=%q is not a positive number", v)
		}
	}
	writeRate := float64(handlers.DefaultWriteRate)
	if v := getenv("SEARCH_WRITE_RATE"); v != "" {
		if writeRate, err = strconv.ParseFloat(v, 64); err != nil || writeRate < 0 || math.IsInf(writeRate, 0) || math.IsNaN(writeRate) {
			return c, fmt.Errorf("SEARCH_WRITE_RATE=%q is not a number of writes per second (0 = no limit)", v)
		}
	}
	writeBurst := handlers.DefaultWriteBurst
	if v := getenv("SEARCH_WRITE_BURST"); v != "" {
		if writeBurst, err = strconv.Atoi(v); err != nil || writeBurst < 1 {
			return c, fmt.Errorf("SEARCH_WRITE_BURST=%q is not a positive number", v)
		}
	}
	responseCache := search.DefaultResponseCache
	if v := getenv("SEARCH_RESPONSE_CACHE"); v != "" {
		if responseCache, err = strconv.Atoi(v); err != nil || responseCache < 0 {
			return c, fmt.Errorf("SEARCH_RESPONSE_CACHE=%q is not a number of entries (0 = off)", v)
		}
	}
	writeTimeout, err := envDuration("SEARCH_WRITE_TIMEOUT", replication.DefaultWriteTimeout)
	if err != nil {
		return c, err
	}
	snapshotInterval, err := envDuration("SEARCH_SNAPSHOT_INTERVAL", 0)
	if err != nil {
		return c, err
	}
	consistencyTimeout, err := envDuration("SEARCH_CONSISTENCY_TIMEOUT", handlers.DefaultConsistencyTimeout)
	if err != nil {
		return c, err
	}
	var origins, natsURLs string
	var rc replConfig
	fs.StringVar(&c.addr, "addr", env("SEARCH_ADDR", ":8080"), "listen address `host:port` (SEARCH_ADDR)")
	fs.StringVar(&c.indexDir, "index", env("SEARCH_INDEX", ""), "on-disk index `directory`, created from the seeds when empty; empty = in memory (SEARCH_INDEX)")
	// The key's variable is read after parsing rather than made the flag's
	// default, which the usage text prints (-h, or any bad flag) to stderr
	// and so to the logs.
	fs.StringVar(&c.apiKey, "api-key", "", "`key` that write requests must send as Authorization: Bearer <key>; empty = writes refused (SEARCH_API_KEY; prefer it to the flag, which ps shows)")
	fs.StringVar(&origins, "cors-origins", env("SEARCH_CORS_ORIGINS", ""), "comma-separated `origins` (https://host[:port], or *) whose pages may call the API (SEARCH_CORS_ORIGINS)")
	fs.DurationVar(&c.searchTimeout, "search-timeout", searchTimeout, "deadline of each search and suggestion (SEARCH_TIMEOUT)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", shutdownTimeout, "how long in-flight requests may finish after SIGINT/SIGTERM (SEARCH_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&c.maxSearches, "max-searches", maxSearches, "searches in flight before new ones get 503 (SEARCH_MAX_SEARCHES)")
	fs.Float64Var(&c.writeRate, "write-rate", writeRate, "write requests per second one client IP may make on average; beyond it 429 (SEARCH_WRITE_RATE; 0 = no limit)")
	fs.IntVar(&c.writeBurst, "write-burst", writeBurst, "write requests one client IP may make in a row before -write-rate applies (SEARCH_WRITE_BURST)")
	fs.IntVar(&c.responseCache, "response-cache", responseCache, "whole answers kept for repeated requests, in `entries`; 0 = off, so every answer is computed (SEARCH_RESPONSE_CACHE)")
	fs.BoolVar(&c.rebuild, "rebuild", false, "rebuild the index from the seeds (or -input) before serving")
	fs.StringVar(&c.input, "input", env("SEARCH_INPUT", ""), "JSON Lines `file` (.gz allowed) to build the index from instead of the seeds, when it is empty or with -rebuild (SEARCH_INPUT)")
	analyticsDays, analyticsMaxQueries := analytics.DefaultDays, analytics.DefaultMaxQueriesPerDay
	if v := getenv("SEARCH_ANALYTICS_DAYS"); v != "" {
		if analyticsDays, err = strconv.Atoi(v); err != nil || analyticsDays < 1 || analyticsDays > analytics.MaxDays {
			return c, fmt.Errorf("SEARCH_ANALYTICS_DAYS=%q is not a number of days from 1 to %d", v, analytics.MaxDays)
		}
	}
	if v := getenv("SEARCH_ANALYTICS_MAX_QUERIES"); v != "" {
		if analyticsMaxQueries, err = strconv.Atoi(v); err != nil || analyticsMaxQueries < 1 {
			return c, fmt.Errorf("SEARCH_ANALYTICS_MAX_QUERIES=%q is not a positive number", v)
		}
	}
	fs.StringVar(&c.analytics, "analytics", env("SEARCH_ANALYTICS", ""), "query-analytics `file` (bbolt); default analytics.db in the -index directory, in memory without -index; \"off\" counts nothing (SEARCH_ANALYTICS)")
	fs.IntVar(&c.analyticsDays, "analytics-days", analyticsDays, "days of query analytics kept, today included; older days are dropped (SEARCH_ANALYTICS_DAYS)")
	fs.IntVar(&c.analyticsMaxQueries, "analytics-max-queries", analyticsMaxQueries, "distinct queries kept per day; beyond them a day's new queries count in its totals only (SEARCH_ANALYTICS_MAX_QUERIES)")
	fs.StringVar(&natsURLs, "nats", env("SEARCH_NATS_URL", ""), "comma-separated NATS server `URLs` (nats://host:4222): replicated mode, writes go through a JetStream stream to every replica; empty = a single node (SEARCH_NATS_URL)")
	fs.StringVar(&rc.natsCreds, "nats-creds", env("SEARCH_NATS_CREDS", ""), "NATS credentials `file` (.creds) (SEARCH_NATS_CREDS)")
	fs.StringVar(&rc.natsCA, "nats-ca", env("SEARCH_NATS_CA", ""), "PEM `file` of the CA that signed the NATS servers' certificates; turns on TLS (SEARCH_NATS_CA)")
	fs.StringVar(&rc.natsCert, "nats-cert", env("SEARCH_NATS_CERT", ""), "PEM client certificate `file` for NATS TLS (SEARCH_NATS_CERT)")
	fs.StringVar(&rc.natsKey, "nats-key", env("SEARCH_NATS_KEY", ""), "PEM client key `file` for NATS TLS (SEARCH_NATS_KEY)")
	fs.StringVar(&rc.stream, "stream", env("SEARCH_NATS_STREAM", replication.DefaultStream), "JetStream stream `name` of the replicated writes (SEARCH_NATS_STREAM)")
	fs.IntVar(&rc.streamReplicas, "stream-replicas", replication.DefaultReplicas, "replicas of the stream when searchd creates it; fewer than 3 is warned about")
	fs.DurationVar(&rc.writeTimeout, "write-timeout", writeTimeout, "how long a replicated write may wait for the log's quorum, retries included, before 503 unavailable; above a leader election's 4-9 s (SEARCH_WRITE_TIMEOUT)")
	readyLag := uint64(replication.DefaultReadyLag)
	if v := getenv("SEARCH_READY_LAG"); v != "" {
		if readyLag, err = strconv.ParseUint(v, 10, 64); err != nil || readyLag < 1 {
			return c, fmt.Errorf("SEARCH_READY_LAG=%q is not a positive number of log sequences", v)
		}
	}
	fs.Uint64Var(&rc.readyLag, "ready-lag", readyLag, "how many log sequences behind the stream a starting replica may be and report ready (SEARCH_READY_LAG)")
	fs.StringVar(&rc.snapshotBucket, "snapshot-bucket", env("SEARCH_SNAPSHOT_BUCKET", ""), "JetStream Object Store `bucket` of the index snapshots new replicas start from; default the stream's name + _SNAPSHOTS (SEARCH_SNAPSHOT_BUCKET)")
	fs.DurationVar(&rc.snapshotInterval, "snapshot-interval", snapshotInterval, "how often this replica publishes a snapshot of its index (when the log has moved on) for new replicas to start from, instead of applying the whole log; 0 = never; needs -index (SEARCH_SNAPSHOT_INTERVAL)")
	fs.BoolVar(&rc.noBootstrap, "no-bootstrap", getenv("SEARCH_NO_BOOTSTRAP") == "true", "a new replica applies the whole log instead of starting from the newest index snapshot (SEARCH_NO_BOOTSTRAP=true)")
	fs.DurationVar(&rc.consistencyTimeout, "consistency-timeout", consistencyTimeout, "how long a read with min_seq may wait for this replica to catch up before 503 not_caught_up (SEARCH_CONSISTENCY_TIMEOUT)")
	mem := fs.String("memory", env("SEARCH_MEMORY", ""), "memory `budget` of index writes (-rebuild, bulk loads), such as 512MiB; default 512MiB, or the cgroup limit or GOMEMLIMIT when smaller; set, it is also the Go runtime's soft limit (SEARCH_MEMORY)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.memory, err = memory.Resolve(*mem, getenv, os.ReadFile); err != nil {
		return c, err
	}
	for _, u := range strings.Split(natsURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			rc.natsURLs = append(rc.natsURLs, u)
		}
	}
	if len(rc.natsURLs) > 0 {
		if c.rebuild || c.input != "" {
			return c, errors.New("-rebuild and -input do not apply with -nats: a replica's index is built from the replicated log; seed the log with indexer -publish")
		}
		if rc.writeTimeout <= 0 || rc.consistencyTimeout <= 0 || rc.readyLag < 1 {
			return c, errors.New("-write-timeout, -consistency-timeout and -ready-lag must be positive")
		}
		if rc.snapshotInterval < 0 {
			return c, errors.New("-snapshot-interval must be 0 (never) or positive")
		}
		if rc.snapshotInterval > 0 && c.indexDir == "" {
			return c, errors.New("-snapshot-interval needs -index: a snapshot is a copy of the on-disk index")
		}
		if c.indexDir == "" {
			rc.noBootstrap = true
		}
		c.repl = &rc
	}
	if c.apiKey == "" {
		c.apiKey = getenv("SEARCH_API_KEY")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q; every setting is a flag (see -h)", fs.Args())
	}
	if c.searchTimeout <= 0 || c.shutdownTimeout <= 0 || c.maxSearches < 1 || c.writeBurst < 1 {
		return c, errors.New("-search-timeout, -shutdown-timeout, -max-searches and -write-burst must be positive")
	}
	if c.analyticsDays < 1 || c.analyticsDays > analytics.MaxDays || c.analyticsMaxQueries < 1 {
		return c, fmt.Errorf("-analytics-days must be from 1 to %d and -analytics-max-queries positive", analytics.MaxDays)
	}
	if c.responseCache < 0 {
		return c, errors.New("-response-cache must be 0 (off) or a number of entries")
	}
	if c.writeRate < 0 || math.IsInf(c.writeRate, 0) || math.IsNaN(c.writeRate) {
		return c, errors.New("-write-rate must be 0 (no limit) or a positive number of writes per second")
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.corsOrigins = append(c.corsOrigins, o)
		}
	}
	return c, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return serve(ctx, args, getenv, stdout, stderr, nil)
}

// serve is run with a hook for tests: ready, when set, receives the bound
// address once the service accepts connections.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(addr string)) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, nil))

	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return err
	}
	indexMetrics, err := index.NewMetrics(reg, nil)
	if err != nil {
		return err
	}

	// Writes (a rebuild, a bulk load of up to 32 MiB) go in batches sized
	// to the budget, and a rebuild runs under the build's soft limit (half
	// the budget), as the indexer does. Serving a large index may need more
	// than a build's default budget, so while serving the runtime's soft
	// limit is set only from an explicit budget (-memory, the cgroup,
	// GOMEMLIMIT itself), at three quarters of it.
	plan := memory.PlanFor(cfg.memory.Bytes)
	if cfg.memory.Source != "default" {
		serving := plan
		serving.GCLimit = cfg.memory.Bytes / 4 * 3
		defer serving.Apply()()
	}

	// -rebuild must work on a damaged or outdated index, so it does not
	// read the current one.
	// A replica serves an index of an older mapping version while it
	// replays the log into a new generation; a single node must rebuild.
	ix, err := index.Open(cfg.indexDir, index.Options{
		OnBatch: indexMetrics.ObserveBatch, Fresh: cfg.rebuild && cfg.indexDir != "",
		BatchBytes: plan.BatchBytes, MaxSegmentDocs: plan.MaxSegmentDocs,
		KeepOldMapping: cfg.repl != nil,
	})
	if err != nil {
		if cfg.indexDir != "" && cfg.repl != nil {
			return fmt.Errorf("%w\n"+
				"The index in %s cannot be served. In replicated mode the log holds every document: unless another searchd is using it, "+
				"remove the directory and start again; the replica replays the log into it.", err, cfg.indexDir)
		}
		if cfg.indexDir != "" && !cfg.rebuild {
			return fmt.Errorf("%w\n"+
				"The index in %s cannot be served. Unless another searchd or indexer is using it, rebuild it:\n"+
				"  searchd -index %s -rebuild                       (from the embedded seeds)\n"+
				"  searchd -index %s -rebuild -input FILE.jsonl     (from a JSON Lines file; .gz allowed)\n"+
				"The rebuild replaces what the directory holds; documents written through the API since the last rebuild are lost unless they are in FILE.",
				err, cfg.indexDir, cfg.indexDir, cfg.indexDir)
		}
		return err
	}
	// Closed last, after the server has finished every request.
	defer func() {
		if err := ix.Close(); err != nil {
			logger.Error("close index", slog.String("error", err.Error()))
		}
	}()
	if err := ix.KeptProblem(); err != nil {
		logger.Warn("the editors' synonym sets of the index being rebuilt cannot be read; the rebuilt index will not have them",
			slog.String("error", err.Error()))
	}
	engine, err := seedengine.New(ix, search.Options{ResponseCache: cfg.responseCache, Registerer: reg, RebuildWriters: plan.Writers})
	if err != nil {
		return err
	}
	var count uint64
	var built string
	var replica *runningReplica
	if cfg.repl != nil {
		replica, err = startReplica(ctx, *cfg.repl, engine, reg, logger)
		if err != nil {
			return err
		}
		defer replica.stop()
		if count, err = engine.Count(); err != nil {
			return err
		}
	} else if count, built, err = fill(ctx, engine, cfg, plan); err != nil {
		return err
	}
	if built == "" {
		if t, err := lastModified(cfg.indexDir); err == nil {
			indexMetrics.SetLastUpdate(t)
		}
	}
	// Facet bitmaps and the vocabulary are worked out as soon as the index
	// is open, beside the first requests (which would otherwise each wait
	// for them): about a second at a million documents. Serving starts at
	// once; a search racing the warm-up waits for the part it needs.
	go func() {
		start := time.Now()
		if err := engine.Warm(ctx); err != nil {
			logger.LogAttrs(ctx, slog.LevelWarn, "warm-up stopped", slog.String("error", err.Error()))
			return
		}
		logger.LogAttrs(ctx, slog.LevelInfo, "warm", slog.Float64("seconds", time.Since(start).Round(time.Millisecond).Seconds()))
	}()

	// Opened after the index has its CURRENT file, so the index never
	// sees a directory holding only this file (which it refuses).
	queryAnalytics, analyticsWhere, err := openAnalytics(cfg, reg)
	if err != nil {
		return err
	}
	if queryAnalytics != nil {
		// Closed after the server has finished every request (deferred
		// calls run last first), writing the last second's counts.
		defer func() {
			if err := queryAnalytics.Close(); err != nil {
				logger.Error("close analytics", slog.String("error", err.Error()))
			}
		}()
	}

	hcfg := handlers.Config{
		Engine:        engine,
		Registry:      reg,
		APIKey:        cfg.apiKey,
		CORSOrigins:   cfg.corsOrigins,
		Logger:        logger,
		SearchTimeout: cfg.searchTimeout,
		MaxSearches:   cfg.maxSearches,
		WriteRate:     writeRate(cfg.writeRate),
		WriteBurst:    cfg.writeBurst,
		Version:       version(),
		Analytics:     queryAnalytics,
	}
	if replica != nil {
		hcfg.Replicator = replica
		hcfg.ConsistencyTimeout = cfg.repl.consistencyTimeout
	}
	handler, err := handlers.New(hcfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		// Long enough for a 32 MiB bulk body on a slow link; searches have
		// their own, much shorter deadline.
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   90 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 128 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	addr := ln.Addr().String()
	attrs := []slog.Attr{
		slog.String("addr", addr),
		slog.Uint64("documents", count),
		slog.String("version", version()),
	}
	if built != "" {
		attrs = append(attrs, slog.String("built", built))
	}
	if cfg.indexDir == "" {
		attrs = append(attrs, slog.String("index", "in memory: writes do not survive a restart (use -index DIR)"))
	} else {
		attrs = append(attrs, slog.String("index", cfg.indexDir))
	}
	attrs = append(attrs, slog.String("analytics", analyticsWhere))
	if replica != nil {
		st := replica.Status()
		attrs = append(attrs, slog.String("replication", strings.Join(cfg.repl.natsURLs, ",")+" stream "+cfg.repl.stream),
			slog.Uint64("applied_seq", st.AppliedSeq), slog.Uint64("stream_seq", st.StreamSeq))
	}
	if cfg.apiKey == "" {
		attrs = append(attrs, slog.String("writes", "refused: no API key (set SEARCH_API_KEY)"))
	} else {
		attrs = append(attrs, slog.String("writes", "need the API key"))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "ready", attrs...)
	if ready != nil {
		ready(addr)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", slog.String("grace", cfg.shutdownTimeout.String()))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	// Shutdown stops accepting, then waits for in-flight requests; only
	// then is the index closed (deferred above).
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Connections still busy past the grace period are closed, so
		// nobody waits on a process that is going away.
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut off: %w", cfg.shutdownTimeout, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// analyticsFile is the query-analytics file in an index directory. The
// index leaves files other than its generations alone once it has its
// CURRENT file, and a rebuild swaps generations, so the counts survive
// rebuilds and the indexer.
const analyticsFile = "analytics.db"

// openAnalytics opens the query-analytics store the flags ask for, and
// says where it is for the ready line; nil when -analytics off.
func openAnalytics(cfg config, reg prometheus.Registerer) (*analytics.Store, string, error) {
	path := cfg.analytics
	switch {
	case path == "off":
		return nil, "off", nil
	case path == "" && cfg.indexDir != "":
		path = filepath.Join(cfg.indexDir, analyticsFile)
	}
	store, err := analytics.Open(analytics.Options{
		Path: path, Days: cfg.analyticsDays, MaxQueriesPerDay: cfg.analyticsMaxQueries, Registerer: reg,
	})
	if err != nil {
		return nil, "", err
	}
	where := path
	if path == "" {
		where = "in memory: counts do not survive a restart (use -index DIR or -analytics FILE)"
	}
	return store, where, nil
}

// runningReplica is the replica and the way to stop its apply loop.
type runningReplica struct {
	*replication.Replica
	stop func()
}

// startReplica connects to the log and starts applying it. The returned
// stop ends the apply loop and the connection; serve calls it after the
// HTTP server has finished its requests and before the index closes.
func startReplica(ctx context.Context, cfg replConfig, engine *search.Engine, reg prometheus.Registerer, logger *slog.Logger) (*runningReplica, error) {
	rep, err := replication.New(ctx, replication.Config{
		URLs:             cfg.natsURLs,
		Stream:           cfg.stream,
		Replicas:         cfg.streamReplicas,
		Credentials:      cfg.natsCreds,
		TLSCA:            cfg.natsCA,
		TLSCert:          cfg.natsCert,
		TLSKey:           cfg.natsKey,
		WriteTimeout:     cfg.writeTimeout,
		ReadyLag:         cfg.readyLag,
		SnapshotBucket:   cfg.snapshotBucket,
		SnapshotInterval: cfg.snapshotInterval,
		NoBootstrap:      cfg.noBootstrap,
		Logger:           logger.With(slog.String("component", "replication")),
		Registerer:       reg,
	}, engine)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := rep.Run(runCtx); err != nil {
			// The replica stays up serving what it has; /readyz says why
			// it is not ready, so the orchestrator takes it out.
			logger.LogAttrs(ctx, slog.LevelError, "replication stopped", slog.String("error", err.Error()))
		}
	}()
	return &runningReplica{Replica: rep, stop: func() {
		cancel()
		<-done
		rep.Close()
	}}, nil
}

// writeRate turns the flag's 0 (no limit) into the handlers' negative rate.
func writeRate(perSecond float64) float64 {
	if perSecond == 0 {
		return -1
	}
	return perSecond
}

// fill builds the index from the seeds or -input when it is empty or
// -rebuild asks, and returns the document count and, when it built, what
// from and how fast. The build happens beside the live index and is swapped
// in whole, so a bad input line leaves the index as it was.
func fill(ctx context.Context, engine *search.Engine, cfg config, plan memory.Plan) (count uint64, built string, err error) {
	count, err = engine.Count()
	if err != nil {
		return 0, "", err
	}
	if count > 0 && !cfg.rebuild {
		return count, "", nil
	}
	start := time.Now()
	var src search.Source
	from := "seeds"
	if cfg.input != "" {
		f, err := loader.Open(cfg.input)
		if err != nil {
			return 0, "", err
		}
		defer f.Close()
		src, from = f.Source(plan.BatchBytes), cfg.input
	} else if src, _, err = loader.Seeds(); err != nil {
		return 0, "", err
	}
	restore := plan.Apply()
	n, err := engine.Rebuild(ctx, src)
	restore()
	if err != nil {
		return 0, "", fmt.Errorf("build index from %s: %w", from, err)
	}
	built = fmt.Sprintf("%d documents from %s in %.2fs", n, from, time.Since(start).Seconds())
	count, err = engine.Count()
	return count, built, err
}

// lastModified is the newest modification time of any file under dir: when
// a reopened index was last written.
func lastModified(dir string) (time.Time, error) {
	var last time.Time
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(last) {
			last = info.ModTime()
		}
		return nil
	})
	return last, err
}

// version names the build: the module version when built from a tagged
// module, else the VCS revision, else "devel".
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
