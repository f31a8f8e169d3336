package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// JetStream error codes the write path reads.
const (
	errCodeBatchDuplicate  = 10201 // atomic batch holds an already-seen message id
	errCodeBatchIncomplete = 10176 // a staged message went missing (leader change)
	errCodeMsgIDInProcess  = 10158 // a retry while the first attempt is still being proposed
)

// Publish reasons, the label of replication_publish_errors_total.
const (
	reasonTimeout  = "timeout"
	reasonNoQuorum = "no_quorum"
	reasonRejected = "rejected"
	reasonTooLarge = "too_large"
)

var publishReasons = []string{reasonTimeout, reasonNoQuorum, reasonRejected, reasonTooLarge}

// Write prepares docs, publishes the valid ones and returns once JetStream
// acknowledges them (quorum, fsynced with sync_interval: always). One
// document is one message; several are one atomic batch, all stored or none,
// of at most MaxBatchDocuments. key, when given, is the client's
// Idempotency-Key: a retry with it inside DuplicateWindow writes nothing
// again and answers a sequence at or after the first write's.
func (r *Replica) Write(ctx context.Context, docs []index.Document, atomic bool, key string) (search.Written, error) {
	prepared, refused := r.engine.Prepare(docs, atomic)
	out := search.Written{Docs: prepared, Refused: refused}
	if len(prepared) == 0 {
		return out, nil
	}
	// Last wins within one bulk: an atomic batch may not hold one subject
	// twice with different content in a way replicas would read apart, and
	// one message per id is also the smaller batch.
	prepared = lastPerID(prepared)
	if len(prepared) > MaxBatchDocuments {
		r.metrics.publishErrors.WithLabelValues(reasonTooLarge).Inc()
		return out, &search.LimitError{Message: fmt.Sprintf("a bulk write in replicated mode holds at most %d documents (it is one atomic batch of the log); this one holds %d: split it", MaxBatchDocuments, len(prepared))}
	}
	msgs := make([]*nats.Msg, len(prepared))
	for i := range prepared {
		m, err := r.upsertMsg(&prepared[i])
		if err != nil {
			return out, err
		}
		msgs[i] = m
	}
	msgID := key
	if msgID == "" {
		msgID = nuid.Next()
	}
	var seq uint64
	var err error
	if len(msgs) == 1 {
		seq, err = r.publishOne(ctx, msgs[0], msgID)
	} else {
		seq, err = r.publishBatch(ctx, msgs, msgID)
	}
	if err != nil {
		return out, err
	}
	out.Seq = seq
	return out, nil
}

// Delete publishes a tombstone for id and returns its sequence, or
// search.ErrNotFound when the log holds no live document with this id. The
// check asks the stream, not the local index, which may lag. A retry of a
// delete that was stored (same key) finds its own tombstone and answers its
// sequence, as a retried write does.
func (r *Replica) Delete(ctx context.Context, id, key string) (uint64, error) {
	return r.publishTombstone(ctx, r.subject(id), id, fmt.Sprintf("document %q", id), opDelete, key, search.ErrNotFound)
}

// publishTombstone publishes a delete (op) of id on subject, or answers
// notFound when the stream's last message there is none or a tombstone
// already; a retry under the key that stored that tombstone answers its
// sequence instead.
func (r *Replica) publishTombstone(ctx context.Context, subject, id, what, op, key string, notFound error) (uint64, error) {
	last, err := r.lastForSubject(ctx, subject, what)
	if err != nil {
		return 0, err
	}
	if last == nil || last.Header.Get(headerOp) == op {
		if last != nil && key != "" && last.Header.Get(jetstream.MsgIDHeader) == key {
			r.metrics.publishDuplicates.Inc()
			return last.Sequence, nil
		}
		return 0, notFound
	}
	m := nats.NewMsg(subject)
	m.Header.Set(headerOp, op)
	m.Header.Set(headerID, id)
	if key == "" {
		key = nuid.Next()
	}
	return r.publishOne(ctx, m, key)
}

// PutSynonymSet checks an editors' synonym set, publishes it and returns
// it as logged once JetStream acknowledges it; every replica applies it in
// log order with the documents. key is the client's Idempotency-Key, as
// for documents.
func (r *Replica) PutSynonymSet(ctx context.Context, set search.SynonymSet, key string) (search.SynonymSet, uint64, error) {
	set, err := r.engine.PrepareSynonymSet(set)
	if err != nil {
		return search.SynonymSet{}, 0, err
	}
	body, err := search.EncodeSynonymSet(set)
	if err != nil {
		return search.SynonymSet{}, 0, err
	}
	m := nats.NewMsg(r.synonymSubject(set.ID))
	m.Header.Set(headerOp, opSynonymsPut)
	m.Header.Set(headerID, set.ID)
	m.Data = body
	if key == "" {
		key = nuid.Next()
	}
	seq, err := r.publishOne(ctx, m, key)
	if err != nil {
		return search.SynonymSet{}, 0, err
	}
	return set, seq, nil
}

// DeleteSynonymSet publishes a tombstone for a set and returns its
// sequence, or search.ErrSynonymNotFound when the log holds no live set
// with this id; the check asks the stream, as Delete does.
func (r *Replica) DeleteSynonymSet(ctx context.Context, id, key string) (uint64, error) {
	return r.publishTombstone(ctx, r.synonymSubject(id), id, fmt.Sprintf("synonym set %q", id), opSynonymsDelete, key, search.ErrSynonymNotFound)
}

// lastForSubject is the stream's last message on subject (of what, for
// messages), nil when there is none.
func (r *Replica) lastForSubject(ctx context.Context, subject, what string) (*jetstream.RawStreamMsg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.WriteTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		m, err := r.stream.GetLastMsgForSubject(actx, subject)
		acancel()
		switch {
		case err == nil:
			return m, nil
		case errors.Is(err, jetstream.ErrMsgNotFound):
			return nil, nil
		}
		if !retryable(err) {
			return nil, fmt.Errorf("look up %s in the log: %w", what, err)
		}
		if !sleep(ctx, backoff(attempt)) {
			r.metrics.publishErrors.WithLabelValues(reasonNoQuorum).Inc()
			return nil, fmt.Errorf("%w: look up %s: %v", search.ErrUnavailable, what, err)
		}
	}
}

func (r *Replica) upsertMsg(d *index.Document) (*nats.Msg, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode document %q: %w", d.ID, err)
	}
	m := nats.NewMsg(r.subject(d.ID))
	m.Header.Set(headerOp, opUpsert)
	m.Header.Set(headerID, d.ID)
	m.Data = body
	return m, nil
}

// publishOne publishes m with the message id msgID, retrying with the same
// id (so JetStream stores it once) until WriteTimeout.
func (r *Replica) publishOne(ctx context.Context, m *nats.Msg, msgID string) (uint64, error) {
	return r.withRetries(ctx, func(ctx context.Context) (uint64, error) {
		actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		defer cancel()
		ack, err := r.js.PublishMsg(actx, m, jetstream.WithMsgID(msgID))
		if err != nil {
			return 0, err
		}
		if ack.Duplicate {
			r.metrics.publishDuplicates.Inc()
		}
		return ack.Sequence, nil
	})
}

// publishBatch publishes msgs as one atomic batch: all stored, at
// consecutive sequences, or none. The commit message carries msgID, so a
// retry of a batch that was committed (its answer lost) is refused as a
// duplicate; the write is then known to be in the log, and the stream's
// last sequence, at or after it, is the answer.
func (r *Replica) publishBatch(ctx context.Context, msgs []*nats.Msg, msgID string) (uint64, error) {
	return r.withRetries(ctx, func(ctx context.Context) (uint64, error) {
		seq, err := r.tryBatch(ctx, msgs, msgID)
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeBatchDuplicate {
			actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
			defer cancel()
			info, err := r.stream.Info(actx)
			if err != nil {
				return 0, err
			}
			r.metrics.publishDuplicates.Inc()
			return info.State.LastSeq, nil
		}
		return seq, err
	})
}

// withRetries runs attempt until it succeeds, fails for good, or
// WriteTimeout passes (ErrUnavailable).
func (r *Replica) withRetries(ctx context.Context, attempt func(ctx context.Context) (uint64, error)) (uint64, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.WriteTimeout)
	defer cancel()
	for n := 0; ; n++ {
		seq, err := attempt(ctx)
		if err == nil {
			r.metrics.publishDuration.Observe(time.Since(start).Seconds())
			r.noteStreamSeq(seq)
			return seq, nil
		}
		if e := r.permanent(err); e != nil {
			return 0, e
		}
		if !sleep(ctx, backoff(n)) {
			return 0, r.unavailable(err, start)
		}
	}
}

func (r *Replica) tryBatch(ctx context.Context, msgs []*nats.Msg, msgID string) (uint64, error) {
	batchID := nuid.Next()
	for i, m := range msgs {
		m.Header.Set(headerBatchID, batchID)
		m.Header.Set(headerBatchSq, strconv.Itoa(i+1))
		m.Header.Del(headerCommit)
		m.Header.Del(jetstream.MsgIDHeader)
		if i < len(msgs)-1 {
			// Staged messages are not answered one by one: the commit's
			// answer says whether the whole batch arrived (a gap fails it).
			if err := r.nc.PublishMsg(m); err != nil {
				return 0, err
			}
			continue
		}
		m.Header.Set(headerCommit, "1")
		actx, acancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		ack, err := r.js.PublishMsg(actx, m, jetstream.WithMsgID(msgID))
		acancel()
		if err != nil {
			return 0, err
		}
		return ack.Sequence, nil
	}
	return 0, errors.New("empty batch")
}

// permanent is the error to return for a publish error that no retry
// would fix, nil for one worth retrying.
func (r *Replica) permanent(err error) error {
	if errors.Is(err, nats.ErrMaxPayload) {
		r.metrics.publishErrors.WithLabelValues(reasonTooLarge).Inc()
		return &search.LimitError{Message: fmt.Sprintf("the document is larger than the log's message limit (%d bytes)", r.nc.MaxPayload())}
	}
	if retryable(err) {
		return nil
	}
	r.metrics.publishErrors.WithLabelValues(reasonRejected).Inc()
	return fmt.Errorf("publish to stream %s: %w", r.cfg.Stream, err)
}

func (r *Replica) unavailable(err error, start time.Time) error {
	reason := reasonNoQuorum
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		reason = reasonTimeout
	}
	r.metrics.publishErrors.WithLabelValues(reason).Inc()
	return fmt.Errorf("%w: no acknowledgement within %s: %v", search.ErrUnavailable, time.Since(start).Round(time.Millisecond), err)
}

// retryable says whether a publish error may clear up by itself: no
// leader or quorum yet, no connection, no answer in time.
func retryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503s are "JetStream not available", "no quorum" and the like;
		// 500s are server-side failures such as a leader change mid-write.
		// 10158: the first attempt with this message id is still being
		// replicated (it may commit or not): wait for it, never store twice.
		return apiErr.Code == 503 || apiErr.Code >= 500 ||
			apiErr.ErrorCode == errCodeBatchIncomplete || apiErr.ErrorCode == errCodeMsgIDInProcess
	}
	return true
}

func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 3)
	return min(d, time.Second)
}

// sleep waits d unless ctx ends first (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *Replica) noteStreamSeq(seq uint64) {
	for {
		cur := r.streamSeq.Load()
		if seq <= cur || r.streamSeq.CompareAndSwap(cur, seq) {
			break
		}
	}
	r.updateLag()
}

// lastPerID keeps each id's last document, in the order of those.
func lastPerID(docs []index.Document) []index.Document {
	last := make(map[string]int, len(docs))
	for i := range docs {
		last[docs[i].ID] = i
	}
	if len(last) == len(docs) {
		return docs
	}
	out := make([]index.Document, 0, len(last))
	for i := range docs {
		if last[docs[i].ID] == i {
			out = append(out, docs[i])
		}
	}
	return out
}
