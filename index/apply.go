package index

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"
)

// keyAppliedSeq holds the last sequence of the replicated write log whose
// effect the index holds. It is written in the same Bleve batch as the
// documents of that sequence, so the two are introduced and persisted
// together: after a crash the index reopens at some persisted snapshot whose
// sequence matches its content, and the log is replayed from there.
const keyAppliedSeq = "applied_seq"

// KeyLogStream holds which log the applied sequence counts in (the stream's
// identity, its creation time): a stream deleted and made anew under the
// same name counts from 1 again, and an index that applied the old one
// must not tail the new one from its old sequence.
const KeyLogStream = "log_stream"

// Op is one write of a replicated log entry. Of the zero Kind, a
// document's: an upsert of Doc, or a delete of ID when Doc is nil. Of Kind
// OpSynonymSet, an editors' synonym set's: Value is the set as the engine
// encodes it, nil to delete the set ID. The engine turns those into the
// internal value KeySynonymSets of the same batch, so Apply refuses them.
type Op struct {
	ID    string
	Doc   *Document
	Kind  OpKind
	Value []byte
}

// OpKind says what an Op writes.
type OpKind uint8

// Kinds of Op.
const (
	OpDocument OpKind = iota
	OpSynonymSet
)

// Apply writes ops in order (a later op on the same id wins), the values in
// internal, and seq as the applied sequence, all in one batch. It returns
// once the batch is persisted (for an on-disk index). seq must not go back:
// a log entry is applied once and in order.
func (ix *Index) Apply(ops []Op, internal map[string][]byte, seq uint64) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed.Load() {
		return ErrClosed
	}
	return ix.applyInto(ix.live, ops, internal, seq)
}

func (ix *Index) applyInto(target bleve.Index, ops []Op, internal map[string][]byte, seq uint64) error {
	for _, op := range ops {
		if op.Kind != OpDocument {
			return fmt.Errorf("apply log entries up to %d: operation on %q is of kind %d, not a document's; the engine applies it", seq, op.ID, op.Kind)
		}
	}
	values := make(map[string][]byte, len(internal)+1)
	for k, v := range internal {
		values[k] = v
	}
	values[keyAppliedSeq] = encodeSeq(seq)
	if err := ix.writeBatch(target, ops, values); err != nil {
		return fmt.Errorf("apply log entries up to %d (%d operations): %w", seq, len(ops), err)
	}
	return nil
}

// writeBatch writes document ops in order and internal values into target
// in one Bleve batch, the one way every write reaches an index, and reports
// it to OnBatch.
func (ix *Index) writeBatch(target bleve.Index, ops []Op, internal map[string][]byte) error {
	start := time.Now()
	b := target.NewBatch()
	docs, deletes := 0, 0
	for _, op := range ops {
		if op.Doc == nil {
			b.Delete(op.ID)
			deletes++
			continue
		}
		doc, err := ix.builder.build(op.Doc)
		if err != nil {
			return err
		}
		// Batch.IndexAdvanced replaces an earlier op on the same id in this
		// batch, and Delete does too: the ops' order holds within a batch.
		if err := b.IndexAdvanced(doc); err != nil {
			return fmt.Errorf("index document %q: %w", op.Doc.ID, err)
		}
		docs++
	}
	for k, v := range internal {
		b.SetInternal([]byte(k), v)
	}
	if err := target.Batch(b); err != nil {
		return err
	}
	ix.generation.Add(1)
	if ix.opts.OnBatch != nil {
		ix.opts.OnBatch(time.Since(start), docs, deletes)
	}
	return nil
}

// AppliedSeq is the last log sequence applied to the index, 0 for an index
// that never applied one.
func (ix *Index) AppliedSeq() (uint64, error) {
	v, err := ix.GetInternal(keyAppliedSeq)
	if err != nil {
		return 0, err
	}
	return decodeSeq(v)
}

// Apply writes ops and the applied sequence into the index being built, for
// a replay of the log into a new generation.
func (b *Builder) Apply(ops []Op, internal map[string][]byte, seq uint64) error {
	return b.ix.applyInto(b.target, ops, internal, seq)
}

func encodeSeq(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func decodeSeq(v []byte) (uint64, error) {
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("stored %s is %d bytes, not 8: the index is damaged; rebuild it", keyAppliedSeq, len(v))
}
