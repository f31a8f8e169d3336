// Package replication carries the service's writes through a NATS JetStream
// stream, the replicated log, to every replica's own Bleve index. A write is
// prepared once on the replica that receives it, published to an R3 stream
// and acknowledged after JetStream's quorum acknowledgement; every replica
// tails the stream from the sequence its index holds and applies the entries
// in batches, the sequence stored in the same Bleve batch as the documents.
//
// The stream has one subject per document and one per editors' synonym set,
// and keeps one message per subject, so it is a compacted log that always
// holds the whole corpus and every set: a replica at any position,
// including an empty one, converges by reading it to the end.
package replication

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// Defaults for the zero values of Config.
const (
	DefaultStream         = "SEARCH"
	DefaultSubjectPrefix  = "search"
	DefaultReplicas       = 3
	DefaultWriteTimeout   = 10 * time.Second
	DefaultAttemptTimeout = 2 * time.Second
	DefaultReadyLag       = 100
	DefaultStartTimeout   = 30 * time.Second
	// MaxBatchDocuments is JetStream's default limit of messages in one
	// atomic batch: a bulk write with more documents is refused whole (413)
	// rather than split, which would break its all-or-nothing promise.
	MaxBatchDocuments = 1000
	// DuplicateWindow is how long a retried write with the same message id
	// (Idempotency-Key) is recognised as a duplicate.
	DuplicateWindow = 10 * time.Minute
	// applyBatchMax bounds the log entries applied in one Bleve batch.
	applyBatchMax = 500
)

// Headers of the stream's messages.
const (
	headerOp = "Search-Op"
	headerID = "Search-Id"
	opDelete = "delete"
	opUpsert = "upsert"
	// A synonym set's put and delete. A replica of a version before them
	// stops at such an entry (an unknown operation) rather than skip it.
	opSynonymsPut    = "synonyms-put"
	opSynonymsDelete = "synonyms-delete"
	headerBatchID    = "Nats-Batch-Id"
	headerBatchSq    = "Nats-Batch-Sequence"
	headerCommit     = "Nats-Batch-Commit"
)

// Config configures a replica.
type Config struct {
	// URLs of the NATS servers (nats://host:port). Required.
	URLs []string
	// Stream is the JetStream stream's name; SubjectPrefix its subjects'
	// first token. Defaults DefaultStream and DefaultSubjectPrefix.
	Stream, SubjectPrefix string
	// Replicas is the stream's replication factor when searchd creates
	// it; an existing stream with fewer is used with a warning. Default 3.
	Replicas int
	// Credentials is a NATS .creds file; TLSCA, TLSCert and TLSKey PEM
	// files for TLS (a CA to trust, a client certificate and its key).
	Credentials, TLSCA, TLSCert, TLSKey string
	// WriteTimeout bounds a write's publication, retries included, and
	// AttemptTimeout each attempt. A leader election takes 4-9 s, so the
	// write timeout should exceed it.
	WriteTimeout, AttemptTimeout time.Duration
	// ReadyLag is how far behind the stream a starting replica may be and
	// already report ready.
	ReadyLag uint64
	// StartTimeout bounds the wait for the stream at start.
	StartTimeout time.Duration
	// SnapshotBucket is the Object Store bucket of the index snapshots new
	// replicas start from; default the stream's name + "_SNAPSHOTS".
	SnapshotBucket string
	// SnapshotInterval, when positive, has the replica publish a snapshot
	// of its index at this interval (give or take a fifth, so replicas
	// started together do not publish together) whenever the log has
	// moved on since the newest one. 0 publishes none.
	SnapshotInterval time.Duration
	// NoBootstrap has a replica that never applied the log replay it from
	// the start instead of starting from the newest snapshot.
	NoBootstrap bool
	// Name names the connection in the servers' monitoring.
	Name string
	// Logger receives the replica's events; nil discards.
	Logger *slog.Logger
	// Registerer receives the replication metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock; nil = time.Now.
	Now func() time.Time
}

// Engine is what a replica needs of the search engine; *search.Engine has it.
type Engine interface {
	Prepare(docs []index.Document, atomic bool) ([]index.Document, []search.Refusal)
	// PrepareSynonymSet checks an editors' synonym set on the replica
	// that receives it, so the log carries sets every replica applies.
	PrepareSynonymSet(set search.SynonymSet) (search.SynonymSet, error)
	Apply(ops []index.Op, seq uint64) error
	AppliedSeq() (uint64, error)
	// NeedsReplay and Replay rebuild an index of another mapping version
	// from the log while it serves.
	NeedsReplay() bool
	Replay(ctx context.Context, src search.ReplaySource) (uint64, error)
	// LogStream and SetLogStream read and record which stream the
	// index's applied sequence counts in.
	LogStream() (string, error)
	SetLogStream(id string) error
	// TakeSnapshot and RestoreSnapshot copy the index for new replicas
	// and start one from such a copy.
	TakeSnapshot() (*index.Snapshot, error)
	RestoreSnapshot(r io.Reader) (index.SnapshotInfo, error)
}

// Replica publishes writes to the stream and applies the stream to the
// local engine.
type Replica struct {
	cfg     Config
	engine  Engine
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	log     *slog.Logger
	metrics *metrics

	applied   atomic.Uint64
	streamSeq atomic.Uint64
	ready     atomic.Bool
	// appliedAt is the stream time of the last applied entry (unix nanos).
	appliedAt atomic.Int64

	// otherStream: the index applied a deleted stream of the same name
	// (see checkLogStream).
	otherStream bool

	// restart asks Run for a new stream consumer (from the watchdog, which
	// sees the applied sequence stand still behind the stream).
	restart chan struct{}

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever applied moves
	problem string
}

// New connects to NATS, creates the stream or checks the existing one's
// settings, and reads where the local index stands. Run must then be called
// to tail the stream.
func New(ctx context.Context, cfg Config, engine Engine) (*Replica, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("replication: no NATS server URL")
	}
	cfg = withDefaults(cfg)
	r := &Replica{cfg: cfg, engine: engine, log: cfg.Logger, changed: make(chan struct{}), restart: make(chan struct{}, 1)}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("replication: register metrics: %w", err)
	}
	r.metrics = m
	applied, err := engine.AppliedSeq()
	if err != nil {
		return nil, err
	}
	r.applied.Store(applied)
	r.metrics.applied.Set(float64(applied))

	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			r.metrics.connected.Set(0)
			r.log.Warn("nats disconnected", slog.Any("error", err))
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			r.metrics.connected.Set(1)
			r.log.Info("nats reconnected", slog.String("server", c.ConnectedUrlRedacted()))
		}),
		nats.ConnectHandler(func(*nats.Conn) { r.metrics.connected.Set(1) }),
	}
	if cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(cfg.Credentials))
	}
	if cfg.TLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCA))
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCert, cfg.TLSKey))
	}
	if cfg.TLSCA != "" || cfg.TLSCert != "" {
		opts = append(opts, nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	nc, err := nats.Connect(strings.Join(cfg.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", strings.Join(cfg.URLs, ","), err)
	}
	if nc.IsConnected() {
		r.metrics.connected.Set(1)
	}
	r.nc = nc
	if r.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := r.ensureStream(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	if err := r.checkLogStream(); err != nil {
		nc.Close()
		return nil, err
	}
	return r, nil
}

// checkLogStream compares the stream the index applied with this one. An
// index that applied a stream deleted since and made anew under the same
// name counts in the old one's sequences: tailing the new one from there
// would skip its first entries, so Run replays the new log instead, and
// none of it counts as applied meanwhile (reads with min_seq wait for the
// replay rather than take the old content for it).
func (r *Replica) checkLogStream() error {
	follows, err := r.engine.LogStream()
	if err != nil {
		return fmt.Errorf("read which stream the index follows: %w", err)
	}
	stream := r.streamCreated()
	if r.applied.Load() == 0 || follows == "" || follows == stream {
		return nil
	}
	r.log.Warn("the index applied another stream of this name, deleted since: the log is replayed into a new generation",
		slog.String("index_stream", follows), slog.String("stream", stream), slog.Uint64("applied_seq", r.applied.Load()))
	r.otherStream = true
	r.setApplied(0)
	return nil
}

func withDefaults(cfg Config) Config {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.SubjectPrefix == "" {
		cfg.SubjectPrefix = DefaultSubjectPrefix
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = DefaultReplicas
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.ReadyLag == 0 {
		cfg.ReadyLag = DefaultReadyLag
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.SnapshotBucket == "" {
		cfg.SnapshotBucket = cfg.Stream + "_SNAPSHOTS"
	}
	if cfg.Name == "" {
		cfg.Name = "searchd"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// StreamConfig is the stream searchd creates: one subject per document and
// per synonym set holding its last message only (a compacted log), never
// trimmed by age, size or count, protected from deletes and purges, atomic
// batches allowed for bulk writes.
func StreamConfig(name, prefix string, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:               name,
		Description:        "labor-search replicated writes: one subject per document and per synonym set, last message kept",
		Subjects:           streamSubjects(prefix),
		Storage:            jetstream.FileStorage,
		Replicas:           replicas,
		Retention:          jetstream.LimitsPolicy,
		MaxMsgsPerSubject:  1,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		Discard:            jetstream.DiscardOld,
		DenyDelete:         true,
		DenyPurge:          true,
		Duplicates:         DuplicateWindow,
		AllowAtomicPublish: true,
	}
}

// streamSubjects are the subjects of the stream: documents, and the
// editors' synonym sets (since the synonyms API).
func streamSubjects(prefix string) []string {
	return []string{prefix + ".doc.*", prefix + ".syn.*"}
}

// missingSubjects are the subjects of want that the stream's subjects do
// not cover, literally or through a wildcard.
func missingSubjects(have, want []string) []string {
	var out []string
	for _, w := range want {
		covered := false
		for _, h := range have {
			covered = covered || subjectCovers(h, w)
		}
		if !covered {
			out = append(out, w)
		}
	}
	return out
}

// subjectCovers says whether the subject filter pattern takes every subject
// that filter w does: "*" covers one token, ">" the rest, a literal token
// only itself.
func subjectCovers(pattern, w string) bool {
	p, t := strings.Split(pattern, "."), strings.Split(w, ".")
	for i, tok := range p {
		if tok == ">" {
			return i < len(t)
		}
		if i >= len(t) || tok != "*" && tok != t[i] {
			return false
		}
	}
	return len(p) == len(t)
}

// checkStream refuses a stream whose settings could lose a document from
// the log (limits that trim it, deletes or purges allowed, more than one
// message per subject kept, which would break nothing but grow forever) and
// lists the settings that are only weaker than ours.
func checkStream(c jetstream.StreamConfig, wantReplicas int) (warnings []string, err error) {
	var bad []string
	if c.MaxAge > 0 {
		bad = append(bad, "max_age is set (documents would expire from the log)")
	}
	if c.MaxBytes > 0 || c.MaxMsgs > 0 {
		bad = append(bad, "max_bytes or max_msgs is set (the log would be trimmed)")
	}
	if c.MaxMsgsPerSubject != 1 {
		bad = append(bad, fmt.Sprintf("max_msgs_per_subject is %d, want 1", c.MaxMsgsPerSubject))
	}
	if !c.DenyDelete || !c.DenyPurge {
		bad = append(bad, "deny_delete and deny_purge must both be set")
	}
	if !c.AllowAtomicPublish {
		bad = append(bad, "allow_atomic is not set (bulk writes need atomic batches)")
	}
	if c.Retention != jetstream.LimitsPolicy {
		bad = append(bad, "retention must be limits")
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("stream %s has unsafe settings: %s", c.Name, strings.Join(bad, "; "))
	}
	if c.Replicas < wantReplicas {
		warnings = append(warnings, fmt.Sprintf("stream %s has %d replicas, fewer than %d: losing one server can lose acknowledged writes", c.Name, c.Replicas, wantReplicas))
	}
	if c.Storage != jetstream.FileStorage {
		warnings = append(warnings, fmt.Sprintf("stream %s is in memory: a restart of all servers loses it", c.Name))
	}
	return warnings, nil
}

// ensureStream creates the stream, or checks the existing one, retrying
// while the cluster elects its leaders (a fresh cluster takes seconds).
func (r *Replica) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout)
	defer cancel()
	want := StreamConfig(r.cfg.Stream, r.cfg.SubjectPrefix, r.cfg.Replicas)
	var last error
	for {
		actx, acancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		s, err := r.js.Stream(actx, r.cfg.Stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			s, err = r.js.CreateStream(actx, want)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				s, err = r.js.Stream(actx, r.cfg.Stream) // another replica created it
			}
		}
		acancel()
		if err == nil {
			info := s.CachedInfo()
			warnings, err := checkStream(info.Config, r.cfg.Replicas)
			if err != nil {
				return err
			}
			if missing := missingSubjects(info.Config.Subjects, want.Subjects); len(missing) > 0 {
				// A stream created before the synonyms API: the new
				// subjects are added in place, every entry kept.
				if s, err = r.addSubjects(ctx, info.Config, missing); err != nil {
					return err
				}
				info = s.CachedInfo()
			}
			for _, w := range warnings {
				r.log.Warn("stream settings", slog.String("warning", w))
			}
			r.stream = s
			r.streamSeq.Store(info.State.LastSeq)
			r.updateLag()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("stream %s on %s not available within %s: %w", r.cfg.Stream, strings.Join(r.cfg.URLs, ","), r.cfg.StartTimeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// addSubjects updates the stream to take the missing subjects too.
func (r *Replica) addSubjects(ctx context.Context, c jetstream.StreamConfig, missing []string) (jetstream.Stream, error) {
	c.Subjects = append(append([]string(nil), c.Subjects...), missing...)
	var last error
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		s, err := r.js.UpdateStream(actx, c)
		cancel()
		if err == nil {
			r.log.Info("stream subjects added", slog.String("stream", c.Name), slog.String("subjects", strings.Join(missing, ",")))
			return s, nil
		}
		last = err
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.Code < 500 || !sleep(ctx, backoff(attempt)) {
			break
		}
	}
	return nil, fmt.Errorf("stream %s takes the subjects %s but not %s, which this version writes synonym sets to, and adding them failed: %w; add them to the stream (nats stream edit %s --subjects) or give searchd the right to update it",
		c.Name, strings.Join(c.Subjects[:len(c.Subjects)-len(missing)], ","), strings.Join(missing, ","), last, c.Name)
}

// Close drains nothing: writes in flight fail, and the log keeps what was
// acknowledged.
func (r *Replica) Close() { r.nc.Close() }

// Status is where the replica stands.
func (r *Replica) Status() search.ReplicaStatus {
	applied, last := r.applied.Load(), r.streamSeq.Load()
	st := search.ReplicaStatus{AppliedSeq: applied, StreamSeq: last, Ready: r.ready.Load()}
	if last > applied {
		st.Lag = last - applied
	}
	r.mu.Lock()
	st.Problem = r.problem
	r.mu.Unlock()
	if st.Problem != "" {
		st.Ready = false
	}
	return st
}

// WaitApplied returns once the local index holds seq, or
// search.ErrNotCaughtUp when ctx ends first.
func (r *Replica) WaitApplied(ctx context.Context, seq uint64) error {
	if r.applied.Load() >= seq {
		return nil
	}
	r.metrics.consistencyWaits.Inc()
	start := time.Now()
	defer func() { r.metrics.consistencyWait.Observe(time.Since(start).Seconds()) }()
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if r.applied.Load() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			r.metrics.consistencyTimeouts.Inc()
			return fmt.Errorf("%w: applied %d, asked for %d", search.ErrNotCaughtUp, r.applied.Load(), seq)
		}
	}
}

// subject is a document's subject: base64url of its id, so any id is one
// token without wildcards or dots.
func (r *Replica) subject(id string) string {
	return r.cfg.SubjectPrefix + ".doc." + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// synonymSubject is a synonym set's subject: its id is one token as it is
// (letters, digits, "_" and "-").
func (r *Replica) synonymSubject(id string) string {
	return r.cfg.SubjectPrefix + ".syn." + id
}
