// Package memory works out how much memory a command may use (its -memory
// flag, SEARCH_MEMORY, GOMEMLIMIT and the container's cgroup limit), turns
// the budget into the settings that bound an index build, and reports what
// the process used at its peak.
package memory

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBudget is the budget without a flag or a smaller cgroup limit:
// the memory limit of the Kubernetes init container that builds an index.
const DefaultBudget = 512 << 20

// MinBudget is the smallest budget accepted; below it the fixed costs (the
// binary, the seeds' vocabularies) leave nothing to index with.
const MinBudget = 128 << 20

// Budget is the memory a command may use and where the figure came from.
type Budget struct {
	Bytes  int64
	Source string // "default", "-memory", "cgroup", "GOMEMLIMIT"
}

func (b Budget) String() string { return fmt.Sprintf("%s (%s)", FormatBytes(b.Bytes), b.Source) }

// Paths of the cgroup v2 and v1 memory limits.
var cgroupFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// Resolve works out the budget: flag (a size such as 512MiB; "" = not set)
// or else the default, lowered to the cgroup limit and to GOMEMLIMIT when
// either is smaller. readFile is os.ReadFile outside tests.
func Resolve(flag string, getenv func(string) string, readFile func(string) ([]byte, error)) (Budget, error) {
	b := Budget{Bytes: DefaultBudget, Source: "default"}
	if flag != "" {
		n, err := ParseBytes(flag)
		if err != nil {
			return b, fmt.Errorf("-memory: %w", err)
		}
		if n < MinBudget {
			return b, fmt.Errorf("-memory %s is below the minimum of %s", flag, FormatBytes(MinBudget))
		}
		b = Budget{Bytes: n, Source: "-memory"}
	}
	if n, ok := CgroupLimit(readFile); ok && n < b.Bytes {
		b = Budget{Bytes: n, Source: "cgroup"}
	}
	if v := getenv("GOMEMLIMIT"); v != "" {
		if n, err := ParseBytes(v); err == nil && n < b.Bytes {
			b = Budget{Bytes: n, Source: "GOMEMLIMIT"}
		}
	}
	return b, nil
}

// CgroupLimit reads the memory limit of the process's cgroup (v2, then
// v1); ok is false when there is none.
func CgroupLimit(readFile func(string) ([]byte, error)) (int64, bool) {
	for _, path := range cgroupFiles {
		b, err := readFile(path)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		// cgroup v1 reports "no limit" as a huge page-aligned number.
		if err != nil || n <= 0 || n >= math.MaxInt64/2 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// ParseBytes reads a size: a number of bytes, or one with a suffix B, KiB,
// MiB, GiB (also K, M, G, KB, MB, GB, all as powers of 1024), as GOMEMLIMIT
// is written.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
		"mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mult == 0 || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size such as 512MiB or 1GiB", s)
	}
	return n * mult, nil
}

// FormatBytes writes n in MiB.
func FormatBytes(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// Plan is how a build spends its budget.
type Plan struct {
	// GCLimit is the Go runtime's soft memory limit (GOMEMLIMIT, when
	// set lower, stays); the rest of the
	// budget is for what the runtime does not count: the pages of segment
	// files a merge maps and reads, the binary, thread stacks.
	GCLimit int64
	// BatchBytes of JSON per index batch, and Writers batches at once:
	// Bleve holds a batch analysed (about fifty times its JSON) until it
	// is durable. Small batches are also faster here: a segment's build
	// costs more than linearly in its size, and merging does the rest.
	BatchBytes int
	Writers    int
	// MaxSegmentDocs caps a merge's output, and so its mapped inputs, at
	// about MergeBytes of segment files, counting segmentDocBytes a
	// document.
	MaxSegmentDocs int
	MergeBytes     int64
}

// segmentDocBytes is what a document of about 1 KiB of JSON takes in a
// segment file: 2.4 KiB in an index of 1,000,000 generated documents
// (2.3 GiB), rounded up.
const segmentDocBytes = 3 << 10

// PlanFor divides budget b among the build's consumers.
func PlanFor(b int64) Plan {
	writers := max(1, min(runtime.GOMAXPROCS(0), 4, int(b/(128<<20))))
	return Plan{
		GCLimit:        b / 2,
		BatchBytes:     int(max(64<<10, min(1<<20, b/1024))),
		Writers:        writers,
		MaxSegmentDocs: int(b / 3 / segmentDocBytes),
		MergeBytes:     b / 3,
	}
}

// Apply lowers the Go runtime's memory limit to the plan's; a lower one
// already set (GOMEMLIMIT) stays. restore puts back the limit there was.
func (p Plan) Apply() (restore func()) {
	prev := debug.SetMemoryLimit(-1)
	if p.GCLimit >= prev {
		return func() {}
	}
	debug.SetMemoryLimit(p.GCLimit)
	return func() { debug.SetMemoryLimit(prev) }
}

// Peak follows the process's heap while a build runs; RSS is read from
// /proc/self/status (VmHWM) at the end, the kernel's own peak.
type Peak struct {
	heap atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

// Watch samples the live heap every interval until Stop.
func Watch(interval time.Duration) *Peak {
	p := &Peak{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > p.heap.Load() {
			p.heap.Store(v.Uint64())
		}
	}
	p.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			read()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	})
	return p
}

// Stop ends the sampling and returns the peak heap in bytes.
func (p *Peak) Stop() uint64 {
	close(p.stop)
	p.wg.Wait()
	return p.heap.Load()
}

// PeakRSS is the process's peak resident set (VmHWM) in bytes; ok is false
// where /proc is not available.
func PeakRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	return StatusField(b, "VmHWM")
}

// StatusField reads a "Name:   1234 kB" line of /proc/PID/status, in bytes.
func StatusField(status []byte, name string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		return n << 10, true
	}
	return 0, false
}
