package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

func TestPauseAndResume(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *engine) {
		var rec recorder
		startScheduler(t, e, rec.hooks(), every("tick", nil))
		rec.await(t, 0, 5*time.Second, "a run of tick", func(ev recorded) bool { return ev.kind == "start" })

		from := rec.mark()
		cli(t, append([]string{"pause", "tick"}, e.flags...)...).want(t, exitOK, "paused tick")
		skip := rec.await(t, from, 5*time.Second, "tick skipped as paused", func(ev recorded) bool {
			return ev.kind == "skip" && ev.Job == "tick" && ev.Reason == solocron.SkipPaused
		})
		st, r := status(t, e)
		r.want(t, exitOK) // paused is not overdue
		if tick, _ := st.job("tick"); !tick.Paused {
			t.Fatalf("status --json shows tick not paused: %+v", tick)
		}
		if !tableRow(cli(t, append([]string{"status"}, e.flags...)...).stdout, "tick", "paused") {
			t.Fatal("status shows no row of tick as paused")
		}
		// Two more ticks go by skipped, none started.
		rec.await(t, from, 5*time.Second, "two more ticks skipped", func(ev recorded) bool {
			return ev.kind == "skip" && ev.Reason == solocron.SkipPaused && ev.Tick.Sub(skip.Tick) >= 2*time.Second
		})
		if ev, found := rec.find(from, func(ev recorded) bool { return ev.kind == "start" && ev.Tick.After(skip.Tick) }); found {
			t.Fatalf("tick started while paused: %+v", ev)
		}

		// Flags after the job, or before: either order works.
		from = rec.mark()
		cli(t, append(append([]string{"resume"}, e.flags...), "tick")...).want(t, exitOK, "resumed tick")
		rec.await(t, from, 5*time.Second, "tick runs again", func(ev recorded) bool {
			return ev.kind == "start" && ev.Job == "tick" && !ev.Manual
		})
		if tick, _ := func() (jobOut, bool) { st, _ := status(t, e); return st.job("tick") }(); tick.Paused {
			t.Fatalf("status --json shows tick paused after resume: %+v", tick)
		}

		// A job the ledger does not know of: a warning, the flag written.
		cli(t, append([]string{"pause", "nosuch"}, e.flags...)...).want(t, exitOK, `no record of job "nosuch"`, "jobs in the ledger: tick")
		cli(t, append([]string{"resume", "nosuch"}, e.flags...)...).want(t, exitOK)
	})
}

func TestRunRequested(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *engine) {
		runs := make(chan solocron.Run, 10)
		var failure atomic.Pointer[error]
		report := solocron.Job{Name: "report", Spec: "@yearly", Run: func(ctx context.Context) error {
			r, _ := solocron.RunFrom(ctx)
			runs <- r
			if err := failure.Load(); err != nil {
				return *err
			}
			return nil
		}}
		startScheduler(t, e, solocron.Hooks{}, report)

		cli(t, append([]string{"run", "report"}, e.flags...)...).want(t, exitOK, "starts it within about a second")
		if r := nextRun(t, runs, 3*time.Second); !r.Requested || !r.Manual || r.Job != "report" {
			t.Fatalf("the run: %+v, want a requested run of report", r)
		}

		cli(t, append([]string{"run", "--wait", "20s", "report"}, e.flags...)...).want(t, exitOK, "the run of report finished in", ": ok")
		nextRun(t, runs, time.Second)

		boom := errors.New("boom: the printer is on fire")
		failure.Store(&boom)
		cli(t, append([]string{"run", "report", "--wait", "20s"}, e.flags...)...).want(t, exitProblem, "the run of report failed", "boom: the printer is on fire")
		nextRun(t, runs, time.Second)
		st, r := status(t, e)
		r.want(t, exitOK)
		if job, _ := st.job("report"); job.Outcome == nil || *job.Outcome != boom.Error() || job.RunRequested != nil {
			t.Fatalf("status --json after the failed run: %+v", job)
		}
	})
}

// TestRunWaitWhileNobodyLeads: the request stays pending, and --wait says
// that nobody leads.
func TestRunWaitWhileNobodyLeads(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *engine) {
		s := startScheduler(t, e, solocron.Hooks{}, solocron.Job{Name: "report", Spec: "@yearly", Run: func(context.Context) error { return nil }})
		stopScheduler(t, s)

		cli(t, append([]string{"run", "--wait", "1s", "report"}, e.flags...)...).want(t, exitProblem, "nobody leads", "did not start within 1s")
		st, _ := status(t, e)
		if job, _ := st.job("report"); job.RunRequested == nil {
			t.Fatalf("status --json shows no pending run: %+v", job)
		}
		if r := cli(t, append([]string{"status"}, e.flags...)...); !tableRow(r.stdout, "report", "run-pending") {
			t.Fatalf("status shows no pending run of report\n%s", r)
		}
	})
}

// nextRun returns the next run the job reported.
func nextRun(t *testing.T, runs <-chan solocron.Run, within time.Duration) solocron.Run {
	t.Helper()
	select {
	case r := <-runs:
		return r
	case <-time.After(within):
		t.Fatalf("no run within %v", within)
	}
	return solocron.Run{}
}
