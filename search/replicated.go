package search

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mpower/labor-search/index"
)

// Errors of the replicated write path, for the handlers to map to statuses.
var (
	// ErrUnavailable: the write log cannot take a write now (no quorum, no
	// leader, no connection). Nothing was acknowledged; the caller may retry.
	ErrUnavailable = errors.New("the replicated write log is unavailable")
	// ErrNotCaughtUp: this replica has not applied the sequence a read asked
	// for within the wait it may take.
	ErrNotCaughtUp = errors.New("this replica has not caught up with the requested sequence")
)

// Prepare fills defaults, validates and enriches documents once, on the
// replica that receives a write, so the replicated log carries final
// documents and every replica applies the same thing whatever its seeds'
// version. With atomic set, any refusal keeps every document out.
func (e *Engine) Prepare(docs []index.Document, atomic bool) ([]index.Document, []Refusal) {
	kept, refused := e.prepare(docs)
	if atomic && len(refused) > 0 {
		return nil, refused
	}
	return kept, refused
}

// Apply writes entries of the replicated log up to seq: the acronyms the
// upserted documents teach, the editors' synonym sets the entries put or
// delete and seq itself go into the same index batch as the documents, so
// what the index holds and where it is in the log never part. The
// documents and sets were prepared before they were logged, and are
// applied as logged.
func (e *Engine) Apply(ops []index.Op, seq uint64) error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	docOps := documentOps(ops)
	docs := make([]index.Document, 0, len(docOps))
	for _, op := range docOps {
		if op.Doc != nil {
			docs = append(docs, *op.Doc)
		}
	}
	learned, changed := e.learn(e.snapshotLearned(), docs)
	internal := map[string][]byte{}
	if changed {
		if err := e.storeLearned(func(k string, v []byte) error { internal[k] = v; return nil }, learned); err != nil {
			return err
		}
	}
	sets, setsChanged, err := e.applySynonymOps(e.editorSynonyms().sets, ops)
	if err != nil {
		return fmt.Errorf("apply log entries up to %d: %w", seq, err)
	}
	if setsChanged {
		if internal[index.KeySynonymSets], err = encodeSynonyms(sets); err != nil {
			return err
		}
	}
	if err := e.ix.Apply(docOps, internal, seq); err != nil {
		return err
	}
	if changed {
		e.setLearned(learned)
	}
	if setsChanged {
		e.setEditorSynonyms(newEditorSynonyms(sets))
	}
	e.purgeCaches()
	return nil
}

// AppliedSeq is the last log sequence the index holds (0: none).
func (e *Engine) AppliedSeq() (uint64, error) { return e.ix.AppliedSeq() }

// Written is the outcome of a replicated write: the log sequence that holds
// it (0 when nothing was written), the documents as logged (prepared) and
// the documents refused.
type Written struct {
	Seq     uint64
	Docs    []index.Document
	Refused []Refusal
}

// LimitError is a write the replicated log cannot take in one piece (too
// many documents for one atomic batch, a document over the message size).
type LimitError struct{ Message string }

func (e *LimitError) Error() string { return e.Message }

// ReplicaStatus is where a replica stands in the replicated log.
type ReplicaStatus struct {
	// AppliedSeq is the last sequence in the local index; StreamSeq the
	// stream's last sequence as last seen; Lag the difference.
	AppliedSeq, StreamSeq, Lag uint64
	// Ready is false until the replica has caught up once after start, and
	// after an entry failed to apply (Problem says which).
	Ready   bool
	Problem string
}

// ReplaySource yields the replicated log in order, in batches, each with
// the sequence of its last entry; it stops at the first error.
type ReplaySource func(yield func(ops []index.Op, seq uint64) error) error

// NeedsReplay says the index was built with another mapping version and
// must be replayed from the log (Replay) before it holds what this binary
// would index.
func (e *Engine) NeedsReplay() bool { return e.ix.MappingOutdated() }

// LogStream is the identity of the log the index's applied sequence counts
// in, "" when it never recorded one (see index.KeyLogStream).
func (e *Engine) LogStream() (string, error) {
	v, err := e.ix.GetInternal(index.KeyLogStream)
	return string(v), err
}

// SetLogStream records the identity of the log the index follows.
func (e *Engine) SetLogStream(id string) error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	return e.ix.SetInternal(index.KeyLogStream, []byte(id))
}

// Replay rebuilds the index from the log: a new generation is filled from
// src beside the live one, which keeps serving, and swapped in once src is
// done; the learned acronyms, the editors' synonym sets the log holds and
// the last sequence go in with it. On error the live index is untouched.
// Writes wait while it runs.
func (e *Engine) Replay(ctx context.Context, src ReplaySource) (uint64, error) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	learned := map[string][]string{}
	sets := map[string]compiledSet{}
	var last uint64
	err := e.ix.Rebuild(func(b *index.Builder) error {
		err := src(func(ops []index.Op, seq uint64) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			docOps := documentOps(ops)
			docs := make([]index.Document, 0, len(docOps))
			for _, op := range docOps {
				if op.Doc != nil {
					docs = append(docs, *op.Doc)
				}
			}
			learned, _ = e.learn(learned, docs)
			var err error
			if sets, _, err = e.applySynonymOps(sets, ops); err != nil {
				return fmt.Errorf("replay log entries up to %d: %w", seq, err)
			}
			last = seq
			return b.Apply(docOps, nil, seq)
		})
		if err != nil {
			return err
		}
		internal := map[string][]byte{}
		if err := e.storeLearned(func(k string, v []byte) error { internal[k] = v; return nil }, learned); err != nil {
			return err
		}
		// Written even when empty: the log, not the old generation, says
		// which sets there are.
		encoded, err := encodeSynonyms(sets)
		if err != nil {
			return err
		}
		internal[index.KeySynonymSets] = encoded
		return b.Apply(nil, internal, last)
	})
	if err != nil {
		return 0, err
	}
	e.setLearned(learned)
	e.setEditorSynonyms(newEditorSynonyms(sets))
	e.purgeCaches()
	return last, nil
}

// TakeSnapshot copies the index for a new replica to start from (see
// index.TakeSnapshot): its documents, applied sequence, learned acronyms
// and editors' synonym sets, as of one index snapshot.
func (e *Engine) TakeSnapshot() (*index.Snapshot, error) {
	return e.ix.TakeSnapshot()
}

// RestoreSnapshot replaces the index with a snapshot and takes up what the
// engine keeps of it: its learned acronyms and editors' synonym sets. The
// caches are emptied: their answers were of the replaced index.
func (e *Engine) RestoreSnapshot(r io.Reader) (index.SnapshotInfo, error) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	info, err := e.ix.RestoreSnapshot(r)
	if err != nil {
		return info, err
	}
	learned, err := e.loadLearned()
	if err != nil {
		return info, err
	}
	sets, err := e.loadSynonyms()
	if err != nil {
		return info, err
	}
	e.setLearned(learned)
	e.setEditorSynonyms(sets)
	e.purgeCaches()
	return info, nil
}
