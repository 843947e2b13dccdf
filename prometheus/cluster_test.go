package solocronprom_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/solocron/solocron"
	solocronprom "github.com/solocron/solocron/prometheus"
	"github.com/solocron/solocron/solocrontest"
)

// The cluster's view: overdue jobs (from every process's overdue check),
// and the paused flags and last runs the ledger holds (from the leader's
// Status).

func TestOverdueOnEveryProcessUnderAHungLeader(t *testing.T) {
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(base) // 00:00:30
	// A hung leader holds the lease: it claimed 00:00, and claims nothing
	// more.
	hung, err := store.Elector().Campaign(context.Background(), solocron.Candidate{PID: 1, Hostname: "hung"})
	if err != nil {
		t.Fatal(err)
	}
	last := base.Truncate(time.Minute)
	store.SetRecord("report", solocron.Record{Claimed: last, Completed: last, Next: last.Add(time.Minute)})
	p := startWith(t, store, solocron.Options{Clock: clock, CheckInterval: 20 * time.Millisecond, OverdueGrace: time.Minute},
		solocronprom.Options{},
		solocron.Job{Name: "report", Spec: "* * * * *", Run: noop}, solocron.Job{Name: "daily", Spec: "@daily", Run: noop})
	overdue := func(job string) float64 { return value(t, p.c, "solocron_job_overdue", "job_name", job) }
	if overdue("report") != 0 || overdue("daily") != 0 {
		t.Fatalf("overdue before any tick fell due: report %v, daily %v; want 0", overdue("report"), overdue("daily"))
	}

	clock.Set(base.Add(2 * time.Minute)) // 00:02:30: 00:01 unclaimed for 90s, more than the grace
	eventually(t, "report overdue on a standby", func() bool { return overdue("report") == 1 })
	if got := overdue("daily"); got != 0 {
		t.Errorf("daily overdue %v, want 0", got)
	}
	if got := value(t, p.c, "solocron_leader"); got != 0 {
		t.Fatalf("solocron_leader %v, want a standby", got)
	}

	// The hung leader goes: this process leads, catches up, recovers.
	if err := hung.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLeading(t, p)
	eventually(t, "report no longer overdue", func() bool { return overdue("report") == 0 })
}

func TestPausedFromTheLedger(t *testing.T) {
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(base)
	job := solocron.Job{Name: "report", Spec: "* * * * *", Run: noop}
	leader := start(t, store, clock, solocronprom.Options{}, job)
	waitLeading(t, leader)
	standby := start(t, store, clock, solocronprom.Options{}, job)
	paused := func(p process) float64 { return value(t, p.c, "solocron_job_paused", "job_name", "report") }

	// Paused from the standby: the leader's next scrape reads it.
	if err := standby.s.Pause(context.Background(), "report"); err != nil {
		t.Fatal(err)
	}
	if got := paused(leader); got != 1 {
		t.Fatalf("solocron_job_paused %v after Pause, want 1", got)
	}
	if got := paused(standby); got != -1 {
		t.Errorf("the standby reports solocron_job_paused %v, want nothing", got)
	}
	if err := leader.s.Resume(context.Background(), "report"); err != nil {
		t.Fatal(err)
	}
	if got := paused(leader); got != 0 {
		t.Fatalf("solocron_job_paused %v after Resume, want 0", got)
	}

	// While the ledger cannot be read, no sample: 0 would say "not paused".
	store.FailLedger(errors.New("ledger down"))
	defer store.FailLedger(nil)
	if got := paused(leader); got != -1 {
		t.Errorf("solocron_job_paused %v while the ledger cannot be read, want no sample", got)
	}
	if n := testutil.CollectAndCount(leader.c, "solocron_job_next_tick_timestamp_seconds"); n != 1 {
		t.Errorf("%d next ticks while the ledger cannot be read, want 1 (the schedule is in memory)", n)
	}
}

func TestLastRunFromTheLedgerOutlivesATakeover(t *testing.T) {
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(base)
	jobs := []solocron.Job{
		{Name: "ok", Spec: "* * * * *", Run: noop},
		{Name: "fails", Spec: "* * * * *", Run: func(context.Context) error { return errors.New("boom") }},
	}
	a := start(t, store, clock, solocronprom.Options{}, jobs...)
	waitLeading(t, a)
	b := start(t, store, clock, solocronprom.Options{}, jobs...)
	if n := testutil.CollectAndCount(a.c, "solocron_job_last_run_tick_timestamp_seconds", "solocron_job_last_run_failed"); n != 0 {
		t.Fatalf("%d last-run samples before any run, want none", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := clock.Walk(ctx, base.Add(time.Minute), time.Minute, a.s); err != nil { // 00:01
		t.Fatal(err)
	}
	eventually(t, "2 runs", func() bool {
		return value(t, a.c, "solocron_job_runs_total", "job_name", "ok")+value(t, a.c, "solocron_job_runs_total", "job_name", "fails") == 2
	})

	// a stops (a deploy): b leads, and reports a's last runs from the
	// ledger, though it ran nothing and keeps no last success.
	if err := a.s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitLeading(t, b)
	want := fmt.Sprintf(`
# HELP solocron_job_last_run_failed 1 when the job's last run that finished, on any process (the ledger), failed; 0 when it succeeded. Reported by the leader only.
# TYPE solocron_job_last_run_failed gauge
solocron_job_last_run_failed{job_name="fails"} 1
solocron_job_last_run_failed{job_name="ok"} 0
# HELP solocron_job_last_run_tick_timestamp_seconds The tick of the job's last run that finished, on any process (the ledger), as Unix time; reported by the leader only.
# TYPE solocron_job_last_run_tick_timestamp_seconds gauge
solocron_job_last_run_tick_timestamp_seconds{job_name="fails"} %[1]d
solocron_job_last_run_tick_timestamp_seconds{job_name="ok"} %[1]d
`, base.Truncate(time.Minute).Add(time.Minute).Unix())
	if err := testutil.CollectAndCompare(b.c, strings.NewReader(want),
		"solocron_job_last_run_failed", "solocron_job_last_run_tick_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(b.c, "solocron_job_last_success_timestamp_seconds"); n != 0 {
		t.Errorf("the new leader reports %d last successes of its own, want none", n)
	}
	problems, err := testutil.CollectAndLint(b.c)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("lint: %s: %s", pr.Metric, pr.Text)
	}
}
