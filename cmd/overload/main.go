// Command overload proves searchd holds up under abuse: it starts searchd on
// 127.0.0.1 with an on-disk index of generated documents and an API key,
// sends mixed traffic from many concurrent connections for a fixed time
// (ordinary and broad searches, browsing with facets, suggestions, document
// reads, malformed requests, writes with and without the key), then checks
// the answers and the process:
//
//   - no 5xx except deliberate load shedding: 503 overloaded or timeout,
//     and 429 rate_limited, each with Retry-After;
//   - every answer is what its request deserves (a malformed request gets
//     its 4xx, a write without the key never succeeds, ...);
//   - no transport error (reset, timeout, cut-off body);
//   - goroutines and resident memory back near their level before the
//     load, after a short settle;
//   - acknowledged writes are readable, and searchd exits cleanly on SIGTERM.
//
// It prints a table (requests, rate, p50/p99 per kind of request, counts
// per status) and exits non-zero on any violation. scripts/overload.sh
// builds both programs and runs it; by hand:
//
//	go build -o /tmp/searchd ./cmd/searchd
//	go run ./cmd/overload -searchd /tmp/searchd -duration 60s -clients 64
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mpower/labor-search/internal/synthetic"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "overload:", err)
		}
		os.Exit(1)
	}
}

type config struct {
	searchd     string
	target      string
	docs        int
	duration    time.Duration
	warmup      time.Duration
	settle      time.Duration
	clients     int
	maxSearches int
	work        string
	seed        uint64
	timeout     time.Duration

	maxGoroutineGrowth int
	maxRSSGrowthMiB    float64
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("overload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.searchd, "searchd", "", "searchd `binary` to start on 127.0.0.1 (required unless -target)")
	fs.StringVar(&c.target, "target", "", "base `URL` of a searchd already running on a loopback address, instead of starting one (its key in OVERLOAD_API_KEY)")
	fs.IntVar(&c.docs, "docs", 10000, "generated documents to index before the load")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long the load runs")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "mixed traffic from 4 connections before the figures taken as the start")
	fs.DurationVar(&c.settle, "settle", 5*time.Second, "pause after the load before goroutines and memory are read again")
	fs.IntVar(&c.clients, "clients", 64, "concurrent connections")
	fs.IntVar(&c.maxSearches, "max-searches", 0, "pass -max-searches to searchd, to see load shedding (0 = searchd's default)")
	fs.StringVar(&c.work, "work", "", "`directory` for the corpus, index and searchd log (default: a temporary one, removed)")
	fs.Uint64Var(&c.seed, "seed", 1, "corpus and traffic seed")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "client timeout of each request; reaching it is a violation")
	fs.IntVar(&c.maxGoroutineGrowth, "max-goroutine-growth", 10, "goroutines allowed above the start after the settle")
	fs.Float64Var(&c.maxRSSGrowthMiB, "max-rss-growth", 64, "MiB of resident memory allowed above the start after the settle")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case (c.searchd == "") == (c.target == ""):
		return nil, errors.New("give -searchd BINARY to start one, or -target URL of a running one")
	case c.clients < 1 || c.duration <= 0 || c.docs < 0 || c.timeout <= 0:
		return nil, errors.New("-clients, -duration and -timeout must be positive, -docs not negative")
	}
	if c.target != "" {
		if err := loopbackOnly(c.target); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// loopbackOnly refuses to send load anywhere but this machine.
func loopbackOnly(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-target %q is not an http://host:port URL", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-target %q is not a loopback address; load goes to 127.0.0.1 only", base)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	gen, err := synthetic.NewFromSeeds(c.seed)
	if err != nil {
		return err
	}
	// The first documents are the sample the traffic is drawn from, and the
	// start of the indexed corpus, so ids and words exist in the index.
	sample := gen.Documents(min(max(c.docs, 200), 5000))
	var svc *service
	base, key, docs := c.target, os.Getenv("OVERLOAD_API_KEY"), c.docs
	if c.target == "" {
		work := c.work
		if work == "" {
			if work, err = os.MkdirTemp("", "overload-"); err != nil {
				return err
			}
			defer os.RemoveAll(work)
		}
		key = randomKey()
		fmt.Fprintf(stdout, "indexing %d generated documents and starting searchd in %s\n", c.docs, work)
		if svc, err = startSearchd(ctx, c, work, key); err != nil {
			return err
		}
		defer svc.kill()
		base, docs = svc.base, svc.documents
	}
	t, err := newTraffic(base, key, sample, c)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "warming up: 4 connections for %v\n", c.warmup)
	warm := t.load(ctx, 4, c.warmup)
	before, err := t.scrape(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "load: %d connections for %v against %s (%d documents)\n", c.clients, c.duration, base, docs)
	res := t.load(ctx, c.clients, c.duration)
	select {
	case <-time.After(c.settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	after, err := t.scrape(ctx)
	if err != nil {
		return err
	}
	res.violations = append(res.violations, warm.violations...)
	res.violations = append(res.violations, t.checkAcked(ctx, res.acked)...)
	res.violations = append(res.violations, checkRecovery(before, after, c)...)
	res.violations = append(res.violations, checkServerCounts(before, after)...)
	if svc != nil {
		if err := svc.stop(30 * time.Second); err != nil {
			res.violations = append(res.violations, err.Error())
		}
	}
	report(stdout, res, before, after, c)
	if len(res.violations) > 0 {
		if svc != nil {
			printProblems(stdout, svc.log)
		}
		return fmt.Errorf("%d violations", len(res.violations))
	}
	return nil
}

// printProblems shows the warnings and errors of searchd's log, which goes
// away with the temporary work directory; load shedding is left out.
func printProblems(w io.Writer, logPath string) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return
	}
	shown := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		shed := strings.Contains(line, `"status":503`) || strings.Contains(line, `"status":429`)
		if (strings.Contains(line, `"level":"WARN"`) && !shed) || strings.Contains(line, `"level":"ERROR"`) || (line != "" && line[0] != '{') {
			if shown == 0 {
				fmt.Fprintln(w, "searchd's warnings and errors:")
			}
			if shown++; shown > 20 {
				fmt.Fprintln(w, "  …")
				return
			}
			fmt.Fprintln(w, "  "+line)
		}
	}
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// service is the searchd started for the run.
type service struct {
	cmd       *exec.Cmd
	base      string
	documents int
	exited    chan struct{}
	err       error
	log       string
}

// startSearchd writes the corpus, has searchd build its index from it, then
// restarts searchd on the built index: the figures taken before the load are
// then those of a serving process, not of one that has just indexed.
func startSearchd(ctx context.Context, c *config, work, key string) (*service, error) {
	corpusPath := filepath.Join(work, "synthetic.jsonl")
	f, err := os.Create(corpusPath)
	if err != nil {
		return nil, err
	}
	gen, err := synthetic.NewFromSeeds(c.seed)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := gen.WriteJSONL(f, c.docs); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	args := []string{"-addr", "127.0.0.1:0", "-index", filepath.Join(work, "index")}
	if c.maxSearches > 0 {
		args = append(args, "-max-searches", strconv.Itoa(c.maxSearches))
	}
	logPath := filepath.Join(work, "searchd.log")
	if c.docs > 0 {
		builder, err := startProcess(ctx, c.searchd, append(args, "-input", corpusPath), key, logPath)
		if err != nil {
			return nil, err
		}
		if err := builder.stop(time.Minute); err != nil {
			return nil, err
		}
	}
	return startProcess(ctx, c.searchd, args, key, logPath)
}

// startProcess runs searchd and waits for its ready line; its output is
// appended to logPath.
func startProcess(ctx context.Context, bin string, args []string, key, logPath string) (*service, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SEARCH_API_KEY="+key)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &service{cmd: cmd, exited: make(chan struct{}), log: logPath}
	ready := make(chan map[string]any, 1)
	go func() {
		defer logFile.Close()
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logFile.Write(append(line, '\n'))
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "ready" {
				select {
				case ready <- m:
				default:
				}
			}
		}
		_, _ = io.Copy(logFile, pipe)
		s.err = cmd.Wait()
		close(s.exited)
	}()
	select {
	case m := <-ready:
		s.base = "http://" + fmt.Sprint(m["addr"])
		if n, ok := m["documents"].(float64); ok {
			s.documents = int(n)
		}
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("searchd exited before it was ready (%v); see %s", s.err, logPath)
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
}

// stop sends SIGTERM and expects a clean exit within limit.
func (s *service) stop(limit time.Duration) error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM searchd: %w", err)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			return fmt.Errorf("searchd exited with %v after SIGTERM; see %s", s.err, s.log)
		}
		return nil
	case <-time.After(limit):
		return fmt.Errorf("searchd still running %v after SIGTERM", limit)
	}
}

func (s *service) kill() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}
