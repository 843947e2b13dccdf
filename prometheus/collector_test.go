package solocronprom_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/solocron/solocron"
	solocronprom "github.com/solocron/solocron/prometheus"
	"github.com/solocron/solocron/solocrontest"
)

var base = time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)

// countingElector counts Holder and Observe calls: what Status costs.
type countingElector struct {
	solocron.Elector
	holders, observes atomic.Int64
}

func (e *countingElector) Holder(ctx context.Context) (solocron.Holder, error) {
	e.holders.Add(1)
	return e.Elector.Holder(ctx)
}

func (e *countingElector) Observe(ctx context.Context) (map[string]solocron.Record, error) {
	e.observes.Add(1)
	return e.Elector.Observe(ctx)
}

// process is one Scheduler with its Collector, as one process has them.
type process struct {
	s       *solocron.Scheduler
	c       *solocronprom.Collector
	elector *countingElector
}

func start(t *testing.T, store *solocrontest.Store, clock solocron.Clock, opts solocronprom.Options, jobs ...solocron.Job) process {
	t.Helper()
	return startWith(t, store, solocron.Options{Clock: clock}, opts, jobs...)
}

// startWith is start with the Scheduler's options so (its Elector, Hooks
// and Location are set here).
func startWith(t *testing.T, store *solocrontest.Store, so solocron.Options, opts solocronprom.Options, jobs ...solocron.Job) process {
	t.Helper()
	p := process{c: solocronprom.New(opts), elector: &countingElector{Elector: store.Elector()}}
	so.Elector, so.Location, so.Hooks = p.elector, time.UTC, p.c.Hooks()
	s, err := solocron.New(so)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	p.c.Watch(s)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	p.s = s
	return p
}

// gather collects c through a pedantic registry, which also checks that
// Collect sends only what Describe announced.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// sample returns the metric name{labels} from c, if c reports it; labels
// are name, value pairs.
func sample(t *testing.T, c prometheus.Collector, name string, labels ...string) (*dto.Metric, bool) {
	t.Helper()
	for _, mf := range gather(t, c) {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			return m, true
		}
	}
	return nil, false
}

// value returns the value of a gauge or counter; -1 when c does not report it.
func value(t *testing.T, c prometheus.Collector, name string, labels ...string) float64 {
	t.Helper()
	m, ok := sample(t, c, name, labels...)
	switch {
	case !ok:
		return -1
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return m.GetCounter().GetValue()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitLeading(t *testing.T, p process) {
	t.Helper()
	eventually(t, "solocron_leader 1", func() bool { return value(t, p.c, "solocron_leader") == 1 })
}

func noop(context.Context) error { return nil }

func TestSeriesStartAtZeroAndOnlyTheLeaderReadsStatus(t *testing.T) {
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(base)
	leader := start(t, store, clock, solocronprom.Options{}, solocron.Job{Name: "report", Spec: "* * * * *", Run: noop})
	waitLeading(t, leader)
	standby := start(t, store, clock, solocronprom.Options{Buckets: []float64{1, 60}},
		solocron.Job{Name: "report", Spec: "* * * * *", Run: noop})

	// Every series of the job at zero, before it ever ran here, so that the
	// first increment after a takeover shows in rate().
	want := `
# HELP solocron_job_duration_seconds How long the job's runs in this process took.
# TYPE solocron_job_duration_seconds histogram
solocron_job_duration_seconds_bucket{job_name="report",le="1"} 0
solocron_job_duration_seconds_bucket{job_name="report",le="60"} 0
solocron_job_duration_seconds_bucket{job_name="report",le="+Inf"} 0
solocron_job_duration_seconds_sum{job_name="report"} 0
solocron_job_duration_seconds_count{job_name="report"} 0
# HELP solocron_job_errors_total Runs of the job that returned an error, panicked or timed out, in this process.
# TYPE solocron_job_errors_total counter
solocron_job_errors_total{job_name="report"} 0
# HELP solocron_job_overdue 1 while the job is overdue: its tick was not claimed within Options.OverdueGrace (Hooks.OnOverdue); every process checks.
# TYPE solocron_job_overdue gauge
solocron_job_overdue{job_name="report"} 0
# HELP solocron_job_runs_total Runs of the job finished in this process.
# TYPE solocron_job_runs_total counter
solocron_job_runs_total{job_name="report"} 0
# HELP solocron_job_skips_total Ticks of the job this process did not run, by reason (solocron.SkipReason).
# TYPE solocron_job_skips_total counter
solocron_job_skips_total{job_name="report",reason="claimed"} 0
solocron_job_skips_total{job_name="report",reason="late"} 0
solocron_job_skips_total{job_name="report",reason="ledger-ahead"} 0
solocron_job_skips_total{job_name="report",reason="misfire"} 0
solocron_job_skips_total{job_name="report",reason="no-leader"} 0
solocron_job_skips_total{job_name="report",reason="overlap"} 0
solocron_job_skips_total{job_name="report",reason="paused"} 0
solocron_job_skips_total{job_name="report",reason="queue-full"} 0
# HELP solocron_leader 1 while this process leads (from the OnLeading hook to OnLost), 0 otherwise.
# TYPE solocron_leader gauge
solocron_leader 0
# HELP solocron_term The term (fencing token) this process leads in; 0 while it does not lead.
# TYPE solocron_term gauge
solocron_term 0
`
	if err := testutil.CollectAndCompare(standby.c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}

	// The leader reports the next tick and the paused flag, and its
	// scrapes ask no elector who leads, reading the ledger once each; the
	// standby's read nothing, and report neither.
	leaderOnly := fmt.Sprintf(`
# HELP solocron_job_next_tick_timestamp_seconds The job's next tick, as Unix time; reported by the leader only.
# TYPE solocron_job_next_tick_timestamp_seconds gauge
solocron_job_next_tick_timestamp_seconds{job_name="report"} %d
# HELP solocron_job_paused 1 while the job is paused across the cluster (Scheduler.Pause), from the ledger; reported by the leader only.
# TYPE solocron_job_paused gauge
solocron_job_paused{job_name="report"} 0
`, base.Truncate(time.Minute).Add(time.Minute).Unix())
	if err := testutil.CollectAndCompare(leader.c, strings.NewReader(leaderOnly), "solocron_job_next_tick_timestamp_seconds", "solocron_job_paused"); err != nil {
		t.Fatal(err)
	}
	leaderAsked, standbyAsked := leader.elector.holders.Load(), standby.elector.holders.Load()
	leaderRead, standbyRead := leader.elector.observes.Load(), standby.elector.observes.Load()
	for range 10 {
		gather(t, leader.c)
		gather(t, standby.c)
	}
	if n := leader.elector.holders.Load() - leaderAsked; n != 0 {
		t.Errorf("10 scrapes of the leader asked the elector who leads %d times, want 0", n)
	}
	if n := standby.elector.holders.Load() - standbyAsked; n != 0 {
		t.Errorf("10 scrapes of the standby asked the elector who leads %d times, want 0", n)
	}
	// Each process's overdue check reads the ledger too, once a
	// CheckInterval: it may fall among the scrapes.
	if n := leader.elector.observes.Load() - leaderRead; n < 10 || n > 11 {
		t.Errorf("10 scrapes of the leader read the ledger %d times, want 10", n)
	}
	if n := standby.elector.observes.Load() - standbyRead; n > 1 {
		t.Errorf("10 scrapes of the standby read the ledger %d times, want none", n)
	}
	for _, name := range []string{"solocron_job_next_tick_timestamp_seconds", "solocron_job_paused"} {
		if n := testutil.CollectAndCount(standby.c, name); n != 0 {
			t.Errorf("the standby reports %d of %s, want none", n, name)
		}
	}
}

func TestLeaderAndTermFollowLeadership(t *testing.T) {
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(base)
	a := start(t, store, clock, solocronprom.Options{})
	waitLeading(t, a)
	b := start(t, store, clock, solocronprom.Options{})
	term := func(p process) float64 { return value(t, p.c, "solocron_term") }
	holder := func() float64 {
		h, err := store.Elector().Holder(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return float64(h.Term)
	}
	if got, want := term(a), holder(); got != want || got == 0 {
		t.Fatalf("leader's solocron_term = %v, want the holder's term %v", got, want)
	}
	if got := value(t, b.c, "solocron_leader"); got != 0 {
		t.Fatalf("standby's solocron_leader = %v, want 0", got)
	}
	first := term(a)

	// The lease expires: a loses (OnLost), and a new term begins in a or b.
	store.Revoke(errors.New("lease expired"))
	eventually(t, "a new term", func() bool { return max(term(a), term(b)) > first })
	leader, standby := a, b
	if term(b) > first {
		leader, standby = b, a
	}
	eventually(t, "one leader in the new term", func() bool {
		return value(t, leader.c, "solocron_leader") == 1 && value(t, standby.c, "solocron_leader") == 0
	})
	if got, want := term(leader), holder(); got != want {
		t.Fatalf("new leader's solocron_term = %v, want the holder's term %v", got, want)
	}
	if got := term(standby); got != 0 {
		t.Fatalf("standby's solocron_term = %v, want 0", got)
	}

	// The leader stops (OnLost with no error): the other takes over.
	second := term(leader)
	if err := leader.s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := value(t, leader.c, "solocron_leader"); got != 0 {
		t.Fatalf("solocron_leader = %v after Stop, want 0", got)
	}
	waitLeading(t, standby)
	if got := term(standby); got <= second {
		t.Fatalf("solocron_term %v after the takeover, want more than %v", got, second)
	}
}

func TestRunsErrorsDurationsAndTimes(t *testing.T) {
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(base)
	p := start(t, store, clock, solocronprom.Options{},
		solocron.Job{Name: "ok", Spec: "* * * * *", Run: noop},
		solocron.Job{Name: "fails", Spec: "* * * * *", Run: func(context.Context) error { return errors.New("boom") }},
	)
	waitLeading(t, p)
	before := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := clock.Walk(ctx, base.Add(3*time.Minute), time.Minute, p.s); err != nil { // 00:01, 00:02, 00:03
		t.Fatal(err)
	}
	// Walk waits for the runs; their OnJobFinish follows.
	eventually(t, "6 runs", func() bool {
		return value(t, p.c, "solocron_job_runs_total", "job_name", "ok")+value(t, p.c, "solocron_job_runs_total", "job_name", "fails") == 6
	})
	after := time.Now()

	want := fmt.Sprintf(`
# HELP solocron_job_errors_total Runs of the job that returned an error, panicked or timed out, in this process.
# TYPE solocron_job_errors_total counter
solocron_job_errors_total{job_name="fails"} 3
solocron_job_errors_total{job_name="ok"} 0
# HELP solocron_job_next_tick_timestamp_seconds The job's next tick, as Unix time; reported by the leader only.
# TYPE solocron_job_next_tick_timestamp_seconds gauge
solocron_job_next_tick_timestamp_seconds{job_name="fails"} %[1]d
solocron_job_next_tick_timestamp_seconds{job_name="ok"} %[1]d
# HELP solocron_job_runs_total Runs of the job finished in this process.
# TYPE solocron_job_runs_total counter
solocron_job_runs_total{job_name="fails"} 3
solocron_job_runs_total{job_name="ok"} 3
`, time.Date(2026, 1, 1, 0, 4, 0, 0, time.UTC).Unix())
	err := testutil.CollectAndCompare(p.c, strings.NewReader(want),
		"solocron_job_runs_total", "solocron_job_errors_total", "solocron_job_next_tick_timestamp_seconds")
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"ok", "fails"} {
		m, ok := sample(t, p.c, "solocron_job_duration_seconds", "job_name", job)
		if !ok || m.GetHistogram().GetSampleCount() != 3 {
			t.Errorf("duration histogram of %s: %v, want 3 observations", job, m)
		}
	}
	last := value(t, p.c, "solocron_job_last_success_timestamp_seconds", "job_name", "ok")
	if lo, hi := float64(before.UnixNano())/1e9, float64(after.UnixNano())/1e9; last < lo || last > hi {
		t.Errorf("last success of ok = %f, want within [%f, %f], when its runs finished", last, lo, hi)
	}
	if _, ok := sample(t, p.c, "solocron_job_last_success_timestamp_seconds", "job_name", "fails"); ok {
		t.Error("a last success reported for a job that never succeeded")
	}

	problems, err := testutil.CollectAndLint(p.c)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("lint: %s: %s", pr.Metric, pr.Text)
	}
}

func TestSkipsByReason(t *testing.T) {
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(base)
	ahead := base.Add(24 * time.Hour)
	store.SetRecord("ahead", solocron.Record{Claimed: ahead, Completed: ahead})
	started, release := make(chan struct{}, 1), make(chan struct{})
	p := start(t, store, clock, solocronprom.Options{},
		solocron.Job{Name: "slow", Spec: "* * * * *", Run: func(context.Context) error {
			started <- struct{}{}
			<-release
			return nil
		}},
		solocron.Job{Name: "ahead", Spec: "* * * * *", Run: noop},
	)
	waitLeading(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := func(at time.Time) {
		t.Helper()
		if err := clock.WaitForTimer(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Set(at)
	}
	tick(base.Add(30 * time.Second)) // 00:01: slow starts; ahead is refused
	<-started
	tick(base.Add(90 * time.Second)) // 00:02: slow still runs; ahead is refused
	skips := func(job, reason string) float64 {
		return value(t, p.c, "solocron_job_skips_total", "job_name", job, "reason", reason)
	}
	eventually(t, "the skips of 00:02", func() bool {
		return skips("slow", "overlap") == 1 && skips("ahead", "ledger-ahead") == 2
	})
	close(release)
	eventually(t, "slow's run", func() bool { return value(t, p.c, "solocron_job_runs_total", "job_name", "slow") == 1 })

	var want strings.Builder
	want.WriteString(`
# HELP solocron_job_skips_total Ticks of the job this process did not run, by reason (solocron.SkipReason).
# TYPE solocron_job_skips_total counter
`)
	for _, job := range []string{"ahead", "slow"} {
		for _, reason := range []string{"claimed", "late", "ledger-ahead", "misfire", "no-leader", "overlap", "paused", "queue-full"} {
			n := 0
			switch job + "/" + reason {
			case "ahead/ledger-ahead":
				n = 2
			case "slow/overlap":
				n = 1
			}
			fmt.Fprintf(&want, "solocron_job_skips_total{job_name=%q,reason=%q} %d\n", job, reason, n)
		}
	}
	if err := testutil.CollectAndCompare(p.c, strings.NewReader(want.String()), "solocron_job_skips_total"); err != nil {
		t.Fatal(err)
	}
}
