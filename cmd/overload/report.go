package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mpower/labor-search/internal/synthetic"
)

// metrics are the samples of a Prometheus text exposition, keyed by the
// series as written ("http_requests_total{code=\"200\",...}").
type metrics map[string]float64

// parseMetrics reads the text format; comments and malformed lines are
// skipped.
func parseMetrics(text string) metrics {
	m := metrics{}
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m
}

// sum adds the series of a metric whose labels contain every one of match.
func (m metrics) sum(name string, match ...string) float64 {
	total := 0.0
	for series, v := range m {
		if series != name && !strings.HasPrefix(series, name+"{") {
			continue
		}
		ok := true
		for _, s := range match {
			ok = ok && strings.Contains(series, s)
		}
		if ok {
			total += v
		}
	}
	return total
}

const mib = 1 << 20

// checkRecovery compares goroutines and resident memory after the settle
// with their level before the load.
func checkRecovery(before, after metrics, c *config) []string {
	var bad []string
	g0, g1 := before["go_goroutines"], after["go_goroutines"]
	if g1 > g0+float64(c.maxGoroutineGrowth) {
		bad = append(bad, fmt.Sprintf("goroutines %v after the load, %v before: more than %d left behind", g1, g0, c.maxGoroutineGrowth))
	}
	r0, r1 := before["process_resident_memory_bytes"], after["process_resident_memory_bytes"]
	if r0 > 0 && r1 > r0+c.maxRSSGrowthMiB*mib {
		bad = append(bad, fmt.Sprintf("resident memory %.0f MiB after the load, %.0f MiB before: more than %.0f MiB kept", r1/mib, r0/mib, c.maxRSSGrowthMiB))
	}
	return bad
}

// checkServerCounts reads the service's own count of 5xx answers during
// the load: a 5xx the client never saw (its connection gone) still counts.
func checkServerCounts(before, after metrics) []string {
	var bad []string
	for _, code := range []string{"500", "501", "502", "504"} {
		if d := after.sum("http_requests_total", `code="`+code+`"`) - before.sum("http_requests_total", `code="`+code+`"`); d > 0 {
			bad = append(bad, fmt.Sprintf("searchd counted %.0f answers with status %s", d, code))
		}
	}
	return bad
}

// report prints the table and the verdict.
func report(w io.Writer, res *result, before, after metrics, c *config) {
	byKind := map[string][]outcome{}
	codes := map[int]int{}
	for _, o := range res.outcomes {
		byKind[o.kind] = append(byKind[o.kind], o)
		codes[o.status]++
	}
	secs := res.duration.Seconds()
	fmt.Fprintf(w, "\n%d connections for %.1f s\n\n", res.clients, secs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\trequests\trate/s\tp50 ms\tp99 ms\tmax ms\t  statuses")
	row := func(name string, os []outcome) {
		lat := make(synthetic.Latencies, len(os))
		statuses := map[int]int{}
		for i, o := range os {
			lat[i] = o.took
			statuses[o.status]++
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t  %s\n", name, len(os), float64(len(os))/secs,
			synthetic.Ms(lat.Percentile(50)), synthetic.Ms(lat.Percentile(99)), synthetic.Ms(lat.Percentile(100)), statusList(statuses))
	}
	for _, k := range kinds {
		row(k, byKind[k])
	}
	row("all", res.outcomes)
	_ = tw.Flush()

	fmt.Fprintf(w, "\nstatus codes: %s\n", statusList(codes))
	fmt.Fprintf(w, "acknowledged writes: %d documents\n", len(res.acked))
	fmt.Fprintf(w, "goroutines: %.0f before, %.0f after a %v settle (allowed +%d)\n",
		before["go_goroutines"], after["go_goroutines"], c.settle, c.maxGoroutineGrowth)
	fmt.Fprintf(w, "resident memory: %.1f MiB before, %.1f MiB after (allowed +%.0f MiB); heap in use %.1f → %.1f MiB\n",
		before["process_resident_memory_bytes"]/mib, after["process_resident_memory_bytes"]/mib, c.maxRSSGrowthMiB,
		before["go_memstats_heap_inuse_bytes"]/mib, after["go_memstats_heap_inuse_bytes"]/mib)
	if len(res.violations) == 0 {
		fmt.Fprintln(w, "violations: none")
		return
	}
	fmt.Fprintf(w, "violations: %d\n", len(res.violations))
	for i, v := range res.violations {
		if i == maxListed {
			fmt.Fprintf(w, "  … and %d more\n", len(res.violations)-maxListed)
			break
		}
		fmt.Fprintf(w, "  %s\n", v)
	}
}

// statusList is "200: 1234, 400: 56", in status order; 0 counts requests
// that got no answer.
func statusList(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}
