package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpower/labor-search/internal/synthetic"
)

// Results are one run of the mix against one target.
type Results struct {
	Target    string    `json:"target"` // http, engine or plain
	Date      time.Time `json:"date"`
	Documents uint64    `json:"documents"`
	Duration  string    `json:"phase_duration"`
	GoVersion string    `json:"go_version"`
	CPUs      int       `json:"cpus"`
	Phases    []Phase   `json:"phases"`
	Memory    *Memory   `json:"memory,omitempty"`
}

// Phase is one class at one number of clients.
type Phase struct {
	Class      synthetic.Class `json:"class"`
	Clients    int             `json:"clients"`
	Requests   int             `json:"requests"`
	Errors     int             `json:"errors"`
	FirstError string          `json:"first_error,omitempty"`
	P50        float64         `json:"p50_ms"`
	P95        float64         `json:"p95_ms"`
	P99        float64         `json:"p99_ms"`
	Max        float64         `json:"max_ms"`
	RPS        float64         `json:"requests_per_second"`
	// Hits is the median total of the warm-up requests (suggestions for
	// suggest); Distinct, how many different requests the pool holds.
	Hits     uint64 `json:"median_hits"`
	Distinct int    `json:"distinct_requests"`
	// Slowest are the slowest requests of the phase, slowest first: where
	// a long tail comes from.
	Slowest []Slow `json:"slowest"`
}

// Slow is one request and how long it took.
type Slow struct {
	Path string  `json:"path"`
	Ms   float64 `json:"ms"`
}

// keepSlowest is how many of the slowest requests a phase remembers.
const keepSlowest = 3

// addSlow keeps the keepSlowest slowest of list and s, slowest first.
func addSlow(list []Slow, s Slow) []Slow {
	if len(list) == keepSlowest && s.Ms <= list[keepSlowest-1].Ms {
		return list
	}
	list = append(list, s)
	sort.Slice(list, func(i, j int) bool { return list[i].Ms > list[j].Ms })
	if len(list) > keepSlowest {
		list = list[:keepSlowest]
	}
	return list
}

// Memory is the resident memory of the process under test, in MiB. The
// resident set counts the pages of the memory-mapped index files it has
// touched (file), which the kernel can drop under pressure, besides the
// process's own heap and stacks (anonymous).
type Memory struct {
	PeakMiB      float64 `json:"peak_rss_mib"`
	CurrentMiB   float64 `json:"rss_mib"`
	AnonymousMiB float64 `json:"rss_anon_mib"`
	FileMiB      float64 `json:"rss_file_mib"`
}

func measure(ctx context.Context, c *config, t target, mix synthetic.Mix, progress io.Writer) (*Results, error) {
	docs, err := t.documents(ctx)
	if err != nil {
		return nil, fmt.Errorf("count documents: %w", err)
	}
	res := &Results{
		Target: t.name(), Date: time.Now().UTC(), Documents: docs, Duration: c.duration.String(),
		GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
	}
	for _, class := range c.classes {
		qs := mix[class]
		hits, err := warmUp(ctx, c, t, qs)
		if err != nil {
			return nil, fmt.Errorf("warm up %s: %w", class, err)
		}
		// One stream of requests per class, which the clients of every
		// phase take from in turn: a phase does not repeat what the one
		// before it asked (and cached) until the pool wraps around, and
		// repeats as often as the pool itself does.
		var next atomic.Int64
		next.Store(int64(min(c.warmup, len(qs))))
		for _, clients := range c.clients {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := runPhase(ctx, c, t, qs, &next, clients)
			p.Class, p.Hits, p.Distinct = class, hits, synthetic.Distinct(qs)
			fmt.Fprintf(progress, "loadtest: %-6s %-9s %2d clients: %6d requests, %d errors, p50 %.2f ms, p99 %.2f ms, %.1f requests/s\n",
				t.name(), class, clients, p.Requests, p.Errors, p.P50, p.P99, p.RPS)
			for _, slow := range p.Slowest {
				fmt.Fprintf(progress, "loadtest:     slow: %8.1f ms %s\n", slow.Ms, slow.Path)
			}
			res.Phases = append(res.Phases, p)
		}
	}
	return res, nil
}

// warmUp runs the first requests of the pool once, so the measured phases
// start on a warm cache of the index files, and returns their median total.
func warmUp(ctx context.Context, c *config, t target, qs []synthetic.Query) (uint64, error) {
	var totals []uint64
	for i := 0; i < min(c.warmup, len(qs)); i++ {
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		n, err := t.do(rctx, qs[i], true)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("%q: %w", qs[i].Path(), err)
		}
		totals = append(totals, n)
	}
	if len(totals) == 0 {
		return 0, nil
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	return totals[len(totals)/2], nil
}

// runPhase has the clients take requests from the stream until the phase's
// time is up; requests started before then finish and count.
func runPhase(ctx context.Context, c *config, t target, qs []synthetic.Query, next *atomic.Int64, clients int) Phase {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      synthetic.Latencies
		errs     int
		firstErr string
		slowest  []Slow
	)
	began := time.Now()
	deadline := began.Add(c.duration)
	for k := 0; k < clients; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				lat  synthetic.Latencies
				slow []Slow
			)
			nerr, first := 0, ""
			for time.Now().Before(deadline) && ctx.Err() == nil {
				q := qs[(next.Add(1)-1)%int64(len(qs))]
				rctx, cancel := context.WithTimeout(ctx, c.timeout)
				start := time.Now()
				_, err := t.do(rctx, q, false)
				took := time.Since(start)
				cancel()
				if err != nil {
					if nerr == 0 {
						first = fmt.Sprintf("%s: %v", q.Path(), err)
					}
					nerr++
					continue
				}
				lat = append(lat, took)
				if len(slow) < keepSlowest || synthetic.Ms(took) > slow[len(slow)-1].Ms {
					slow = addSlow(slow, Slow{Path: q.Path(), Ms: synthetic.Ms(took)})
				}
			}
			mu.Lock()
			defer mu.Unlock()
			all = append(all, lat...)
			for _, s := range slow {
				slowest = addSlow(slowest, s)
			}
			errs += nerr
			if firstErr == "" {
				firstErr = first
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	return Phase{
		Clients:    clients,
		Requests:   len(all),
		Errors:     errs,
		FirstError: firstErr,
		P50:        synthetic.Ms(all.Percentile(50)),
		P95:        synthetic.Ms(all.Percentile(95)),
		P99:        synthetic.Ms(all.Percentile(99)),
		Max:        synthetic.Ms(all.Percentile(100)),
		RPS:        float64(len(all)) / elapsed.Seconds(),
		Slowest:    slowest,
	}
}

// readMemory reads the peak and current resident set of a process.
func readMemory(pid int) (*Memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	defer f.Close()
	m := &Memory{}
	lines := map[string]*float64{"VmHWM": &m.PeakMiB, "VmRSS": &m.CurrentMiB, "RssAnon": &m.AnonymousMiB, "RssFile": &m.FileMiB}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		into, wanted := lines[key]
		if !ok || !wanted {
			continue
		}
		fields := strings.Fields(val) // "123456 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return nil, fmt.Errorf("memory of process %d: unexpected %s line %q", pid, key, sc.Text())
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("memory of process %d: %w", pid, err)
		}
		*into = kb / 1024
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	return m, nil
}

func writeResults(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

func readResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	return &r, nil
}
