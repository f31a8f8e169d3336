package index

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestIndexMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Unix(1_700_000_000, 500_000_000)
	m, err := NewMetrics(reg, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveBatch(20*time.Millisecond, 16, 0)
	m.ObserveBatch(5*time.Millisecond, 1, 2)
	if got := testutil.ToFloat64(m.lastUpdate); got != 1_700_000_000.5 {
		t.Errorf("index_last_update_timestamp_seconds = %v", got)
	}
	if got := testutil.ToFloat64(m.writes.WithLabelValues("upsert")); got != 17 {
		t.Errorf("upserts = %v, want 17", got)
	}
	if got := testutil.ToFloat64(m.writes.WithLabelValues("delete")); got != 2 {
		t.Errorf("deletes = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "index_batch_duration_seconds"); err != nil || n != 1 {
		t.Errorf("index_batch_duration_seconds series = %d, %v", n, err)
	}
	m.SetLastUpdate(time.Unix(1_600_000_000, 0))
	if got := testutil.ToFloat64(m.lastUpdate); got != 1_600_000_000 {
		t.Errorf("after SetLastUpdate = %v", got)
	}
	if _, err := NewMetrics(reg, nil); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
}
