package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live in a registry per Server so several servers (tests) can run
// in one process.
type metrics struct {
	reg       *prometheus.Registry
	connected prometheus.Gauge
	changes   *prometheus.CounterVec
	batch     prometheus.Histogram
	conflicts prometheus.Counter
	restamped prometheus.Counter
	errors    *prometheus.CounterVec
	pulls     prometheus.Counter
	// group is how many writes (pushed batches, report transitions) one
	// transaction committed.
	group    prometheus.Histogram
	notifies prometheus.Counter
	// pullsIdle counts pulls answered without reading the store because
	// nothing in the session's scope changed since its cursor.
	pullsIdle prometheus.Counter
	// pullsTail counts pulls answered from the log's tail in memory.
	pullsTail prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hamlet_connected_agents", Help: "Agents with an open sync session.",
		}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hamlet_changes_total", Help: "Pushed field changes by result (applied, superseded, duplicate, refused).",
		}, []string{"result"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hamlet_push_batch_seconds", Help: "Time to apply and commit one pushed batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hamlet_conflicts_total", Help: "Concurrent writes of one field: a value went to the conflict log.",
		}),
		restamped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hamlet_restamped_total", Help: "Changes whose timestamp was beyond the skew bound and was replaced.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hamlet_protocol_errors_total", Help: "Error messages sent to agents, by code.",
		}, []string{"code"}),
		pulls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hamlet_pulls_total", Help: "Pull requests answered.",
		}),
		group: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hamlet_commit_group_batches", Help: "Writes (pushed batches, report transitions) committed by one transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		notifies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hamlet_notifies_total", Help: "Notify messages sent.",
		}),
		pullsIdle: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hamlet_pulls_unchanged_total", Help: "Pulls answered from memory: nothing in the scope changed since the cursor.",
		}),
		pullsTail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hamlet_pulls_tail_total", Help: "Pulls answered from the newest log entries held in memory.",
		}),
	}
	m.reg.MustRegister(m.connected, m.changes, m.batch, m.conflicts, m.restamped, m.errors, m.pulls, m.group, m.notifies, m.pullsIdle, m.pullsTail,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) recordPush(o *pushOutcome, seconds float64) {
	m.batch.Observe(seconds)
	m.changes.WithLabelValues("applied").Add(float64(o.applied))
	m.changes.WithLabelValues("superseded").Add(float64(o.superseded))
	m.changes.WithLabelValues("duplicate").Add(float64(o.duplicate))
	m.changes.WithLabelValues("refused").Add(float64(o.refused))
	m.conflicts.Add(float64(o.conflicts))
	m.restamped.Add(float64(o.restamped))
}
