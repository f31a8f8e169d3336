package synthetic

import (
	"sort"
	"time"
)

// Latencies are the durations of requests, for percentiles.
type Latencies []time.Duration

// Percentile is the nearest-rank p-th percentile (0 < p <= 100); zero when
// there are none. It sorts l.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	rank := int(p/100*float64(len(l))+0.999999) - 1
	return l[min(max(rank, 0), len(l)-1)]
}

// Ms is a duration in milliseconds.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
