package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Options configure an index.
type Options struct {
	// OnBatch, when set, is told how long each durable batch took and how
	// many documents and deletions it held.
	OnBatch func(took time.Duration, docs, deletes int)
	// Fresh opens a directory for a rebuild without reading its current
	// generation, which may be damaged or of an older mapping: the index
	// starts empty (in memory) and the first Rebuild writes the new
	// generation and removes the old ones. Until then the directory on disk
	// is untouched.
	Fresh bool
	// KeepOldMapping opens an index built with another mapping version
	// instead of refusing it, and MappingOutdated reports it: a replica in
	// replicated mode serves it while it replays the log into a new
	// generation with Rebuild, which then swaps in.
	KeepOldMapping bool
	// MaxSegmentDocs, when positive, caps the documents of a segment a
	// merge writes, and so the inputs it maps and reads at once: the pages
	// a merge touches count in the process's resident memory, so an
	// unbounded merge of a large index exceeds any memory budget. Bleve's
	// default is 5,000,000 (its MaxSegmentFileSize, in bytes, applies only
	// to segments with vectors). More, smaller segments cost searches a
	// little.
	MaxSegmentDocs int
	// BatchBytes, when positive, splits a write of more documents than
	// this much text into consecutive batches: Bleve holds a whole batch
	// analysed in memory (about fifty times its text) until its segment
	// is durable. Each part is durable before the next is written.
	BatchBytes int
}

// scorchConfig is the Bleve configuration of every index Open creates or
// opens.
func (o Options) scorchConfig() map[string]interface{} {
	c := map[string]interface{}{"bolt_timeout": "5s"}
	if o.MaxSegmentDocs > 0 {
		// Bleve lays these over its defaults (mergeplan.DefaultMergePlanOptions).
		c["scorchMergePlanOptions"] = map[string]interface{}{"MaxSegmentSize": o.MaxSegmentDocs}
	}
	return c
}

// Index is a Bleve index behind an alias, so that a rebuild can swap in a
// complete new index atomically while searches keep running.
type Index struct {
	dir     string // "" for in-memory
	opts    Options
	mapping *mapping.IndexMappingImpl
	builder *docBuilder
	alias   bleve.IndexAlias

	// mu guards live and liveName. Readers of term dictionaries hold it
	// shared so a swap never closes an index under them.
	mu       sync.RWMutex
	live     bleve.Index
	liveName string

	// generation changes with every write and swap, so caches keyed by it
	// can never serve an answer from before a write.
	generation atomic.Uint64
	closed     atomic.Bool
	// oldMapping is set while the live generation has another mapping
	// version (Options.KeepOldMapping), until a Rebuild replaces it.
	oldMapping atomic.Bool
	// keptProblem is why Open with Fresh could not read the kept values
	// of the generation it replaces; nil when it read them or there was none.
	keptProblem error

	// sets holds the facet and filter bitmaps of the newest snapshot.
	sets         snapshotSets
	segmentWords segmentWordsCache
	// ranking counts the searches being ranked, to split only on idle cores.
	ranking atomic.Int32
	// rankTuning.parts, when set, fixes how many parts every ranking is
	// split into, whatever the cores and the hits (tests).
	rankTuning struct{ parts int }
}

const (
	currentFile       = "CURRENT"
	keyMappingVersion = "mapping_version"
)

// KeySynonymSets is the internal value holding the editors' synonym sets.
// The other internal values are derived from the documents (learned
// acronyms) or describe the generation (mapping version, applied
// sequence); the editors' sets are data of their own, so Rebuild carries
// them into the new generation and Open with Fresh reads them from the
// generation it is to replace.
const KeySynonymSets = "synonym_sets"

// keptKeys are the internal values a rebuild keeps.
var keptKeys = []string{KeySynonymSets}

// ErrClosed is returned by operations on a closed index.
var ErrClosed = errors.New("index is closed")

// Open opens the on-disk index in dir, creating an empty one if dir is empty
// or missing; dir == "" makes an in-memory index (writes do not survive a
// restart).
func Open(dir string, opts Options) (*Index, error) {
	m, err := NewMapping()
	if err != nil {
		return nil, err
	}
	builder, err := newDocBuilder(m)
	if err != nil {
		return nil, err
	}
	ix := &Index{dir: dir, opts: opts, mapping: m, builder: builder}
	if dir == "" {
		live, err := newBleve("", m, opts)
		if err != nil {
			return nil, err
		}
		ix.setLive(live, "")
		return ix, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create index directory %s: %w", dir, err)
	}
	removeSnapshotCopies(dir)
	if opts.Fresh {
		live, err := newBleve("", m, opts)
		if err != nil {
			return nil, err
		}
		ix.setLive(live, "")
		ix.keptProblem = ix.readKept(dir, live)
		return ix, nil
	}
	name, err := readCurrent(dir)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = newGenerationName()
		live, err := newBleve(filepath.Join(dir, name), m, opts)
		if err != nil {
			return nil, err
		}
		if err := writeCurrent(dir, name); err != nil {
			_ = live.Close()
			return nil, err
		}
		ix.setLive(live, name)
		return ix, nil
	}
	live, old, err := openBleve(filepath.Join(dir, name), opts)
	if err != nil {
		return nil, err
	}
	ix.setLive(live, name)
	ix.oldMapping.Store(old)
	return ix, nil
}

// readKept copies the kept internal values of dir's current generation, if
// it can be read, into live: a rebuild from a file or the seeds then keeps
// the editors' synonyms. The generation may be damaged (which is why it is
// being rebuilt) or of another mapping version: it is opened read-only,
// and a failure is reported, not fatal.
func (ix *Index) readKept(dir string, live bleve.Index) error {
	name, err := readCurrent(dir)
	if err != nil || name == "" {
		return err
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(filepath.Join(path, "index_meta.json")); err != nil {
		return fmt.Errorf("read kept values of %s: not a Bleve index", path)
	}
	cfg := ix.opts.scorchConfig()
	cfg["read_only"] = true
	old, err := openUsingRecover(path, cfg)
	if err != nil {
		return fmt.Errorf("read kept values of %s: %w", path, err)
	}
	defer old.Close()
	for _, k := range keptKeys {
		v, err := old.GetInternal([]byte(k))
		if err != nil {
			return fmt.Errorf("read %s of %s: %w", k, path, err)
		}
		if v == nil {
			continue
		}
		if err := live.SetInternal([]byte(k), v); err != nil {
			return fmt.Errorf("keep %s: %w", k, err)
		}
	}
	return nil
}

// KeptProblem is why an index opened with Options.Fresh could not read the
// kept values (the editors' synonym sets) of the generation it replaces, so
// that a rebuild will not keep them; nil when it read them or there were none.
func (ix *Index) KeptProblem() error { return ix.keptProblem }

// MappingOutdated says the live generation was built with another mapping
// version (opened with Options.KeepOldMapping): rebuild it.
func (ix *Index) MappingOutdated() bool { return ix.oldMapping.Load() }

func (ix *Index) setLive(live bleve.Index, name string) {
	ix.live, ix.liveName = live, name
	ix.alias = bleve.NewIndexAlias(live)
	ix.generation.Add(1)
}

func newBleve(path string, m mapping.IndexMapping, opts Options) (bleve.Index, error) {
	idx, err := bleve.NewUsing(path, m, scorch.Name, scorch.Name, opts.scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("create index %s: %w", displayPath(path), err)
	}
	if err := idx.SetInternal([]byte(keyMappingVersion), []byte(MappingVersion)); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("record mapping version in %s: %w", displayPath(path), err)
	}
	return idx, nil
}

// openBleve opens a generation; with opts.KeepOldMapping, one of another
// mapping version is opened too, and old says so.
func openBleve(path string, opts Options) (idx bleve.Index, old bool, err error) {
	if _, err := os.Stat(filepath.Join(path, "index_meta.json")); err != nil {
		return nil, false, fmt.Errorf("open index %s: not a Bleve index (%v); rebuild it with -rebuild", path, err)
	}
	idx, err = openUsingRecover(path, opts.scorchConfig())
	if err != nil {
		return nil, false, fmt.Errorf("open index %s: %w; the index may be damaged or in use by another process: rebuild it with -rebuild", path, err)
	}
	v, err := idx.GetInternal([]byte(keyMappingVersion))
	if err != nil {
		_ = idx.Close()
		return nil, false, fmt.Errorf("read mapping version of %s: %w", path, err)
	}
	if string(v) != MappingVersion {
		if opts.KeepOldMapping {
			return idx, true, nil
		}
		_ = idx.Close()
		return nil, false, fmt.Errorf("index %s was built with mapping version %q, this binary needs %q: rebuild it with -rebuild", path, v, MappingVersion)
	}
	return idx, false, nil
}

// openUsingRecover opens a scorch index, turning the panics and memory
// faults of a damaged root.bolt into an error: bbolt asserts on a page that
// does not identify as itself, and a file cut shorter than its meta page says
// faults on the mapped range. Either must refuse the directory, not kill the
// process.
func openUsingRecover(path string, config map[string]interface{}) (idx bleve.Index, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			idx, err = nil, fmt.Errorf("the index store is damaged: %v", r)
		}
	}()
	return bleve.OpenUsing(path, config)
}

func displayPath(path string) string {
	if path == "" {
		return "(in memory)"
	}
	return path
}

// readCurrent returns the name of the live generation, or "" for a new
// directory. A directory holding files but no CURRENT is refused rather than
// overwritten: it is not ours, or it is damaged.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			return "", fmt.Errorf("read index directory %s: %w", dir, rerr)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				return "", fmt.Errorf("index directory %s is not empty but has no %s file: it is not an index of this service or it is damaged; rebuild it with -rebuild or point -index at an empty directory", dir, currentFile)
			}
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", filepath.Join(dir, currentFile), err)
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("%s names no index generation (%q); rebuild it with -rebuild", filepath.Join(dir, currentFile), name)
	}
	return name, nil
}

// writeCurrent points CURRENT at a generation: write a temporary file, fsync,
// rename over CURRENT, fsync the directory. A crash leaves either the old or
// the new name, never a torn one.
func writeCurrent(dir, name string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if _, err := f.WriteString(name + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, currentFile)); err != nil {
		return fmt.Errorf("switch %s: %w", filepath.Join(dir, currentFile), err)
	}
	return syncDir(dir)
}

func newGenerationName() string {
	return "gen-" + time.Now().UTC().Format("20060102T150405.000000000")
}

// Dir is the on-disk directory, or "" for an in-memory index.
func (ix *Index) Dir() string { return ix.dir }

// Token is one analysed word of a text, with its byte offsets.
type Token struct {
	Term       string
	Start, End int
	Position   int
}

// Analyze runs the named analyser of the mapping over text, so a query's
// words are analysed as the indexed text was.
func (ix *Index) Analyze(analyzer, text string) ([]Token, error) {
	ts, err := ix.mapping.AnalyzeText(analyzer, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("analyze with %s: %w", analyzer, err)
	}
	out := make([]Token, len(ts))
	for i, t := range ts {
		out[i] = Token{Term: string(t.Term), Start: t.Start, End: t.End, Position: t.Position}
	}
	return out, nil
}

// Generation changes whenever the searchable content may have changed.
func (ix *Index) Generation() uint64 { return ix.generation.Load() }

// BleveSearch runs a request through Bleve alone, on the live index: the
// plain-Bleve baseline the benchmarks compare the service's path (Reader)
// with, on the same documents.
func (ix *Index) BleveSearch(ctx context.Context, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	if ix.closed.Load() {
		return nil, ErrClosed
	}
	return ix.alias.SearchInContext(ctx, req)
}

// Count is the number of documents in the live index.
func (ix *Index) Count() (uint64, error) {
	if ix.closed.Load() {
		return 0, ErrClosed
	}
	n, err := ix.alias.DocCount()
	if err != nil {
		return 0, fmt.Errorf("count documents: %w", err)
	}
	return n, nil
}

// Get returns the stored document with this id; ok is false when there is none.
func (ix *Index) Get(id string) (doc *Document, ok bool, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed.Load() {
		return nil, false, ErrClosed
	}
	d, err := ix.live.Document(id)
	if err != nil {
		return nil, false, fmt.Errorf("load document %q: %w", id, err)
	}
	if d == nil {
		return nil, false, nil
	}
	var src []byte
	d.VisitFields(func(f bindex.Field) {
		if f.Name() == FieldSource {
			src = append([]byte(nil), f.Value()...)
		}
	})
	if src == nil {
		return nil, false, fmt.Errorf("document %q has no stored source", id)
	}
	out, err := DecodeSource(src)
	if err != nil {
		return nil, false, fmt.Errorf("document %q: %w", id, err)
	}
	return out, true, nil
}

// DecodeSource turns a stored source field back into a Document.
func DecodeSource(src []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(src, &d); err != nil {
		return nil, fmt.Errorf("decode stored source: %w", err)
	}
	return &d, nil
}

// Batch indexes docs (replacing any with the same id) and deletes ids, as
// one batch, or with Options.BatchBytes as consecutive batches of about that
// much text (the deletes go with the first). For an on-disk index it returns
// once every batch is persisted, so an acknowledged write survives a crash
// of the process; a failure may leave earlier parts written, which writing
// the same documents again repairs.
func (ix *Index) Batch(docs []Document, deletes []string) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed.Load() {
		return ErrClosed
	}
	for _, part := range ix.split(docs) {
		if err := ix.batchInto(ix.live, part, deletes); err != nil {
			return err
		}
		deletes = nil
	}
	return nil
}

// split cuts docs into parts of about Options.BatchBytes of text each.
func (ix *Index) split(docs []Document) [][]Document {
	if ix.opts.BatchBytes <= 0 {
		return [][]Document{docs}
	}
	var parts [][]Document
	from, size := 0, 0
	for i := range docs {
		size += docs[i].textBytes()
		if size >= ix.opts.BatchBytes {
			parts = append(parts, docs[from:i+1])
			from, size = i+1, 0
		}
	}
	if from < len(docs) || len(parts) == 0 {
		parts = append(parts, docs[from:])
	}
	return parts
}

func (ix *Index) batchInto(target bleve.Index, docs []Document, deletes []string) error {
	ops := make([]Op, 0, len(docs)+len(deletes))
	for i := range docs {
		ops = append(ops, Op{ID: docs[i].ID, Doc: &docs[i]})
	}
	for _, id := range deletes {
		ops = append(ops, Op{ID: id})
	}
	if err := ix.writeBatch(target, ops, nil); err != nil {
		return fmt.Errorf("write batch of %d documents: %w", len(ops), err)
	}
	return nil
}

// SetInternal stores a small value beside the documents (it is rebuilt with
// them), for state derived from documents such as learned acronyms.
func (ix *Index) SetInternal(key string, val []byte) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed.Load() {
		return ErrClosed
	}
	if err := ix.live.SetInternal([]byte(key), val); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	ix.generation.Add(1)
	return nil
}

// GetInternal reads a value stored with SetInternal; nil when absent.
func (ix *Index) GetInternal(key string) ([]byte, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed.Load() {
		return nil, ErrClosed
	}
	v, err := ix.live.GetInternal([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

// Builder writes into a new index that is not yet searchable.
type Builder struct {
	ix     *Index
	target bleve.Index
}

// Batch writes docs into the index being built, split as Index.Batch
// splits them.
func (b *Builder) Batch(docs []Document) error {
	for _, part := range b.ix.split(docs) {
		if err := b.ix.batchInto(b.target, part, nil); err != nil {
			return err
		}
	}
	return nil
}

// SetInternal stores a value in the index being built.
func (b *Builder) SetInternal(key string, val []byte) error {
	if err := b.target.SetInternal([]byte(key), val); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// Rebuild builds a complete new index beside the live one with fill, then
// swaps it in atomically: searches see the old index until the swap and the
// new one after, never a half-built one. On error the live index is
// untouched and the partial build is removed. The old index is closed and
// deleted only after the swap.
func (ix *Index) Rebuild(fill func(b *Builder) error) error {
	if ix.closed.Load() {
		return ErrClosed
	}
	name, path := "", ""
	if ix.dir != "" {
		name = newGenerationName()
		path = filepath.Join(ix.dir, name)
	}
	next, err := newBleve(path, ix.mapping, ix.opts)
	if err != nil {
		return err
	}
	discard := func() {
		_ = next.Close()
		if path != "" {
			_ = os.RemoveAll(path)
		}
	}
	if err := fill(&Builder{ix: ix, target: next}); err != nil {
		discard()
		return fmt.Errorf("rebuild index: %w", err)
	}
	if err := ix.carryKept(next); err != nil {
		discard()
		return fmt.Errorf("rebuild index: %w", err)
	}
	return ix.swapIn(next, name)
}

// swapIn makes next, the generation name in the index directory, the live
// index, and closes and removes the one it replaces. next is closed and
// removed if it cannot be made current.
func (ix *Index) swapIn(next bleve.Index, name string) error {
	if ix.dir != "" {
		if err := writeCurrent(ix.dir, name); err != nil {
			_ = next.Close()
			_ = os.RemoveAll(filepath.Join(ix.dir, name))
			return err
		}
	}
	ix.mu.Lock()
	old, oldName := ix.live, ix.liveName
	ix.alias.Swap([]bleve.Index{next}, []bleve.Index{old})
	ix.live, ix.liveName = next, name
	ix.generation.Add(1)
	ix.oldMapping.Store(false)
	ix.mu.Unlock()

	if err := old.Close(); err != nil {
		return fmt.Errorf("close replaced index: %w", err)
	}
	if ix.dir != "" && oldName != "" {
		if err := os.RemoveAll(filepath.Join(ix.dir, oldName)); err != nil {
			return fmt.Errorf("remove replaced index: %w", err)
		}
	}
	ix.removeStale()
	return nil
}

// carryKept copies into next the kept values of the live generation that
// fill did not write itself (a replay of the log writes the synonym sets
// the log holds). The caller serialises writes of those values with the
// rebuild, as the engine does, so none is lost in between.
func (ix *Index) carryKept(next bleve.Index) error {
	for _, k := range keptKeys {
		mine, err := next.GetInternal([]byte(k))
		if err != nil {
			return fmt.Errorf("read %s: %w", k, err)
		}
		if mine != nil {
			continue
		}
		v, err := ix.GetInternal(k)
		if err != nil {
			return err
		}
		if v == nil {
			continue
		}
		if err := next.SetInternal([]byte(k), v); err != nil {
			return fmt.Errorf("keep %s: %w", k, err)
		}
	}
	return nil
}

// removeStale deletes generations left by a rebuild that crashed before
// its swap; they were never live.
func (ix *Index) removeStale() {
	if ix.dir == "" {
		return
	}
	entries, err := os.ReadDir(ix.dir)
	if err != nil {
		return
	}
	ix.mu.RLock()
	liveName := ix.liveName
	ix.mu.RUnlock()
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "gen-") && e.Name() != liveName {
			_ = os.RemoveAll(filepath.Join(ix.dir, e.Name()))
		}
	}
}

// Close closes the live index; later calls fail with ErrClosed.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed.Swap(true) {
		return nil
	}
	if err := ix.live.Close(); err != nil {
		return fmt.Errorf("close index %s: %w", displayPath(ix.dir), err)
	}
	return nil
}
