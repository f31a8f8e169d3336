// Command indexer builds or refreshes an on-disk index from the embedded
// seeds or from a JSON Lines file of documents (the API's document shape,
// gzip-compressed when the name ends in .gz). The new index is built beside
// the live one and swapped in only when complete: a malformed line stops
// the run with its line number and leaves the live index as it was.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/mpower/labor-search/cmd/internal/loader"
	"github.com/mpower/labor-search/cmd/internal/memory"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/replication"
	"github.com/mpower/labor-search/search"
)

func main() {
	// A bulk build allocates and drops analysis garbage at a high rate;
	// collecting less often saves about a tenth of the CPU (measured: 8.5 ->
	// 7.5 s user for 20,000 documents). The memory limit run sets from the
	// budget still collects early enough to stay within it. GOGC, when
	// set, still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "indexer:", err)
		os.Exit(1)
	}
}

type config struct {
	indexDir   string
	input      string
	batchBytes int // 0 = the memory plan's
	memory     memory.Budget
	cpuProfile string

	// -publish: seed the replicated log instead of building an index.
	publish   bool
	natsURLs  []string
	natsCreds string
	stream    string
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("indexer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: indexer -index DIR [-input FILE.jsonl[.gz]] [-memory SIZE] [-batch-bytes N]")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.indexDir, "index", getenv("SEARCH_INDEX"), "index `directory` to build or refresh (SEARCH_INDEX)")
	fs.StringVar(&c.input, "input", getenv("SEARCH_INPUT"), "JSON Lines `file` of documents, .gz allowed; empty = the embedded seeds (SEARCH_INPUT)")
	fs.IntVar(&c.batchBytes, "batch-bytes", 0, "JSON `bytes` per index batch; 0 = derived from -memory (1 MiB at most)")
	mem := fs.String("memory", getenv("SEARCH_MEMORY"), "memory `budget` of the build, such as 512MiB or 2GiB; default 512MiB, or the cgroup limit or GOMEMLIMIT when smaller (SEARCH_MEMORY)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the build to `file` (for go tool pprof)")
	var natsURLs string
	fs.BoolVar(&c.publish, "publish", false, "publish the documents to the replicated log (-nats) instead of building an index: seeds every searchd replica; safe to re-run")
	fs.StringVar(&natsURLs, "nats", getenv("SEARCH_NATS_URL"), "comma-separated NATS server `URLs`, with -publish (SEARCH_NATS_URL)")
	fs.StringVar(&c.natsCreds, "nats-creds", getenv("SEARCH_NATS_CREDS"), "NATS credentials `file`, with -publish (SEARCH_NATS_CREDS)")
	fs.StringVar(&c.stream, "stream", replication.DefaultStream, "JetStream stream `name`, with -publish")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, u := range strings.Split(natsURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.natsURLs = append(c.natsURLs, u)
		}
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q; see -h", fs.Args())
	case c.publish && len(c.natsURLs) == 0:
		return c, errors.New("-publish needs -nats URL[,URL] (or SEARCH_NATS_URL)")
	case c.publish && c.indexDir != "":
		return c, errors.New("-publish and -index do not go together: publishing seeds the log, from which every replica builds its own index")
	case c.publish:
	case c.indexDir == "":
		return c, errors.New("-index DIR is required: the indexer builds an on-disk index (searchd builds its in-memory one itself)")
	case c.batchBytes < 0:
		return c, errors.New("-batch-bytes must not be negative")
	}
	var err error
	c.memory, err = memory.Resolve(*mem, getenv, os.ReadFile)
	return c, err
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}

	plan := memory.PlanFor(cfg.memory.Bytes)
	defer plan.Apply()()
	if cfg.batchBytes > 0 {
		plan.BatchBytes = cfg.batchBytes
	}

	// The source is opened first, so a missing file fails before the index
	// directory is created.
	var src search.Source
	p := &progress{out: stderr, tty: isTerminal(stderr)}
	from := "the seeds"
	if cfg.input == "" {
		var n int
		if src, n, err = loader.Seeds(); err != nil {
			return err
		}
		p.totalDocs = int64(n)
	} else {
		f, err := loader.Open(cfg.input)
		if err != nil {
			return err
		}
		defer f.Close()
		src, from = f.Source(plan.BatchBytes), cfg.input
		p.totalBytes, p.consumed = f.Size(), f.Consumed
	}

	if cfg.publish {
		return publish(ctx, cfg, src, from, stdout)
	}

	// The indexer always replaces the whole index, so it never needs to read
	// the current generation, which may be damaged or of an older mapping.
	ix, err := index.Open(cfg.indexDir, index.Options{
		Fresh: true, BatchBytes: plan.BatchBytes, MaxSegmentDocs: plan.MaxSegmentDocs,
	})
	if err != nil {
		return err
	}
	if err := ix.KeptProblem(); err != nil {
		fmt.Fprintf(stderr, "warning: the editors' synonym sets of the index being replaced cannot be read, so the new index will not have them: %v\n", err)
	}
	engine, err := seedengine.New(ix, search.Options{RebuildWriters: plan.Writers})
	if err != nil {
		ix.Close()
		return err
	}
	counted := func(yield func([]index.Document) error) error {
		return src(func(docs []index.Document) error {
			err := yield(docs)
			p.batchDone(len(docs))
			return err
		})
	}

	if cfg.cpuProfile != "" {
		pf, err := os.Create(cfg.cpuProfile)
		if err != nil {
			ix.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			ix.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	p.start = time.Now()
	peak := memory.Watch(50 * time.Millisecond)
	stopProgress := p.run()
	n, err := engine.Rebuild(ctx, counted)
	stopProgress()
	took := time.Since(p.start)
	peakHeap := peak.Stop()
	if cerr := ix.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close index: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("index %s from %s (the live index is unchanged): %w", cfg.indexDir, from, err)
	}
	rss := "unknown"
	if v, ok := memory.PeakRSS(); ok {
		rss = memory.FormatBytes(v)
	}
	fmt.Fprintf(stdout, "indexed %d documents from %s into %s in %.2f s (%.0f documents/s); peak heap %s, peak RSS %s, budget %s\n",
		n, from, cfg.indexDir, took.Seconds(), rate(int64(n), took), memory.FormatBytes(int64(peakHeap)), rss, cfg.memory)
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// progress reports how far a build is: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise (a log file or CI).
type progress struct {
	out        io.Writer
	tty        bool
	start      time.Time
	docs       atomic.Int64
	totalDocs  int64        // known for the seeds
	totalBytes int64        // known for a regular file
	consumed   func() int64 // bytes of the file read so far
	// doneBytes is consumed() when the last batch was written: the reader
	// runs a batch ahead of the index, so this is the honest fraction.
	doneBytes atomic.Int64
}

// batchDone records a batch written to the index.
func (p *progress) batchDone(docs int) {
	p.docs.Add(int64(docs))
	if p.consumed != nil {
		p.doneBytes.Store(p.consumed())
	}
}

// snapshot is the progress at one moment, what render draws.
type snapshot struct {
	docs    int64
	elapsed time.Duration
	// fraction done, or -1 when the total is unknown.
	fraction float64
}

func (p *progress) snapshot() snapshot {
	s := snapshot{docs: p.docs.Load(), elapsed: time.Since(p.start), fraction: -1}
	switch {
	case p.totalBytes > 0:
		s.fraction = float64(p.doneBytes.Load()) / float64(p.totalBytes)
	case p.totalDocs > 0:
		s.fraction = float64(s.docs) / float64(p.totalDocs)
	}
	s.fraction = min(s.fraction, 1)
	return s
}

// run starts reporting and returns the function that stops it.
func (p *progress) run() (stop func()) {
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if p.tty {
					fmt.Fprint(p.out, "\r\033[K") // clear the bar before the summary
				}
				return
			case <-t.C:
				if p.tty {
					fmt.Fprint(p.out, "\r"+renderBar(p.snapshot(), 30)+"\033[K")
				} else {
					fmt.Fprintln(p.out, renderLine(p.snapshot()))
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// renderBar draws a terminal progress bar of the given width.
func renderBar(s snapshot, width int) string {
	var b strings.Builder
	if s.fraction >= 0 {
		filled := int(s.fraction * float64(width))
		b.WriteString("[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "]")
		fmt.Fprintf(&b, " %3.0f%%", s.fraction*100)
	}
	fmt.Fprintf(&b, " %d docs, %.0f docs/s", s.docs, rate(s.docs, s.elapsed))
	if eta, ok := s.eta(); ok {
		fmt.Fprintf(&b, ", ETA %s", eta)
	}
	return strings.TrimSpace(b.String())
}

// renderLine is the plain progress line written when stderr is not a terminal.
func renderLine(s snapshot) string {
	line := fmt.Sprintf("indexed %d documents", s.docs)
	if s.fraction >= 0 {
		line += fmt.Sprintf(" (%.0f%%)", s.fraction*100)
	}
	line += fmt.Sprintf(", %.0f docs/s", rate(s.docs, s.elapsed))
	if eta, ok := s.eta(); ok {
		line += ", ETA " + eta.String()
	}
	return line
}

// eta extrapolates the time left from the pace so far.
func (s snapshot) eta() (time.Duration, bool) {
	if s.fraction <= 0 || s.fraction >= 1 {
		return 0, false
	}
	left := time.Duration(float64(s.elapsed) * (1 - s.fraction) / s.fraction)
	return left.Round(time.Second), true
}
