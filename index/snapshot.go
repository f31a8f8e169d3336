package index

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/blevesearch/bleve/v2"
)

// A snapshot is a consistent copy of the live index as a gzipped tar
// stream: Bleve's online copy of one index snapshot (writes go on while it
// is taken), with the applied log sequence inside it, in the same store as
// the documents it stands for. A new replica restores one and tails the log
// from that sequence on, instead of replaying the whole log.

// SnapshotInfo describes a snapshot.
type SnapshotInfo struct {
	// AppliedSeq is the last log sequence whose effect the snapshot holds.
	AppliedSeq uint64
	// MappingVersion is the mapping the snapshot was built with.
	MappingVersion string
	// Documents is how many documents it holds.
	Documents uint64
	// LogStream is the identity of the log AppliedSeq counts in (see
	// KeyLogStream); empty when the index did not record one.
	LogStream string
}

// ErrSnapshotMapping means a snapshot was built with another mapping
// version than this binary's: it cannot serve, and the log must be
// replayed instead.
var ErrSnapshotMapping = errors.New("snapshot has another mapping version")

// maxSnapshotFile and maxSnapshotBytes bound one file of a snapshot being
// restored and all of them (and the download): zap segments of a million
// documents are a few hundred MiB, the index 2.5 GiB.
const (
	maxSnapshotFile  = 64 << 30
	maxSnapshotBytes = 256 << 30
)

// Snapshot is a copy of the live index taken by TakeSnapshot, ready to be
// written out; Close removes it.
type Snapshot struct {
	Info SnapshotInfo
	dir  string
}

// TakeSnapshot copies the live index into a directory beside it (so it
// needs as much free disk as the index takes) and reads what the copy says
// of itself.
func (ix *Index) TakeSnapshot() (*Snapshot, error) {
	if ix.dir == "" {
		return nil, errors.New("snapshot: the index is in memory")
	}
	tmp, err := os.MkdirTemp(ix.dir, ".snapshot-")
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if err := ix.copyLive(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	info, err := describe(tmp)
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("snapshot: the copy does not open: %w", err)
	}
	return &Snapshot{Info: info, dir: tmp}, nil
}

// WriteTo writes the snapshot to w as a gzipped tar stream.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	if err := writeTar(cw, s.dir); err != nil {
		return cw.n, fmt.Errorf("snapshot: %w", err)
	}
	return cw.n, nil
}

// Close removes the snapshot's copy.
func (s *Snapshot) Close() error { return os.RemoveAll(s.dir) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// removeSnapshotCopies deletes what snapshots and restores left when the
// process died in the middle of one.
func removeSnapshotCopies(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".snapshot-") || strings.HasPrefix(e.Name(), ".restore-") {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// copyLive copies the live index into the empty directory dst. The live
// index is held (searches go on; a rebuild's swap or Close waits for the
// copy, seconds for a large index).
func (ix *Index) copyLive(dst string) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed.Load() {
		return ErrClosed
	}
	c, ok := ix.live.(bleve.IndexCopyable)
	if !ok {
		return fmt.Errorf("snapshot: %T cannot be copied online", ix.live)
	}
	if err := c.CopyTo(bleve.FileSystemDirectory(dst)); err != nil {
		return fmt.Errorf("snapshot: copy the index: %w", err)
	}
	return nil
}

// describe opens the index in dir read-only and reads what a snapshot
// says of itself.
func describe(dir string) (SnapshotInfo, error) {
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err != nil {
		return SnapshotInfo{}, fmt.Errorf("not a Bleve index: %w", err)
	}
	idx, err := openUsingRecover(dir, map[string]interface{}{"read_only": true, "bolt_timeout": "5s"})
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer idx.Close()
	return infoOf(idx)
}

// infoOf reads what an index says of itself as a snapshot.
func infoOf(idx bleve.Index) (SnapshotInfo, error) {
	var info SnapshotInfo
	v, err := idx.GetInternal([]byte(keyMappingVersion))
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("read mapping version: %w", err)
	}
	info.MappingVersion = string(v)
	if v, err = idx.GetInternal([]byte(keyAppliedSeq)); err != nil {
		return SnapshotInfo{}, fmt.Errorf("read applied sequence: %w", err)
	}
	if info.AppliedSeq, err = decodeSeq(v); err != nil {
		return SnapshotInfo{}, err
	}
	if info.Documents, err = idx.DocCount(); err != nil {
		return SnapshotInfo{}, fmt.Errorf("count documents: %w", err)
	}
	if v, err = idx.GetInternal([]byte(KeyLogStream)); err != nil {
		return SnapshotInfo{}, fmt.Errorf("read log stream: %w", err)
	}
	info.LogStream = string(v)
	return info, nil
}

func writeTar(w io.Writer, dir string) error {
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// RestoreSnapshot replaces the live index with the snapshot read from r.
// The stream is first read whole into a file beside the index, so a slow
// unpack never stalls the download, and a download that fails or whose
// checksum does not match (r's error) stops the restore before anything is
// unpacked. The snapshot is then unpacked into a directory of its own,
// synced, renamed to a new generation, checked (it opens, with this
// binary's mapping version: ErrSnapshotMapping otherwise) and swapped in as
// a rebuild is. A snapshot that fails any check leaves the live index as
// it was. The info is returned whenever the swap happened, even with an
// error of the clean-up after it.
func (ix *Index) RestoreSnapshot(r io.Reader) (SnapshotInfo, error) {
	if ix.dir == "" {
		return SnapshotInfo{}, errors.New("restore snapshot: the index is in memory")
	}
	spool, err := os.CreateTemp(ix.dir, ".restore-*.tgz")
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	if _, err := io.Copy(spool, io.LimitReader(r, maxSnapshotBytes+1)); err != nil {
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: download: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	unpacked := strings.TrimSuffix(spool.Name(), ".tgz")
	if err := readTar(spool, unpacked); err != nil {
		_ = os.RemoveAll(unpacked)
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	name := newGenerationName()
	path := filepath.Join(ix.dir, name)
	if err := os.Rename(unpacked, path); err != nil {
		_ = os.RemoveAll(unpacked)
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	if err := syncDir(ix.dir); err != nil {
		_ = os.RemoveAll(path)
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	opts := ix.opts
	opts.KeepOldMapping = true
	next, old, err := openBleve(path, opts)
	if err != nil {
		_ = os.RemoveAll(path)
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	discard := func() {
		_ = next.Close()
		_ = os.RemoveAll(path)
	}
	info, err := infoOf(next)
	if err != nil {
		discard()
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	if old {
		discard()
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w (%q, this binary needs %q)", ErrSnapshotMapping, info.MappingVersion, MappingVersion)
	}
	if err := ix.swapIn(next, name); err != nil {
		ix.mu.RLock()
		swapped := ix.liveName == name
		ix.mu.RUnlock()
		if swapped {
			return info, fmt.Errorf("restore snapshot: swapped in, then: %w", err)
		}
		return SnapshotInfo{}, fmt.Errorf("restore snapshot: %w", err)
	}
	return info, nil
}

// readTar unpacks a snapshot into dir, which it creates. Only plain files
// and directories inside dir are taken.
func readTar(r io.Reader, dir string) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a gzipped snapshot: %w", err)
	}
	defer zr.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	var total int64
	dirs := []string{dir}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Reading gzip's end checks its checksum.
			if _, err := io.Copy(io.Discard, zr); err != nil {
				return fmt.Errorf("read snapshot: %w", err)
			}
			// Directories last, deepest first: their entries are on disk
			// before the generation is renamed into place.
			for i := len(dirs) - 1; i >= 0; i-- {
				if err := syncDir(dirs[i]); err != nil {
					return err
				}
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
		rel := filepath.FromSlash(strings.TrimSuffix(h.Name, "/"))
		if rel == "" || !filepath.IsLocal(rel) {
			return fmt.Errorf("snapshot entry %q is outside the index", h.Name)
		}
		path := filepath.Join(dir, rel)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, path)
		case tar.TypeReg:
			if total += h.Size; h.Size > maxSnapshotFile || total > maxSnapshotBytes {
				return fmt.Errorf("snapshot entry %q is %d bytes, %d in all: past the bounds of an index", h.Name, h.Size, total)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := writeFile(path, tr); err != nil {
				return err
			}
		default:
			return fmt.Errorf("snapshot entry %q is not a file or a directory", h.Name)
		}
	}
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// writeFile writes the file and syncs it: a restored generation becomes
// live, and a crash must not leave it half on disk.
func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
