package solocronprom

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/solocron/solocron"
)

// jobMetrics are one job's series, looked up once: a hook then costs a
// map load and atomic adds, not a hash of its label values.
type jobMetrics struct {
	runs, errors prometheus.Counter
	skips        map[solocron.SkipReason]prometheus.Counter
	duration     prometheus.Observer
	lastSuccess  func() prometheus.Gauge // created by the first success
	overdue      prometheus.Gauge
}

// job returns the job's series, creating them (at zero, but for the last
// success, which has no value before one) on first use. Job names are
// valid UTF-8 (solocron refuses others), so the label lookups cannot fail.
func (c *Collector) job(name string) *jobMetrics {
	if m, ok := c.jobs.Load(name); ok {
		return m.(*jobMetrics)
	}
	m := &jobMetrics{
		runs:        c.runs.WithLabelValues(name),
		errors:      c.errors.WithLabelValues(name),
		skips:       make(map[solocron.SkipReason]prometheus.Counter, len(skipReasons)),
		duration:    c.duration.WithLabelValues(name),
		lastSuccess: sync.OnceValue(func() prometheus.Gauge { return c.lastSuccess.WithLabelValues(name) }),
		overdue:     c.overdue.WithLabelValues(name),
	}
	for _, r := range skipReasons {
		m.skips[r] = c.skips.WithLabelValues(name, string(r))
	}
	actual, _ := c.jobs.LoadOrStore(name, m)
	return actual.(*jobMetrics)
}

// Hooks returns the hooks that feed the Collector: join them into the
// Scheduler's Options.Hooks with solocron.JoinHooks.
func (c *Collector) Hooks() solocron.Hooks {
	return solocron.Hooks{
		OnLeading:   c.onLeading,
		OnLost:      c.onLost,
		OnJobFinish: c.onJobFinish,
		OnJobSkip:   c.onJobSkip,
		OnOverdue:   c.onOverdue,
	}
}

func (c *Collector) onLeading(ev solocron.LeadershipEvent) {
	c.mu.Lock()
	c.leading, c.term = true, ev.Term
	c.mu.Unlock()
}

func (c *Collector) onLost(ev solocron.LeadershipEvent) {
	c.mu.Lock()
	if c.term == ev.Term {
		c.leading, c.term = false, 0
	}
	c.mu.Unlock()
}

func (c *Collector) onJobFinish(ev solocron.JobEvent) {
	m := c.job(ev.Job)
	m.runs.Inc()
	m.duration.Observe(ev.Duration.Seconds())
	if ev.Err != nil {
		m.errors.Inc()
		return
	}
	m.lastSuccess().Set(float64(time.Now().UnixNano()) / 1e9)
}

func (c *Collector) onJobSkip(ev solocron.JobEvent) {
	m := c.job(ev.Job)
	if s, ok := m.skips[ev.Reason]; ok {
		s.Inc()
		return
	}
	c.skips.WithLabelValues(ev.Job, string(ev.Reason)).Inc() // a reason newer than this module
}

// onOverdue follows the overdue check every process makes, standbys too,
// so the gauge is there when the leader is hung or nobody leads: when it
// matters most, and when the leader's Status has nothing to say.
func (c *Collector) onOverdue(ev solocron.OverdueEvent) {
	v := 0.0
	if !ev.Due.IsZero() {
		v = 1
	}
	c.job(ev.Job).overdue.Set(v)
}
