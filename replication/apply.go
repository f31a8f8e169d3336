package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpower/labor-search/index"
)

// entry is one message of the stream as the apply loop needs it.
type entry struct {
	seq, pending uint64
	stamp        time.Time
	op           index.Op
	// open is true for a message of an atomic batch before its commit: the
	// apply loop never ends a Bleve batch there.
	open bool
	// err is why the message cannot be applied.
	err error
}

// Run tails the stream from the sequence after the local index's and
// applies it until ctx ends. An entry that cannot be applied stops the loop
// with an error (and the replica reports not ready): skipping it would let
// the replicas part.
func (r *Replica) Run(ctx context.Context) error {
	if r.applied.Load() == 0 && !r.cfg.NoBootstrap {
		// Snapshots only make a start faster: without a usable one the
		// log is applied from its first entry.
		err := r.bootstrap(ctx)
		if err == nil {
			// The snapshot is of this stream: nothing left to replay.
			r.otherStream = false
		}
		if err != nil && ctx.Err() == nil {
			level := slog.LevelWarn
			if errors.Is(err, errNoSnapshot) {
				level = slog.LevelInfo
			}
			r.log.Log(ctx, level, "no start from an index snapshot: the log is applied from its first entry", slog.String("reason", err.Error()))
		}
	}
	if r.engine.NeedsReplay() || r.otherStream {
		if err := r.replay(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.setProblem(err.Error())
			return err
		}
	}
	// From here on the index counts in this stream's sequences (an index
	// from before identities were recorded is taken to, as before).
	if follows, err := r.engine.LogStream(); err != nil || follows != r.streamCreated() {
		if err == nil {
			err = r.engine.SetLogStream(r.streamCreated())
		}
		if err != nil {
			r.setProblem(err.Error())
			return err
		}
	}
	if r.cfg.SnapshotInterval > 0 {
		go r.publishSnapshots(ctx)
	}
	go r.watchStream(ctx, r.restart)
	for ctx.Err() == nil {
		f, err := r.consume(ctx, r.applied.Load()+1)
		if err != nil {
			r.log.Warn("stream consumer", slog.String("error", err.Error()))
			r.metrics.consumerResets.Inc()
			if !sleep(ctx, time.Second) {
				break
			}
			continue
		}
		err = r.applyLoop(ctx, f)
		f.stop()
		if err != nil && !errors.Is(err, errConsumerLost) {
			r.setProblem(err.Error())
			return err
		}
		if ctx.Err() == nil {
			r.metrics.consumerResets.Inc()
			r.log.Info("stream consumer restarted", slog.Uint64("applied_seq", r.applied.Load()),
				slog.String("reason", reason(err)))
			if err != nil && !sleep(ctx, 200*time.Millisecond) {
				break
			}
		}
	}
	return nil
}

func reason(err error) string {
	if err == nil {
		return "asked"
	}
	return err.Error()
}

// errConsumerLost ends an apply loop whose consumer can no longer be
// trusted to deliver the next entry; Run starts a new one after the
// applied sequence.
var errConsumerLost = errors.New("stream consumer lost")

// feed is one consumer's entries, in stream order. Each consumer has its
// own channel, so nothing an old consumer delivered after it was stopped
// can reach the apply loop of the next: such an entry, applied alone,
// would move the applied sequence past entries never applied.
type feed struct {
	entries <-chan entry
	// failed is closed when the consumer gave up (its own resets failed).
	failed <-chan struct{}
	stop   func()
}

// consume starts an ordered consumer at sequence next. Its messages are
// read by one goroutine through the iterator, never by concurrent
// callbacks: the ordered consumer's callback form can run an old
// consumer's last handler beside the new one's first after a reset, and
// the two entries then reach the channel in either order.
func (r *Replica) consume(ctx context.Context, next uint64) (feed, error) {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if next > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, next
	}
	actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout*2)
	defer cancel()
	cons, err := r.js.OrderedConsumer(actx, r.cfg.Stream, cfg)
	if err != nil {
		return feed{}, fmt.Errorf("create ordered consumer on %s: %w", r.cfg.Stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(applyBatchMax))
	if err != nil {
		return feed{}, fmt.Errorf("consume %s: %w", r.cfg.Stream, err)
	}
	entries := make(chan entry, applyBatchMax*2)
	failed := make(chan struct{})
	done := make(chan struct{})
	go func() {
		for {
			m, err := it.Next()
			if err != nil {
				select {
				case <-done:
				default:
					r.log.Warn("stream consumer failed", slog.String("error", err.Error()))
					close(failed)
				}
				return
			}
			// A message that cannot be read fails when its turn comes.
			e, err := decode(m)
			e.err = err
			select {
			case entries <- e:
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { close(done); it.Stop() }) }
	return feed{entries: entries, failed: failed, stop: stop}, nil
}

func decode(m jetstream.Msg) (entry, error) {
	meta, err := m.Metadata()
	if err != nil {
		return entry{}, fmt.Errorf("message metadata: %w", err)
	}
	h := m.Headers()
	e := entry{seq: meta.Sequence.Stream, pending: meta.NumPending, stamp: meta.Timestamp}
	e.open = h.Get(headerBatchID) != "" && h.Get(headerCommit) == ""
	id := h.Get(headerID)
	if id == "" {
		return e, fmt.Errorf("message %d has no %s header", e.seq, headerID)
	}
	switch h.Get(headerOp) {
	case opDelete:
		e.op = index.Op{ID: id}
	case opUpsert:
		var d index.Document
		if err := json.Unmarshal(m.Data(), &d); err != nil {
			return e, fmt.Errorf("message %d: decode document: %w", e.seq, err)
		}
		if d.ID != id {
			return e, fmt.Errorf("message %d: document id %q differs from header %q", e.seq, d.ID, id)
		}
		e.op = index.Op{ID: id, Doc: &d}
	case opSynonymsPut:
		if len(m.Data()) == 0 {
			return e, fmt.Errorf("message %d: synonym set %q has no body", e.seq, id)
		}
		e.op = index.Op{ID: id, Kind: index.OpSynonymSet, Value: append([]byte(nil), m.Data()...)}
	case opSynonymsDelete:
		e.op = index.Op{ID: id, Kind: index.OpSynonymSet}
	default:
		return e, fmt.Errorf("message %d: unknown %s %q", e.seq, headerOp, h.Get(headerOp))
	}
	return e, nil
}

// applyLoop applies one consumer's entries in batches: whatever has
// arrived, up to applyBatchMax, extended to the end of an open atomic
// batch. It returns nil when asked to restart the consumer and
// errConsumerLost when the consumer failed or delivered out of order.
func (r *Replica) applyLoop(ctx context.Context, f feed) error {
	var batch []entry
	// prev is the last sequence this consumer delivered: entries of one
	// consumer rise strictly, and one that does not would be a delivery
	// this loop cannot place, so it starts over after the applied sequence.
	var prev uint64
	take := func(e entry) error {
		if e.seq <= prev {
			return fmt.Errorf("%w: entry %d delivered after %d", errConsumerLost, e.seq, prev)
		}
		prev = e.seq
		batch = append(batch, e)
		return nil
	}
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return nil
		case <-r.restart:
			return nil
		case <-f.failed:
			return errConsumerLost
		case e := <-f.entries:
			if err := take(e); err != nil {
				return err
			}
		}
	fill:
		for len(batch) < applyBatchMax || batch[len(batch)-1].open {
			if batch[len(batch)-1].open {
				// The rest of an atomic batch is on its way: wait for it.
				select {
				case e := <-f.entries:
					if err := take(e); err != nil {
						return err
					}
					continue
				case <-f.failed:
					return errConsumerLost
				case <-r.restart:
					return nil
				case <-ctx.Done():
					return nil
				}
			}
			select {
			case e := <-f.entries:
				if err := take(e); err != nil {
					return err
				}
			default:
				break fill
			}
		}
		if err := r.apply(batch); err != nil {
			return err
		}
	}
}

func (r *Replica) apply(batch []entry) error {
	last := batch[len(batch)-1]
	if last.seq <= r.applied.Load() {
		return nil // delivered again after a consumer reset
	}
	ops := make([]index.Op, 0, len(batch))
	for _, e := range batch {
		if e.err != nil {
			return fmt.Errorf("log entry %d cannot be applied: %w", e.seq, e.err)
		}
		if e.seq <= r.applied.Load() {
			continue
		}
		ops = append(ops, e.op)
	}
	start := time.Now()
	if err := r.engine.Apply(ops, last.seq); err != nil {
		return fmt.Errorf("apply log entries up to %d: %w", last.seq, err)
	}
	now := r.cfg.Now()
	r.metrics.applyBatch.Observe(time.Since(start).Seconds())
	for _, e := range batch {
		r.metrics.applyDelay.Observe(now.Sub(e.stamp).Seconds())
		switch {
		case e.op.Kind == index.OpSynonymSet:
			r.metrics.appliedSynonyms.Inc()
		case e.op.Doc == nil:
			r.metrics.appliedDeletes.Inc()
		default:
			r.metrics.appliedUpserts.Inc()
		}
	}
	r.appliedAt.Store(last.stamp.UnixNano())
	r.setApplied(last.seq)
	r.noteStreamSeq(last.seq + last.pending)
	return nil
}

// setApplied records that the local index holds the log up to seq, and
// wakes the reads waiting for a sequence.
func (r *Replica) setApplied(seq uint64) {
	r.applied.Store(seq)
	r.metrics.applied.Set(float64(seq))
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// replay rebuilds an index of another mapping version: the whole log, up to
// its last sequence when the replay starts, goes into a new generation
// while the old one serves; then the tail is applied as usual. Reads with
// min_seq past the old index wait meanwhile, and writes are taken.
func (r *Replica) replay(ctx context.Context) error {
	start := time.Now()
	var target uint64
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		info, err := r.stream.Info(actx)
		cancel()
		if err == nil {
			target = info.State.LastSeq
			break
		}
		if !sleep(ctx, backoff(attempt)) {
			return fmt.Errorf("replay: stream info: %w", err)
		}
	}
	r.log.Info("replaying the log into a new index generation (mapping version changed)", slog.Uint64("to_seq", target))
	last, err := r.engine.Replay(ctx, func(yield func([]index.Op, uint64) error) error {
		if target == 0 {
			return nil
		}
		// received is the last entry taken; a consumer that fails is
		// replaced by one that starts after it.
		var received uint64
		var f feed
		defer func() {
			if f.stop != nil {
				f.stop()
			}
		}()
		var ops []index.Op
		for attempt := 0; ; {
			if f.stop == nil {
				var err error
				if f, err = r.consume(ctx, received+1); err != nil {
					if !sleep(ctx, backoff(attempt)) {
						return fmt.Errorf("replay: %w", err)
					}
					attempt++
					continue
				}
			}
			var e entry
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-f.failed:
				f.stop()
				f = feed{}
				continue
			case e = <-f.entries:
			}
			if e.seq <= received {
				return fmt.Errorf("replay: entry %d delivered after %d", e.seq, received)
			}
			received = e.seq
			if e.err != nil {
				return fmt.Errorf("log entry %d cannot be applied: %w", e.seq, e.err)
			}
			ops = append(ops, e.op)
			done := e.seq >= target
			if (len(ops) >= applyBatchMax || done) && !e.open {
				if err := yield(ops, e.seq); err != nil {
					return err
				}
				ops = nil
				if done {
					return nil
				}
			}
		}
	})
	if err != nil {
		return fmt.Errorf("replay the log into a new index generation: %w", err)
	}
	r.setApplied(last)
	r.noteStreamSeq(last)
	r.log.Info("replayed the log", slog.Uint64("applied_seq", last), slog.Float64("seconds", time.Since(start).Seconds()))
	return nil
}

// watchStream refreshes the stream's last sequence while the replica is
// idle or behind, and asks for a new consumer when the applied sequence
// stands still although the stream is ahead: a consumer lost in a failure
// that its own resets did not recover.
func (r *Replica) watchStream(ctx context.Context, restart chan<- struct{}) {
	const every = 2 * time.Second
	const stallAfter = 5 * time.Second
	t := time.NewTicker(every)
	defer t.Stop()
	lastApplied, since := r.applied.Load(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		info, err := r.stream.Info(actx)
		cancel()
		if err == nil {
			r.noteStreamSeq(info.State.LastSeq)
		}
		applied := r.applied.Load()
		if applied != lastApplied || r.streamSeq.Load() <= applied {
			lastApplied, since = applied, time.Now()
			continue
		}
		if time.Since(since) > stallAfter {
			r.log.Warn("apply stalled; restarting the stream consumer",
				slog.Uint64("applied_seq", applied), slog.Uint64("stream_seq", r.streamSeq.Load()))
			select {
			case restart <- struct{}{}:
			default:
			}
			since = time.Now()
		}
	}
}

// updateLag refreshes the lag metrics and readiness. A replica is ready
// once it has been within ReadyLag of the stream, and stays so while it
// lags (serving older answers, which the lag alerts report).
func (r *Replica) updateLag() {
	applied, last := r.applied.Load(), r.streamSeq.Load()
	var lag uint64
	if last > applied {
		lag = last - applied
	}
	if lag <= r.cfg.ReadyLag {
		r.ready.Store(true)
	}
	r.metrics.applied.Set(float64(applied))
	r.metrics.streamSeq.Set(float64(last))
	r.metrics.lagMessages.Set(float64(lag))
	seconds := 0.0
	if lag > 0 {
		if at := r.appliedAt.Load(); at > 0 {
			seconds = r.cfg.Now().Sub(time.Unix(0, at)).Seconds()
		}
	}
	r.metrics.lagSeconds.Set(max(seconds, 0))
}

func (r *Replica) setProblem(p string) {
	r.mu.Lock()
	r.problem = p
	r.mu.Unlock()
	r.ready.Store(false)
}
