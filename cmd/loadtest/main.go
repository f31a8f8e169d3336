// Command loadtest drives the search service, or the same requests in
// process, with a fixed query mix drawn from a corpus, and prints latency
// percentiles and throughput per class of request and number of clients.
// scripts/bench.sh runs it end to end; by hand:
//
//	loadtest -baseline IDX -corpus C -json plain.json    # plain Bleve in process
//	loadtest -engine IDX -corpus C -json engine.json     # the service's engine in process
//	loadtest -engine IDX -no-cache -corpus C -json nocache.json
//	loadtest -addr 127.0.0.1:8080 -corpus C -pid PID -json http.json
//	loadtest -build-plain DIR -corpus C                  # the indexing baseline: plain Bleve builds DIR
//	loadtest -report -plain plain.json -engine-results engine.json \
//		-engine-nocache-results nocache.json -http http.json
//
// The in-process modes open the index directory, which a running searchd
// holds locked: run them before starting searchd or after stopping it.
// Traffic goes to loopback addresses only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/synthetic"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
		os.Exit(1)
	}
}

type config struct {
	// Targets: exactly one of these.
	addr     string
	baseline string
	engine   string
	noCache  bool
	report   bool
	waitURL  string
	since    int64 // unix nanoseconds the wait is counted from
	freePort bool
	// buildPlain is a new directory plain Bleve indexes -corpus into.
	buildPlain string

	corpusPath string
	sample     int
	pool       int
	seed       uint64
	duration   time.Duration
	clients    []int
	classes    []synthetic.Class
	warmup     int
	asOf       time.Time
	timeout    time.Duration

	jsonOut     string
	pid         int
	cpuProfile  string
	failOnError bool

	// -report inputs.
	plainIn, engineIn, noCacheIn, httpIn string
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "", "drive searchd over HTTP at this loopback `host:port`")
	fs.StringVar(&c.baseline, "baseline", "", "run the plain Bleve requests in process on this index `directory` (opened read-only)")
	fs.StringVar(&c.engine, "engine", "", "run the service's engine in process on this index `directory`")
	fs.BoolVar(&c.noCache, "no-cache", false, "with -engine: turn the engine's caches off, so every request is computed")
	fs.BoolVar(&c.report, "report", false, "print the combined table of -plain, -engine-results and -http result files")
	fs.StringVar(&c.waitURL, "wait", "", "poll this loopback `URL` until it answers 200 (or -timeout passes), then print the milliseconds waited")
	fs.Int64Var(&c.since, "since", 0, "with -wait: count from this instant (`unix nanoseconds`, e.g. date +%s%N before starting searchd) instead of from now")
	fs.BoolVar(&c.freePort, "free-port", false, "print a free TCP port on 127.0.0.1 and exit")
	fs.StringVar(&c.buildPlain, "build-plain", "", "index -corpus into this new `directory` with plain Bleve (default mapping, batches of 1,000), the indexer's baseline, and print its documents/s and peak memory")

	fs.StringVar(&c.corpusPath, "corpus", "", "JSON Lines `file` (.gz allowed) the index was built from; the mix is drawn from its first -sample documents")
	fs.IntVar(&c.sample, "sample", 20000, "documents of the corpus the query mix is drawn from")
	fs.IntVar(&c.pool, "pool", 5000, "queries per class; the clients take them in turn, so a run repeats a request only as often as the pool does (broad and browse requests repeat there as traffic does) or when it wraps around")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the query mix")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time of each phase (one class at one number of clients)")
	clients := fs.String("clients", "1,16", "comma-separated numbers of concurrent clients")
	classes := fs.String("classes", "selective,broad,browse,suggest", "comma-separated classes to run")
	fs.IntVar(&c.warmup, "warmup", 5, "requests of each class run once before measuring it (not counted; their totals give the hits column)")
	asOf := fs.String("as-of", "", "`day` (YYYY-MM-DD) status filters are drawn for and the baseline computes status on; default today (UTC), as searchd does")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "deadline of one request; with -wait, how long to wait")

	fs.StringVar(&c.jsonOut, "json", "", "also write the results to this `file` as JSON, for -report")
	fs.IntVar(&c.pid, "pid", 0, "`pid` of the searchd under test: its peak and current resident memory are reported")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured phases to `file` (in-process modes)")
	fs.BoolVar(&c.failOnError, "fail-on-error", false, "exit with an error when a request failed or a phase made no request")

	fs.StringVar(&c.plainIn, "plain", "", "-report: results `file` of the -baseline run")
	fs.StringVar(&c.engineIn, "engine-results", "", "-report: results `file` of the -engine run")
	fs.StringVar(&c.noCacheIn, "engine-nocache-results", "", "-report: results `file` of the -engine -no-cache run")
	fs.StringVar(&c.httpIn, "http", "", "-report: results `file` of the -addr run")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	modes := 0
	for _, set := range []bool{c.addr != "", c.baseline != "", c.engine != "", c.report, c.waitURL != "", c.freePort, c.buildPlain != ""} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return nil, errors.New("give exactly one of -addr, -baseline, -engine, -report, -wait, -free-port, -build-plain")
	}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 256 {
			return nil, fmt.Errorf("-clients: %q is not a number of clients between 1 and 256", s)
		}
		c.clients = append(c.clients, n)
	}
	for _, s := range strings.Split(*classes, ",") {
		cl := synthetic.Class(strings.TrimSpace(s))
		known := false
		for _, k := range synthetic.Classes {
			known = known || k == cl
		}
		if !known {
			return nil, fmt.Errorf("-classes: unknown class %q (selective, broad, browse, suggest)", s)
		}
		c.classes = append(c.classes, cl)
	}
	c.asOf = time.Now().UTC()
	if *asOf != "" {
		t, err := time.Parse(index.DateLayout, *asOf)
		if err != nil {
			return nil, fmt.Errorf("-as-of: %q is not a YYYY-MM-DD day", *asOf)
		}
		c.asOf = t
	}
	switch {
	case c.duration <= 0:
		return nil, errors.New("-duration must be positive")
	case c.sample < 100:
		return nil, errors.New("-sample must be at least 100")
	case c.pool < 1:
		return nil, errors.New("-pool must be at least 1")
	case c.warmup < 0:
		return nil, errors.New("-warmup must be 0 or more")
	}
	if c.noCache && c.engine == "" {
		return nil, errors.New("-no-cache goes with -engine")
	}
	if c.addr != "" {
		if err := loopbackOnly(c.addr); err != nil {
			return nil, err
		}
	}
	if (c.addr != "" || c.baseline != "" || c.engine != "" || c.buildPlain != "") && c.corpusPath == "" {
		return nil, errors.New("-corpus is required: the query mix is drawn from it")
	}
	return c, nil
}

// loopbackOnly refuses to send load anywhere but this machine.
func loopbackOnly(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("address %q: %w", hostport, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("address %q is not a loopback address: load goes to 127.0.0.1 only", hostport)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	switch {
	case c.freePort:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		fmt.Fprintln(stdout, port)
		return nil
	case c.waitURL != "":
		from := time.Now()
		if c.since > 0 {
			from = time.Unix(0, c.since)
		}
		if err := waitReady(ctx, c.waitURL, c.timeout); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%.0f\n", synthetic.Ms(time.Since(from)))
		return nil
	case c.report:
		return report(stdout, c.plainIn, c.engineIn, c.noCacheIn, c.httpIn)
	case c.buildPlain != "":
		return buildPlain(ctx, c.buildPlain, c.corpusPath, stdout)
	}

	sample, err := readSample(c.corpusPath, c.sample)
	if err != nil {
		return err
	}
	mix, err := synthetic.NewMix(sample, c.pool, c.seed, c.asOf)
	if err != nil {
		return err
	}
	var t target
	switch {
	case c.addr != "":
		t, err = newHTTPTarget(c.addr, c.clients)
	case c.baseline != "":
		t, err = newPlainTarget(c.baseline, c.asOf)
	default:
		t, err = newEngineTarget(c.engine, c.noCache)
	}
	if err != nil {
		return err
	}
	defer t.close()

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	res, err := measure(ctx, c, t, mix, stderr)
	if err != nil {
		return err
	}
	if c.pid > 0 {
		res.Memory, err = readMemory(c.pid)
		if err != nil {
			return err
		}
	}
	printRun(stdout, res)
	if c.jsonOut != "" {
		if err := writeResults(c.jsonOut, res); err != nil {
			return err
		}
	}
	if c.failOnError {
		for _, p := range res.Phases {
			if p.Errors > 0 {
				return fmt.Errorf("%s with %d clients: %d requests failed, the first: %s", p.Class, p.Clients, p.Errors, p.FirstError)
			}
			if p.Requests == 0 {
				return fmt.Errorf("%s with %d clients: no request completed", p.Class, p.Clients)
			}
		}
	}
	return nil
}
