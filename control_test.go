package solocron_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	. "github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// The operators' controls and the cluster's view, on the in-memory store:
// every engine runs the same seam checks in electortest.

func countRuns(rec *recorder, pred func(JobEvent) bool) int {
	n := 0
	for _, e := range rec.started {
		if pred(e) {
			n++
		}
	}
	return n
}

func TestOutcomesOfEveryJobReachTheLedger(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	rec := newRecorder()
	fail := errors.New("line one\nline two")
	s := start(t, Options{Elector: store.Elector(), Hooks: rec.hooks()},
		Job{Name: "ok", Spec: "* * * * * *", Run: noop},
		Job{Name: "bad", Spec: "* * * * * *", Run: func(context.Context) error { return fail }})
	rec.wait(t, "runs of both jobs", 5*time.Second, func() bool { return len(rec.finished) >= 2 && len(rec.errs) >= 1 })
	deadline := time.Now().Add(3 * time.Second)
	for {
		ok, _ := store.Record("ok")
		bad, _ := store.Record("bad")
		if !ok.Finished.IsZero() && !bad.Finished.IsZero() {
			if ok.Error != "" || bad.Error != "line one" || !ok.Next.After(ok.Finished) {
				t.Fatalf("records: ok %+v, bad %+v; want no error, the first line of the error, Next after the tick", ok, bad)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no outcome in the ledger: ok %+v, bad %+v", ok, bad)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A standby sees the same, through Status.
	standby := start(t, Options{Elector: store.Elector()}, Job{Name: "ok", Spec: "* * * * * *", Run: noop},
		Job{Name: "bad", Spec: "* * * * * *", Run: noop})
	st := standby.Status(context.Background())
	if st.Role != Standby || st.LedgerErr != nil {
		t.Fatalf("standby Status: role %v, ledger error %v", st.Role, st.LedgerErr)
	}
	if l := st.Jobs[1].Ledger; l.Finished.IsZero() || l.Error != "line one" || l.Claimed.IsZero() || st.Jobs[1].Runs != 0 {
		t.Fatalf("standby's view of bad = %+v (runs here %d)", l, st.Jobs[1].Runs)
	}
	b, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(b), `"outcome":"line one"`) || !strings.Contains(string(b), `"paused":false`) {
		t.Fatalf("Status JSON %s (%v) lacks the ledger's outcome", b, err)
	}
	_ = s
}

func TestPauseAndResumeFromAStandby(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	rec := newRecorder()
	job := Job{Name: "job", Spec: "* * * * * *", Run: noop, Misfire: MisfireRunOnce}
	leader := start(t, Options{Elector: store.Elector(), Hooks: rec.hooks()}, job)
	waitRole(t, leader, Leader, 5*time.Second)
	standby := start(t, Options{Elector: store.Elector()}, job)
	waitRole(t, standby, Standby, 5*time.Second)

	if err := standby.Pause(context.Background(), "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("Pause of an unknown job: %v, want ErrUnknownJob", err)
	}
	if err := standby.Pause(context.Background(), "job"); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	rec.wait(t, "a paused skip", 5*time.Second, func() bool {
		for _, e := range rec.skips {
			if e.Reason == SkipPaused {
				return true
			}
		}
		return false
	})
	rec.mu.Lock()
	before := len(rec.started)
	rec.mu.Unlock()
	time.Sleep(2500 * time.Millisecond)
	rec.mu.Lock()
	during := len(rec.started) - before
	rec.mu.Unlock()
	if during != 0 {
		t.Fatalf("%d runs while the job was paused", during)
	}
	if st := standby.Status(context.Background()); !st.Jobs[0].Ledger.Paused || !st.Jobs[0].Overdue.IsZero() {
		t.Fatalf("standby's view while paused: %+v, overdue %v; want paused and not overdue", st.Jobs[0].Ledger, st.Jobs[0].Overdue)
	}

	if err := standby.Resume(context.Background(), "job"); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	// MisfireRunOnce: one of the ticks skipped while paused (the latest
	// when the leader read the resume) runs at once, then the schedule
	// goes on; no tick runs twice.
	rec.wait(t, "runs after the resume", 5*time.Second, func() bool {
		paused := map[time.Time]bool{}
		for _, e := range rec.skips {
			paused[e.Tick] = true
		}
		seen := map[time.Time]bool{}
		caughtUp, after := 0, 0
		for _, e := range rec.started {
			if seen[e.Tick] {
				t.Fatalf("tick %v ran twice", e.Tick)
			}
			seen[e.Tick] = true
			switch {
			case paused[e.Tick]:
				caughtUp++
			case len(seen) > before:
				after++
			}
		}
		if caughtUp > 1 {
			t.Fatalf("%d ticks skipped while paused ran after the resume, want 1 (MisfireRunOnce)", caughtUp)
		}
		return caughtUp == 1 && after >= 1
	})
}

func TestANewLeaderHonoursThePause(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	job := Job{Name: "job", Spec: "* * * * * *", Run: noop}
	a := start(t, Options{Elector: store.Elector()}, job)
	waitRole(t, a, Leader, 5*time.Second)
	if err := a.Pause(context.Background(), "job"); err != nil {
		t.Fatal(err)
	}
	stopNow(t, a)

	rec := newRecorder()
	b := start(t, Options{Elector: store.Elector(), Hooks: rec.hooks()}, job)
	waitRole(t, b, Leader, 5*time.Second)
	rec.wait(t, "paused skips on the new leader", 5*time.Second, func() bool { return len(rec.skips) >= 2 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.started) != 0 {
		t.Fatalf("the new leader ran a paused job %d times", len(rec.started))
	}
	for _, e := range rec.skips {
		if e.Reason != SkipPaused {
			t.Fatalf("skip %+v, want reason paused", e)
		}
	}
}

func stopNow(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestRequestRunFromAStandbyRunsOnceOnTheLeader(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	rec := newRecorder()
	job := Job{Name: "job", Spec: "@daily", Run: noop}
	leader := start(t, Options{Elector: store.Elector(), Hooks: rec.hooks()}, job)
	waitRole(t, leader, Leader, 5*time.Second)
	standby := start(t, Options{Elector: store.Elector()}, job)
	waitRole(t, standby, Standby, 5*time.Second)
	if err := standby.RunNow(context.Background(), "job"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("RunNow on a standby: %v, want ErrNotLeader (RequestRun is the way)", err)
	}
	asked := time.Now()
	if err := standby.RequestRun(context.Background(), "job"); err != nil {
		t.Fatalf("RequestRun: %v", err)
	}
	rec.wait(t, "the requested run", 2500*time.Millisecond, func() bool { return len(rec.finished) == 1 })
	if e := rec.finished[0]; !e.Requested || !e.Manual || e.Tick.Before(asked.Add(-time.Second)) {
		t.Fatalf("run %+v, want a requested run", e.Run)
	}
	// The request is claimed: neither this leader's next polls nor a new
	// leader run it again.
	stopNow(t, leader)
	waitRole(t, standby, Leader, 5*time.Second)
	time.Sleep(2 * time.Second)
	if st := standby.Status(context.Background()); st.Jobs[0].Runs != 0 || !st.Jobs[0].Ledger.Requested.IsZero() || st.Jobs[0].Ledger.Finished.IsZero() {
		t.Fatalf("after the request ran: the new leader ran it %d times; ledger view %+v", st.Jobs[0].Runs, st.Jobs[0].Ledger)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.started) != 1 {
		t.Fatalf("%d runs of one request", len(rec.started))
	}
}

// hungLeader holds the lease of store without running anything, as a
// SIGSTOPped leader would.
func hungLeader(t *testing.T, store *solocrontest.Store) Lease {
	t.Helper()
	l, err := store.Elector().Campaign(context.Background(), Candidate{PID: 1, Hostname: "hung"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestOverdueAlarmOnAHungLeader(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	l := hungLeader(t, store)
	if _, err := l.Claim(context.Background(), []Claim{{Job: "job", Tick: time.Now().Truncate(time.Microsecond)}}); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	logs := &logBuffer{}
	s := start(t, Options{Elector: store.Elector(), Hooks: rec.hooks(), Logger: logs.logger(),
		CheckInterval: 100 * time.Millisecond, OverdueGrace: time.Second},
		Job{Name: "job", Spec: "* * * * * *", Run: noop})
	rec.wait(t, "the overdue alarm", 6*time.Second, func() bool { return len(rec.overdue) >= 1 })
	time.Sleep(500 * time.Millisecond) // more checks: one event per episode
	rec.mu.Lock()
	if len(rec.overdue) != 1 || rec.overdue[0].Due.IsZero() || rec.overdue[0].Job != "job" {
		t.Fatalf("overdue events %+v, want one for job", rec.overdue)
	}
	rec.mu.Unlock()
	if n := logs.count("level=ERROR", "job overdue", "job=job"); n != 1 {
		t.Fatalf("%d ERROR lines about the overdue job, want 1", n)
	}
	if st := s.Status(context.Background()); st.Jobs[0].Overdue.IsZero() {
		t.Fatal("Status does not show the job overdue")
	}

	// The hung leader goes; this process leads, catches up, recovers.
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "recovery", 6*time.Second, func() bool { return len(rec.overdue) == 2 })
	if e := rec.overdue[1]; !e.Due.IsZero() {
		t.Fatalf("second event %+v, want a recovery (zero Due)", e)
	}
	if st := s.Status(context.Background()); !st.Jobs[0].Overdue.IsZero() {
		t.Fatalf("Status still shows the job overdue: %v", st.Jobs[0].Overdue)
	}
}

func TestNoOverdueAlarmAtATakeoverOrAPassedOverMisfire(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	// The ledger's record is an hour old: the cluster was down. With
	// MisfireSkip nothing is run, and the decision is recorded.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	store.SetRecord("skip", Record{Claimed: old, Completed: old})
	rec := newRecorder()
	opts := Options{Elector: store.Elector(), Hooks: rec.hooks(), CheckInterval: 50 * time.Millisecond, OverdueGrace: time.Second}
	jobs := []Job{{Name: "every", Spec: "* * * * * *", Run: noop}, {Name: "skip", Spec: "* * * * * *", Run: noop, Misfire: MisfireSkip}}
	a := start(t, opts, jobs...)
	waitRole(t, a, Leader, 5*time.Second)
	b := start(t, opts, jobs...)
	time.Sleep(1500 * time.Millisecond)
	stopNow(t, a)
	waitRole(t, b, Leader, 5*time.Second)
	time.Sleep(1500 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.overdue) != 0 {
		t.Fatalf("overdue alarms at a takeover: %+v", rec.overdue)
	}
}

func TestAnExpiredRequestIsDroppedAndRecorded(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	el := store.Elector()
	if err := el.RequestRun(context.Background(), "job"); err != nil {
		t.Fatal(err)
	}
	// The leader's clock is an hour past the request: nobody led since.
	clock := solocrontest.NewClock(time.Now().Add(time.Hour))
	rec := newRecorder()
	s := start(t, Options{Elector: el, Clock: clock, Hooks: rec.hooks()}, Job{Name: "job", Spec: "@daily", Run: noop})
	waitRole(t, s, Leader, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for !s.Status(context.Background()).Jobs[0].Ledger.Requested.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("an expired request still shows pending")
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.started) != 0 {
		t.Fatalf("an expired request ran: %+v", rec.started)
	}
}
