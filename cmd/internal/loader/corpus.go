// Package loader reads the documents the commands index: the embedded seeds
// or a JSON Lines file of documents in the API's shape (gzip-compressed when
// the name ends in .gz). It is shared by searchd -rebuild and the indexer.
package loader

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
	"github.com/mpower/labor-search/seeds"
)

// DefaultBatchBytes is how much JSON goes into one index batch by default:
// big enough that Bleve writes few segments, small enough to bound memory.
const DefaultBatchBytes = 4 << 20

// MaxLineBytes bounds one document, as the API bounds one PUT body.
const MaxLineBytes = index.MaxDocumentBytes

// Seeds yields the embedded seed documents as one batch.
func Seeds() (search.Source, int, error) {
	docs, err := seeds.Documents()
	if err != nil {
		return nil, 0, fmt.Errorf("seed documents: %w", err)
	}
	return func(yield func([]index.Document) error) error { return yield(docs) }, len(docs), nil
}

// File is an open JSON Lines corpus.
type File struct {
	path string
	f    *os.File
	size int64
	read atomic.Int64 // bytes of the file consumed, for progress
	r    io.Reader
}

// Open opens a corpus file; a name ending in .gz is decompressed.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open corpus: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open corpus: %w", err)
	}
	c := &File{path: path, f: f}
	if st.Mode().IsRegular() {
		c.size = st.Size()
	}
	c.r = &countingReader{r: f, n: &c.read}
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(c.r)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("open corpus %s: not readable as gzip (the name ends in .gz): %w", path, err)
		}
		c.r = gz
	}
	return c, nil
}

// Size is the file's size on disk (compressed, for .gz), 0 when unknown
// (a pipe).
func (c *File) Size() int64 { return c.size }

// Consumed is how many bytes of the file have been read so far; with Size
// it gives progress even for a compressed file.
func (c *File) Consumed() int64 { return c.read.Load() }

// Close closes the file.
func (c *File) Close() error { return c.f.Close() }

// Source yields the file's documents in batches of about batchBytes of JSON.
// Each line is decoded as strictly as the API decodes a body (unknown
// fields rejected) and validated; the first bad line stops the source with
// an error naming the file and the line number. Blank lines are skipped.
func (c *File) Source(batchBytes int) search.Source {
	if batchBytes <= 0 {
		batchBytes = DefaultBatchBytes
	}
	return func(yield func([]index.Document) error) error {
		sc := bufio.NewScanner(c.r)
		sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
		var batch []index.Document
		size, line, total := 0, 0, 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			doc, err := index.DecodeDocument(b)
			if err == nil {
				doc.ApplyDefaults()
				err = doc.Validate()
			}
			if err != nil {
				return fmt.Errorf("%s line %d: %w", c.path, line, err)
			}
			batch = append(batch, doc)
			total++
			if size += len(b); size >= batchBytes {
				if err := yield(batch); err != nil {
					return err
				}
				batch, size = nil, 0
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return fmt.Errorf("%s line %d: longer than %d bytes", c.path, line+1, MaxLineBytes)
			}
			return fmt.Errorf("read %s after line %d: %w", c.path, line, err)
		}
		if total == 0 {
			return fmt.Errorf("%s holds no documents", c.path)
		}
		if len(batch) > 0 {
			return yield(batch)
		}
		return nil
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
