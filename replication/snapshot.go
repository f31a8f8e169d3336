package replication

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpower/labor-search/index"
)

// A replica that never applied the log starts from the newest snapshot of
// the index in an Object Store bucket (its documents, applied sequence,
// learned acronyms and editors' synonym sets, as one index snapshot had
// them) and tails the log after its sequence, instead of applying every
// entry from the first. Any replica may publish snapshots (-snapshot-
// interval); one object per mapping version holds the newest, so a replica
// of a new release never starts from an index it cannot serve. Snapshots
// only make a start faster: a replica without one applies the log from
// its first entry, as before.

// Metadata of a snapshot object.
const (
	metaSeq           = "applied-seq"
	metaMapping       = "mapping-version"
	metaDocuments     = "documents"
	metaStreamCreated = "stream-created"
)

// snapshotName is the object holding the newest snapshot of this binary's
// mapping version.
func snapshotName() string { return "index-" + index.MappingVersion }

// streamCreated identifies the stream a snapshot was taken from: a stream
// deleted and created again under the same name starts its sequences
// anew, and a snapshot of the old one would skip the new one's entries.
func (r *Replica) streamCreated() string {
	return strconv.FormatInt(r.stream.CachedInfo().Created.UnixNano(), 10)
}

// bootstrap restores the newest usable snapshot, if there is one.
func (r *Replica) bootstrap(ctx context.Context) error {
	start := r.cfg.Now()
	actx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout)
	defer cancel()
	store, err := r.js.ObjectStore(actx, r.cfg.SnapshotBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("%w: no bucket %s", errNoSnapshot, r.cfg.SnapshotBucket)
	}
	if err != nil {
		return fmt.Errorf("snapshot bucket %s: %w", r.cfg.SnapshotBucket, err)
	}
	info, err := r.objectInfo(actx, store)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("%w of mapping version %s in %s", errNoSnapshot, index.MappingVersion, r.cfg.SnapshotBucket)
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", snapshotName(), err)
	}
	if got, want := info.Metadata[metaStreamCreated], r.streamCreated(); got != want {
		return fmt.Errorf("snapshot %s is of another stream named %s (created %s, this one %s)", snapshotName(), r.cfg.Stream, got, want)
	}
	seq, err := strconv.ParseUint(info.Metadata[metaSeq], 10, 64)
	if err != nil {
		return fmt.Errorf("snapshot %s: applied sequence %q: %w", snapshotName(), info.Metadata[metaSeq], err)
	}
	if last := r.streamSeq.Load(); seq > last {
		return fmt.Errorf("snapshot %s is at sequence %d, past the stream's last %d", snapshotName(), seq, last)
	}
	// The download may take long for a large index: only the look-up
	// above is bounded by the start timeout.
	obj, err := store.Get(ctx, snapshotName())
	if err != nil {
		return fmt.Errorf("fetch snapshot %s: %w", snapshotName(), err)
	}
	// The restore reads the object to its end, which checks its digest,
	// before it unpacks anything.
	restored, err := r.engine.RestoreSnapshot(obj)
	_ = obj.Close()
	if err != nil {
		// A failure after the swap leaves the snapshot's index in place:
		// the tail is applied after what it holds.
		if seq, aerr := r.engine.AppliedSeq(); aerr == nil && seq > 0 {
			r.setApplied(seq)
		}
		return fmt.Errorf("restore snapshot %s: %w", snapshotName(), err)
	}
	if restored.AppliedSeq != seq {
		// The index is what the snapshot holds, whatever its label says.
		r.log.Warn("snapshot's label and content disagree", slog.Uint64("label_seq", seq), slog.Uint64("index_seq", restored.AppliedSeq))
	}
	took := r.cfg.Now().Sub(start)
	r.setApplied(restored.AppliedSeq)
	r.metrics.snapshotSeq.Set(float64(restored.AppliedSeq))
	r.metrics.bootstrapSeconds.Set(took.Seconds())
	r.log.Info("started from an index snapshot", slog.Uint64("applied_seq", restored.AppliedSeq),
		slog.Uint64("documents", restored.Documents), slog.Uint64("bytes", info.Size), slog.Float64("seconds", took.Seconds()))
	return nil
}

// publishSnapshots publishes a snapshot every SnapshotInterval, give or
// take a fifth, while ctx lasts.
func (r *Replica) publishSnapshots(ctx context.Context) {
	for {
		jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(r.cfg.SnapshotInterval))
		if !sleep(ctx, r.cfg.SnapshotInterval+jitter) {
			return
		}
		if !r.ready.Load() {
			continue
		}
		info, err := r.PublishSnapshot(ctx)
		switch {
		case errors.Is(err, errSnapshotCurrent):
		case err != nil && ctx.Err() == nil:
			r.log.Warn("index snapshot not published", slog.String("error", err.Error()))
		case err == nil:
			r.log.Info("published an index snapshot", slog.Uint64("applied_seq", info.AppliedSeq), slog.Uint64("documents", info.Documents))
		}
	}
}

// errNoSnapshot: no replica published a snapshot a new one could start
// from (none runs with -snapshot-interval, or none has yet).
var errNoSnapshot = errors.New("no index snapshot")

// errSnapshotCurrent: the newest snapshot is as far as this replica.
var errSnapshotCurrent = errors.New("the newest snapshot is as recent as this replica's index")

// PublishSnapshot takes a snapshot of the local index and stores it as
// the newest of its mapping version, unless the newest one already holds
// as much of the log.
func (r *Replica) PublishSnapshot(ctx context.Context) (index.SnapshotInfo, error) {
	store, err := r.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      r.cfg.SnapshotBucket,
		Description: "index snapshots new search replicas start from",
		Storage:     jetstream.FileStorage,
		Replicas:    r.cfg.Replicas,
	})
	if err != nil {
		return index.SnapshotInfo{}, fmt.Errorf("snapshot bucket %s: %w", r.cfg.SnapshotBucket, err)
	}
	newest := uint64(0)
	info, err := r.objectInfo(ctx, store)
	if err == nil && info.Metadata[metaStreamCreated] == r.streamCreated() {
		newest, _ = strconv.ParseUint(info.Metadata[metaSeq], 10, 64)
	} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return index.SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", snapshotName(), err)
	}
	if r.applied.Load() <= newest {
		return index.SnapshotInfo{}, errSnapshotCurrent
	}
	snap, err := r.engine.TakeSnapshot()
	if err != nil {
		return index.SnapshotInfo{}, err
	}
	defer snap.Close()
	// The label is the stream the copy's own sequence counts in, as the
	// index recorded it, not the stream this replica talks to now.
	if snap.Info.LogStream == "" {
		return index.SnapshotInfo{}, errors.New("the index has not recorded which stream it follows yet")
	}
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		_, err := snap.WriteTo(pw)
		pw.CloseWithError(err)
		written <- err
	}()
	meta := jetstream.ObjectMeta{
		Name:        snapshotName(),
		Description: fmt.Sprintf("index at log sequence %d, %d documents", snap.Info.AppliedSeq, snap.Info.Documents),
		Metadata: map[string]string{
			metaSeq:           strconv.FormatUint(snap.Info.AppliedSeq, 10),
			metaMapping:       snap.Info.MappingVersion,
			metaDocuments:     strconv.FormatUint(snap.Info.Documents, 10),
			metaStreamCreated: snap.Info.LogStream,
		},
	}
	_, err = store.Put(ctx, meta, pr)
	_ = pr.CloseWithError(err)
	// The copy is read until the writer stops, before Close removes it.
	if werr := <-written; err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return index.SnapshotInfo{}, fmt.Errorf("store snapshot %s: %w", snapshotName(), err)
	}
	r.metrics.snapshotsPublished.Inc()
	r.metrics.snapshotSeq.Set(float64(snap.Info.AppliedSeq))
	return snap.Info, nil
}

// objectInfo reads the newest snapshot's description, retrying while the
// bucket has no leader yet (just created, or in an election).
func (r *Replica) objectInfo(ctx context.Context, store jetstream.ObjectStore) (*jetstream.ObjectInfo, error) {
	for attempt := 0; ; attempt++ {
		info, err := store.GetInfo(ctx, snapshotName())
		if err == nil || errors.Is(err, jetstream.ErrObjectNotFound) || !retryable(err) || attempt >= 20 {
			return info, err
		}
		if !sleep(ctx, backoff(attempt)) {
			return nil, err
		}
	}
}
