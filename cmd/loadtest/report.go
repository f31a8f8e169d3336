package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mpower/labor-search/internal/synthetic"
)

var targetTitles = map[string]string{
	"http":           "searchd over HTTP with -response-cache 0 (every answer computed)",
	"engine":         "the service's engine in process (no HTTP)",
	"engine-nocache": "the service's engine in process with its caches off (every request computed)",
	"plain":          "plain Bleve in process (baseline: no cache, no HTTP)",
}

// printRun prints one run's table, figures only.
func printRun(w io.Writer, r *Results) {
	printTable(w, r, nil)
}

// report prints the runs of a benchmark together: each figure of the HTTP
// and engine runs with its ratio to the plain baseline, then the baseline,
// then the HTTP overhead over the in-process engine.
func report(w io.Writer, plainPath, enginePath, noCachePath, httpPath string) error {
	load := func(path string) (*Results, error) {
		if path == "" {
			return nil, nil
		}
		return readResults(path)
	}
	plain, err := load(plainPath)
	if err != nil {
		return err
	}
	engine, err := load(enginePath)
	if err != nil {
		return err
	}
	noCache, err := load(noCachePath)
	if err != nil {
		return err
	}
	httpRes, err := load(httpPath)
	if err != nil {
		return err
	}
	if plain == nil && engine == nil && noCache == nil && httpRes == nil {
		return errors.New("-report needs at least one of -plain, -engine-results, -engine-nocache-results, -http")
	}
	for _, r := range []*Results{httpRes, engine, noCache} {
		if r != nil {
			printTable(w, r, plain)
		}
	}
	if plain != nil {
		printTable(w, plain, nil)
	}
	// searchd runs with its response cache off, so its overhead is over
	// the engine with the cache off too.
	if in := cmp.Or(noCache, engine); httpRes != nil && in != nil {
		printOverhead(w, httpRes, in)
	}
	return nil
}

func find(r *Results, class synthetic.Class, clients int) *Phase {
	if r == nil {
		return nil
	}
	for i := range r.Phases {
		if r.Phases[i].Class == class && r.Phases[i].Clients == clients {
			return &r.Phases[i]
		}
	}
	return nil
}

func printTable(w io.Writer, r, base *Results) {
	title := targetTitles[r.Target]
	if base != nil {
		title += "; in brackets: ratio to plain Bleve (latency below 1× and requests/s above 1× beat it)"
	}
	fmt.Fprintf(w, "\n%s, %d documents, %s per phase:\n\n", title, r.Documents, r.Duration)
	fmt.Fprintln(w, "| class | clients | requests | errors | hits (median) | p50 ms | p95 ms | p99 ms | requests/s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, p := range r.Phases {
		b := find(base, p.Class, p.Clients)
		cell := func(v float64, baseV func(*Phase) float64) string {
			s := figure(v)
			if b != nil && baseV(b) > 0 {
				s += fmt.Sprintf(" (%s×)", ratio(v/baseV(b)))
			}
			return s
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %s | %s | %s | %s |\n",
			p.Class, p.Clients, p.Requests, p.Errors, p.Hits,
			cell(p.P50, func(b *Phase) float64 { return b.P50 }),
			cell(p.P95, func(b *Phase) float64 { return b.P95 }),
			cell(p.P99, func(b *Phase) float64 { return b.P99 }),
			cell(p.RPS, func(b *Phase) float64 { return b.RPS }))
	}
	if r.Memory != nil {
		fmt.Fprintf(w, "\nsearchd resident memory: peak %.0f MiB; at the end %.0f MiB, of which %.0f MiB its own (anonymous) and %.0f MiB pages of the memory-mapped index files.\n",
			r.Memory.PeakMiB, r.Memory.CurrentMiB, r.Memory.AnonymousMiB, r.Memory.FileMiB)
	}
	var failed []string
	for _, p := range r.Phases {
		if p.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s/%d: %s", p.Class, p.Clients, p.FirstError))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nfirst failures: %s\n", strings.Join(failed, "; "))
	}
}

// printOverhead compares HTTP with the in-process engine where both ran:
// the difference in milliseconds, and relative to the engine's figure.
func printOverhead(w io.Writer, httpRes, engine *Results) {
	fmt.Fprintln(w, "\nHTTP + JSON overhead over the in-process engine (same requests, same clients, response caches off in both):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| class | clients | p50 | p99 | requests/s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, h := range httpRes.Phases {
		e := find(engine, h.Class, h.Clients)
		if e == nil || e.RPS == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", h.Class, h.Clients,
			difference(h.P50, e.P50), difference(h.P99, e.P99), percent(h.RPS, e.RPS))
	}
}

func difference(v, base float64) string {
	s := fmt.Sprintf("%+.2f ms", v-base)
	if base > 0 {
		s += " (" + percent(v, base) + ")"
	}
	return s
}

func percent(v, base float64) string {
	if base == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.0f%%", 100*(v/base-1))
}

// figure prints a figure with about three significant digits.
func figure(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 0.1 || v == 0:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// ratio prints a ratio with two significant digits, or whole when large.
func ratio(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return strconv.FormatFloat(r, 'g', 2, 64)
}
