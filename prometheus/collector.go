// Package solocronprom exports a solocron Scheduler's leadership and job
// figures to Prometheus, as a prometheus.Collector that the application
// registers itself. Its import path ends in prometheus; its name is
// solocronprom, so that it does not shadow client_golang's prometheus
// package in the files that use both.
//
// Counters, the run-duration histogram and the overdue gauge come from the
// Scheduler's hooks (Collector.Hooks, joined into solocron.Options.Hooks);
// the next ticks, the paused flags and the cluster's last runs come from
// Scheduler.Status, which Collect reads only while this process leads
// (see Collector.Watch).
package solocronprom

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/solocron/solocron"
)

const (
	// jobLabel names the job. Not "job": Prometheus gives every series
	// the scrape target's job label, and would rename a metric's own
	// "job" to "exported_job".
	jobLabel    = "job_name"
	reasonLabel = "reason"

	// statusTimeout bounds Collect's Status call. The leader's Status
	// reads memory only; it asks the elector only when the term has ended
	// and its OnLost hook has not run yet.
	statusTimeout = time.Second
)

// DefaultBuckets are the run-duration histogram's buckets, in seconds:
// cron jobs last from milliseconds to hours.
var DefaultBuckets = []float64{0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600}

// skipReasons are the reasons a job's skip counter starts at zero for: the
// set solocron defines, so the reason label stays bounded.
var skipReasons = []solocron.SkipReason{
	solocron.SkipOverlap, solocron.SkipQueue, solocron.SkipMisfire, solocron.SkipLate,
	solocron.SkipClaimed, solocron.SkipNoLeader, solocron.SkipLedgerAhead, solocron.SkipPaused,
}

// Options configure a Collector.
type Options struct {
	// Namespace prefixes every metric name; "" means "solocron". To tell
	// two Schedulers of one process apart, register each Collector with
	// prometheus.WrapRegistererWith and a label of your own.
	Namespace string
	// Buckets are the run-duration histogram's upper bounds in seconds;
	// nil means DefaultBuckets.
	Buckets []float64
}

// Collector is a prometheus.Collector of one Scheduler's metrics. Give its
// Hooks to the Scheduler's Options, register it, and call Watch once the
// Scheduler exists. Its methods are safe for concurrent use.
type Collector struct {
	leaderDesc, termDesc *prometheus.Desc
	runs, errors, skips  *prometheus.CounterVec
	duration             *prometheus.HistogramVec
	lastSuccess          *prometheus.GaugeVec
	overdue              *prometheus.GaugeVec
	status               []statusGauge

	jobs sync.Map // job name -> *jobMetrics, for the jobs whose series exist

	mu      sync.Mutex
	leading bool
	term    uint64
	sched   *solocron.Scheduler
}

// New returns a Collector.
func New(opts Options) *Collector {
	ns := opts.Namespace
	if ns == "" {
		ns = "solocron"
	}
	buckets := opts.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	job := []string{jobLabel}
	return &Collector{
		leaderDesc: prometheus.NewDesc(ns+"_leader",
			"1 while this process leads (from the OnLeading hook to OnLost), 0 otherwise.", nil, nil),
		termDesc: prometheus.NewDesc(ns+"_term",
			"The term (fencing token) this process leads in; 0 while it does not lead.", nil, nil),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "job_runs_total",
			Help: "Runs of the job finished in this process."}, job),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "job_errors_total",
			Help: "Runs of the job that returned an error, panicked or timed out, in this process."}, job),
		skips: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "job_skips_total",
			Help: "Ticks of the job this process did not run, by reason (solocron.SkipReason)."},
			[]string{jobLabel, reasonLabel}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "job_duration_seconds",
			Help: "How long the job's runs in this process took.", Buckets: buckets}, job),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "job_last_success_timestamp_seconds",
			Help: "When the job's last successful run in this process finished, as Unix time."}, job),
		overdue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "job_overdue",
			Help: "1 while the job is overdue: its tick was not claimed within Options.OverdueGrace (Hooks.OnOverdue); every process checks."}, job),
		status: statusGauges(ns),
	}
}

// Watch makes Collect report what only the Scheduler knows (the next
// ticks, and the paused flags and last runs in the ledger), and starts
// every series of s's jobs at zero, so that a process's first error after
// it takes over shows in rate(). Call it after the jobs are added; jobs
// added later get their series at the first scrape of a leader or their
// first event.
//
// Collect calls s.Status only while this process leads, where Status
// reads memory and the ledger once (Elector.Observe, one read). A
// standby's Status would also ask the elector who leads: a file read for
// the file lock, a round trip for Redis, a new connection for PostgreSQL,
// at every scrape of every standby. So a standby reports leadership, its
// own counters and the overdue jobs its own checks found, and none of
// Status's gauges; Watch's own Status call asks the elector once.
func (c *Collector) Watch(s *solocron.Scheduler) {
	c.mu.Lock()
	c.sched = s
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	for _, j := range s.Status(ctx).Jobs {
		c.job(j.Name)
	}
}

// Describe sends the descriptors of every metric the Collector reports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.leaderDesc
	ch <- c.termDesc
	for _, g := range c.status {
		ch <- g.desc
	}
	c.runs.Describe(ch)
	c.errors.Describe(ch)
	c.skips.Describe(ch)
	c.duration.Describe(ch)
	c.lastSuccess.Describe(ch)
	c.overdue.Describe(ch)
}

// Collect sends the current values; see Watch for what it asks the
// Scheduler.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	leading, term, s := c.leading, c.term, c.sched
	c.mu.Unlock()
	leader := 0.0
	if leading {
		leader = 1
	}
	ch <- prometheus.MustNewConstMetric(c.leaderDesc, prometheus.GaugeValue, leader)
	// Terms are µs since 1970 (about 1.8e15): exact in a float64 up to 2^53.
	ch <- prometheus.MustNewConstMetric(c.termDesc, prometheus.GaugeValue, float64(term))
	if leading && s != nil {
		c.collectStatus(ch, s) // first: it adds the series of jobs added since Watch
	}
	c.runs.Collect(ch)
	c.errors.Collect(ch)
	c.skips.Collect(ch)
	c.duration.Collect(ch)
	c.lastSuccess.Collect(ch)
	c.overdue.Collect(ch)
}

func (c *Collector) collectStatus(ch chan<- prometheus.Metric, s *solocron.Scheduler) {
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	st := s.Status(ctx)
	if st.Role != solocron.Leader { // the term has just ended
		return
	}
	for _, j := range st.Jobs {
		c.job(j.Name)
		for _, g := range c.status {
			if g.ledger && st.LedgerErr != nil {
				continue // unknown: a 0 would say "not paused"
			}
			if v, ok := g.value(j); ok {
				ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v, j.Name)
			}
		}
	}
}
