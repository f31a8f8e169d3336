package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/input"
	"github.com/mpower/labor-search/search"
)

// Replicator carries writes through the replicated log when the service
// runs as one of several replicas; *replication.Replica satisfies it. With
// none configured, writes go straight to the engine as on a single node.
type Replicator interface {
	// Write prepares docs, logs the valid ones (one atomic batch) and
	// returns once the log's quorum holds them, with their sequence.
	Write(ctx context.Context, docs []index.Document, atomic bool, idempotencyKey string) (search.Written, error)
	// Delete logs the removal of a document the log holds (else
	// search.ErrNotFound) and returns its sequence.
	Delete(ctx context.Context, id, idempotencyKey string) (uint64, error)
	// PutSynonymSet checks an editors' synonym set (a *search.SynonymError
	// says why it is refused), logs it and returns it as logged, with its
	// sequence, once the log's quorum holds it.
	PutSynonymSet(ctx context.Context, set search.SynonymSet, idempotencyKey string) (search.SynonymSet, uint64, error)
	// DeleteSynonymSet logs the removal of a set the log holds (else
	// search.ErrSynonymNotFound) and returns its sequence.
	DeleteSynonymSet(ctx context.Context, id, idempotencyKey string) (uint64, error)
	// WaitApplied returns once this replica's index holds seq, or
	// search.ErrNotCaughtUp when ctx ends first.
	WaitApplied(ctx context.Context, seq uint64) error
	// Status is where this replica stands in the log.
	Status() search.ReplicaStatus
}

// Replication headers and parameters.
const (
	headerSeq            = "Search-Seq"
	headerMinSeq         = "Search-Min-Seq"
	headerIdempotencyKey = "Idempotency-Key"
	paramMinSeq          = "min_seq"
	// maxIdempotencyKey bounds the key, which becomes a JetStream message id.
	maxIdempotencyKey = 200
	// DefaultConsistencyTimeout bounds a read's wait for min_seq.
	DefaultConsistencyTimeout = time.Second
	// retryAfterUnavailable is the Retry-After of a write the log could not
	// take: a leader election takes seconds.
	retryAfterUnavailable = 5
)

// idempotencyKey reads the Idempotency-Key header: printable ASCII, at most
// maxIdempotencyKey bytes.
func idempotencyKey(r *http.Request) (string, error) {
	vs := r.Header.Values(headerIdempotencyKey)
	if len(vs) == 0 {
		return "", nil
	}
	if len(vs) > 1 {
		return "", invalid("the %s header is given %d times; give it once", headerIdempotencyKey, len(vs))
	}
	k := strings.TrimSpace(vs[0])
	if k == "" || len(k) > maxIdempotencyKey {
		return "", invalid("the %s header must hold 1 to %d characters", headerIdempotencyKey, maxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", invalid("the %s header may hold printable ASCII only, without spaces", headerIdempotencyKey)
		}
	}
	return k, nil
}

// takeMinSeq removes min_seq from the query values and parses it; 0 when
// absent. The header Search-Min-Seq says the same for clients that cannot
// touch the query.
func takeMinSeq(values url.Values, h http.Header) (uint64, error) {
	vs := values[paramMinSeq]
	delete(values, paramMinSeq)
	if len(vs) == 0 {
		if v := h.Get(headerMinSeq); v != "" {
			vs = []string{v}
		}
	}
	if len(vs) == 0 {
		return 0, nil
	}
	if len(vs) > 1 {
		return 0, invalid("%s is given %d times; give it once", paramMinSeq, len(vs))
	}
	return parseSeq(vs[0])
}

func parseSeq(v string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, search.Invalid(paramMinSeq, "min_seq must be a whole number: the Search-Seq a write answered, not %q", input.Clip(v))
	}
	return n, nil
}

// takeFields removes the named fields from a JSON object body in one pass
// and returns their raw values: the service's own parameters (min_seq,
// analytics, session), which the search request parser does not know. A
// body that is not an object, or holds none of them, comes back as it was,
// for the parser to report.
func takeFields(body []byte, names ...string) ([]byte, map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return body, nil, nil
	}
	taken := map[string]json.RawMessage{}
	for _, name := range names {
		if raw, ok := fields[name]; ok {
			taken[name] = raw
			delete(fields, name)
		}
	}
	if len(taken) == 0 {
		return body, taken, nil
	}
	out, err := json.Marshal(fields)
	return out, taken, err
}

// minSeqJSON reads min_seq from a JSON body's raw value, or from the
// header when the body has none.
func minSeqJSON(raw json.RawMessage, h http.Header) (uint64, error) {
	if raw == nil {
		return takeMinSeq(url.Values{}, h)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, search.Invalid(paramMinSeq, "min_seq must be a whole number")
	}
	return parseSeq(n.String())
}

// awaitSeq makes a read wait, within the consistency timeout, until this
// replica holds seq. On a single node every acknowledged write is already
// visible, so there is nothing to wait for.
func (s *server) awaitSeq(ctx context.Context, seq uint64) error {
	if seq == 0 || s.replicator == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.consistencyTimeout)
	defer cancel()
	return s.replicator.WaitApplied(ctx, seq)
}

// seqHeader is the header that carries a write's sequence.
func seqHeader(seq uint64) http.Header {
	if seq == 0 {
		return nil
	}
	return http.Header{headerSeq: {strconv.FormatUint(seq, 10)}}
}

// settle lets the replica that took a write apply it before answering, so
// a client that reads back from the same replica sees its write without
// min_seq. The write is acknowledged either way; a slow apply only means
// the answer comes after the timeout.
func (s *server) settle(ctx context.Context, seq uint64) {
	_ = s.awaitSeq(ctx, seq)
}

// writeRefusal is a single document's refusal as an error, as Upsert words it.
func writeRefusal(refused []search.Refusal) error {
	return search.Invalid("document", "%v", refused[0].Err)
}
