package index

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics reports index writes on the registry it is given. Build it
// before opening the index and pass its ObserveBatch as Options.OnBatch.
type Metrics struct {
	batchDuration prometheus.Histogram
	lastUpdate    prometheus.Gauge
	writes        *prometheus.CounterVec
	now           func() time.Time
}

// NewMetrics registers index_batch_duration_seconds,
// index_last_update_timestamp_seconds and index_writes_total on reg. now is
// the clock; nil = time.Now.
func NewMetrics(reg prometheus.Registerer, now func() time.Time) (*Metrics, error) {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		batchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                           "index_batch_duration_seconds",
			Help:                           "Time to make one batch of index writes durable.",
			Buckets:                        prometheus.ExponentialBucketsRange(0.0001, 60, 20),
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 160,
		}),
		lastUpdate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "index_last_update_timestamp_seconds",
			Help: "Unix time of the last batch written to the index.",
		}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "index_writes_total",
			Help: "Documents written to the index, by operation (upsert or delete).",
		}, []string{"op"}),
		now: now,
	}
	for _, c := range []prometheus.Collector{m.batchDuration, m.lastUpdate, m.writes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.writes.WithLabelValues("upsert")
	m.writes.WithLabelValues("delete")
	return m, nil
}

// SetLastUpdate sets index_last_update_timestamp_seconds when the index was
// last written before this process started (a reopened on-disk index), so
// the gauge does not read 1970 until the first write.
func (m *Metrics) SetLastUpdate(t time.Time) {
	m.lastUpdate.Set(float64(t.UnixNano()) / 1e9)
}

// ObserveBatch records one durable batch; its signature matches
// Options.OnBatch.
func (m *Metrics) ObserveBatch(took time.Duration, docs, deletes int) {
	m.batchDuration.Observe(took.Seconds())
	m.lastUpdate.Set(float64(m.now().UnixNano()) / 1e9)
	m.writes.WithLabelValues("upsert").Add(float64(docs))
	m.writes.WithLabelValues("delete").Add(float64(deletes))
}
