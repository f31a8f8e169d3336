package replication

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	applied, streamSeq, lagMessages, lagSeconds, connected   prometheus.Gauge
	applyDelay, applyBatch, publishDuration, consistencyWait prometheus.Histogram
	appliedUpserts, appliedDeletes, consumerResets           prometheus.Counter
	appliedSynonyms                                          prometheus.Counter
	snapshotSeq, bootstrapSeconds                            prometheus.Gauge
	snapshotsPublished                                       prometheus.Counter
	publishDuplicates, consistencyWaits, consistencyTimeouts prometheus.Counter
	publishErrors                                            *prometheus.CounterVec
}

// newMetrics registers the replication metrics on reg (none when nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	// Write-to-visible runs from milliseconds (a quiet cluster) to the
	// seconds of a failover or a replica catching up.
	delays := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	}
	applyOps := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "replication_applied_messages_total", Help: "Log entries applied to the local index, by operation.",
	}, []string{"op"})
	m := &metrics{
		applied:             gauge("replication_applied_sequence", "Last stream sequence the local index holds."),
		streamSeq:           gauge("replication_stream_last_sequence", "The stream's last sequence, as last seen."),
		lagMessages:         gauge("replication_lag_messages", "Stream sequences the local index is behind."),
		lagSeconds:          gauge("replication_lag_seconds", "Age of the last applied entry while behind the stream; 0 when caught up."),
		connected:           gauge("replication_connected", "1 while connected to a NATS server."),
		applyDelay:          hist("replication_apply_delay_seconds", "Write-to-visible delay: from the stream's timestamp of an entry to its application here.", delays),
		applyBatch:          hist("replication_apply_batch_duration_seconds", "Time to apply one batch of log entries to the index.", prometheus.DefBuckets),
		publishDuration:     hist("replication_publish_duration_seconds", "Time from a write's publication to its quorum acknowledgement, retries included.", delays),
		consistencyWait:     hist("replication_consistency_wait_seconds", "Time reads with min_seq waited for this replica to catch up.", delays),
		appliedUpserts:      applyOps.WithLabelValues("upsert"),
		appliedDeletes:      applyOps.WithLabelValues("delete"),
		appliedSynonyms:     applyOps.WithLabelValues("synonyms"),
		consumerResets:      counter("replication_consumer_resets_total", "Times the stream consumer was recreated."),
		snapshotSeq:         gauge("replication_snapshot_sequence", "Stream sequence of the newest index snapshot this replica started from or published; 0 for none."),
		bootstrapSeconds:    gauge("replication_bootstrap_duration_seconds", "Time the start from an index snapshot took (fetch, unpack, swap in); 0 when the replica did not start from one."),
		snapshotsPublished:  counter("replication_snapshots_published_total", "Index snapshots this replica published for new replicas to start from."),
		publishDuplicates:   counter("replication_publish_duplicates_total", "Writes JetStream recognised as retries of a stored one."),
		consistencyWaits:    counter("replication_consistency_waits_total", "Reads with min_seq that had to wait."),
		consistencyTimeouts: counter("replication_consistency_timeouts_total", "Reads with min_seq answered not_caught_up."),
		publishErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "replication_publish_errors_total", Help: "Writes the log did not acknowledge, by reason.",
		}, []string{"reason"}),
	}
	for _, reason := range publishReasons {
		m.publishErrors.WithLabelValues(reason)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.applied, m.streamSeq, m.lagMessages, m.lagSeconds, m.connected,
		m.applyDelay, m.applyBatch, m.publishDuration, m.consistencyWait, applyOps, m.consumerResets,
		m.snapshotSeq, m.bootstrapSeconds, m.snapshotsPublished,
		m.publishDuplicates, m.consistencyWaits, m.consistencyTimeouts, m.publishErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
