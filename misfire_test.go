package solocron

import (
	"context"
	"testing"
	"time"
)

func noopRun(context.Context) error { return nil }

func planned(t *testing.T, j Job, last, done, now time.Time) catchUp {
	t.Helper()
	o := Options{Seconds: true}
	if err := o.normalize(); err != nil {
		t.Fatal(err)
	}
	j.Name, j.Run = "job", noopRun
	sched, err := j.validate(o.parser(), time.UTC, o.MisfireGrace)
	if err != nil {
		t.Fatal(err)
	}
	return planCatchUp(&job{Job: j, sched: sched}, last, done, now)
}

func ticks(runs []Run) []string {
	var out []string
	for _, r := range runs {
		s := r.Tick.Format("15:04:05")
		if r.Retry {
			s += " retry"
		}
		out = append(out, s)
	}
	return out
}

func TestPlanCatchUp(t *testing.T) {
	at := func(h, m, s int) time.Time { return time.Date(2026, 3, 1, h, m, s, 0, time.UTC) }
	now := at(12, 0, 30)
	cases := []struct {
		name        string
		job         Job
		last, done  time.Time
		wantRuns    []string
		wantSkipped []string
		wantNext    time.Time
	}{
		{"nothing missed", Job{Spec: "0 * * * * *"}, at(12, 0, 0), at(12, 0, 0), nil, nil, at(12, 1, 0)},
		{"run once: latest of several", Job{Spec: "*/10 * * * * *"}, at(11, 59, 40), at(11, 59, 40), []string{"12:00:30"}, nil, at(12, 0, 40)},
		{"run once: one missed", Job{Spec: "0 * * * * *"}, at(11, 59, 0), at(11, 59, 0), []string{"12:00:00"}, nil, at(12, 1, 0)},
		{"run once: older than grace", Job{Spec: "0 0 * * * *", MisfireGrace: 10 * time.Second}, at(11, 0, 0), at(11, 0, 0), nil, []string{"12:00:00"}, at(13, 0, 0)},
		{"run once: long outage costs little", Job{Spec: "* * * * * *", MisfireGrace: 1000 * time.Hour}, at(12, 0, 30).Add(-900 * time.Hour), time.Time{}, []string{"12:00:30"}, nil, at(12, 0, 31)},
		{"skip", Job{Spec: "*/10 * * * * *", Misfire: MisfireSkip}, at(11, 59, 40), at(11, 59, 40), nil, []string{"11:59:50"}, at(12, 0, 40)},
		{"run all", Job{Spec: "*/10 * * * * *", Misfire: MisfireRunAll}, at(11, 59, 40), at(11, 59, 40), []string{"11:59:50", "12:00:00", "12:00:10", "12:00:20", "12:00:30"}, nil, at(12, 0, 40)},
		{"run all, bounded", Job{Spec: "*/10 * * * * *", Misfire: MisfireRunAll, MaxCatchUp: 2}, at(11, 59, 40), at(11, 59, 40), []string{"12:00:20", "12:00:30"}, []string{"11:59:50"}, at(12, 0, 40)},
		{"run all within grace", Job{Spec: "*/10 * * * * *", Misfire: MisfireRunAll, MisfireGrace: 15 * time.Second}, at(11, 59, 40), at(11, 59, 40), []string{"12:00:20", "12:00:30"}, []string{"11:59:50"}, at(12, 0, 40)},
		{"at least once: unfinished tick first", Job{Spec: "0 * * * * *", AtLeastOnce: true}, at(11, 59, 0), at(11, 58, 0), []string{"11:59:00 retry", "12:00:00"}, nil, at(12, 1, 0)},
		{"at least once: finished", Job{Spec: "0 * * * * *", AtLeastOnce: true}, at(12, 0, 0), at(12, 0, 0), nil, nil, at(12, 1, 0)},
		{"exactly once never retries", Job{Spec: "0 * * * * *"}, at(12, 0, 0), at(11, 0, 0), nil, nil, at(12, 1, 0)},
		{"every: the series goes on after a takeover", Job{Spec: "@every 2s"}, at(12, 0, 29), at(12, 0, 29), nil, nil, at(12, 0, 31)},
		{"every: a takeover just before a tick", Job{Spec: "@every 20s"}, at(12, 0, 20), at(12, 0, 20), nil, nil, at(12, 0, 40)},
		{"every: missed ticks keep the phase", Job{Spec: "@every 7s"}, at(12, 0, 2), at(12, 0, 2), []string{"12:00:30"}, nil, at(12, 0, 37)},
		{"every: run all keeps the phase", Job{Spec: "@every 7s", Misfire: MisfireRunAll}, at(12, 0, 2), at(12, 0, 2), []string{"12:00:09", "12:00:16", "12:00:23", "12:00:30"}, nil, at(12, 0, 37)},
		{"ledger ahead of this clock", Job{Spec: "0 * * * * *"}, at(12, 5, 0), at(12, 5, 0), nil, nil, at(12, 6, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			begin := time.Now()
			c := planned(t, tc.job, tc.last, tc.done, now)
			if took := time.Since(begin); took > 100*time.Millisecond {
				t.Errorf("planning took %v", took)
			}
			if got := ticks(c.runs); !equal(got, tc.wantRuns) {
				t.Errorf("runs = %v, want %v", got, tc.wantRuns)
			}
			if got := ticks(c.skipped); !equal(got, tc.wantSkipped) {
				t.Errorf("skipped = %v, want %v", got, tc.wantSkipped)
			}
			if !c.next.Equal(tc.wantNext) {
				t.Errorf("next = %v, want %v", c.next, tc.wantNext)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
