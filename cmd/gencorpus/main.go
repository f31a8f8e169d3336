// Command gencorpus writes a deterministic corpus of generated project
// documents as JSON Lines, the input of cmd/indexer, for benchmarks at any
// scale:
//
//	go run ./cmd/gencorpus -n 1000000 -seed 1 > synthetic.jsonl
//	go run ./cmd/gencorpus -n 1000000 -o synthetic.jsonl.gz
//
// The same -n and -seed always give the same bytes, and the first k
// documents of a larger corpus are those of a k-document one.
package main

import (
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mpower/labor-search/internal/synthetic"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gencorpus:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("gencorpus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1000, "number of documents")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same documents")
	gz := fs.Bool("gzip", false, "gzip the output (implied by an -o name ending in .gz)")
	out := fs.String("o", "", "output file (default: standard output); written beside and renamed into place when complete")
	quiet := fs.Bool("q", false, "no summary line on standard error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gencorpus [-n N] [-seed S] [-gzip] [-o FILE] > synthetic.jsonl")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *n < 0 {
		return fmt.Errorf("-n must be 0 or more, not %d", *n)
	}
	g, err := synthetic.NewFromSeeds(*seed)
	if err != nil {
		return err
	}

	began := time.Now()
	w := stdout
	var commit func() error
	if *out != "" {
		if strings.HasSuffix(*out, ".gz") {
			*gz = true
		}
		// A partial file never takes the final name, so a cached corpus is
		// always complete.
		tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
		if err != nil {
			return fmt.Errorf("create %s: %w", *out, err)
		}
		defer func() {
			if err != nil {
				_ = tmp.Close()
				_ = os.Remove(tmp.Name())
			}
		}()
		w = tmp
		commit = func() error {
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("write %s: %w", *out, err)
			}
			if err := os.Rename(tmp.Name(), *out); err != nil {
				return fmt.Errorf("rename to %s: %w", *out, err)
			}
			return nil
		}
	}
	if *gz {
		// BestSpeed keeps compression from halving the generator's rate; the
		// text still shrinks about four times.
		zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		if err := g.WriteJSONL(zw, *n); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
	} else if err := g.WriteJSONL(w, *n); err != nil {
		return err
	}
	if commit != nil {
		if err := commit(); err != nil {
			return err
		}
	}
	if !*quiet {
		secs := time.Since(began).Seconds()
		fmt.Fprintf(stderr, "gencorpus: %d documents, seed %d, %.1f s, %.0f documents/s\n", *n, *seed, secs, float64(*n)/max(secs, 1e-9))
	}
	return nil
}
