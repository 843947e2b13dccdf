package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

func TestStatusShowsLeaderAndJobs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *engine) {
		var rec recorder
		s := startScheduler(t, e, rec.hooks(), every("tick", nil), every("fails", errors.New("disk full")))
		var st statusOut
		eventually(t, 15*time.Second, "both jobs' outcomes in the ledger", func() bool {
			st, _ = status(t, e)
			tick, ok1 := st.job("tick")
			fails, ok2 := st.job("fails")
			return ok1 && ok2 && tick.Finished != nil && fails.Finished != nil
		})

		r := cli(t, append([]string{"status"}, e.flags...)...)
		r.want(t, exitOK, fmt.Sprintf("leader:  pid %d on ", os.Getpid()), "error: disk full")
		if !tableRow(r.stdout, "tick", "ok") || !tableRow(r.stdout, "fails", "ok") {
			t.Fatalf("no table rows of tick and fails in state ok\n%s", r)
		}

		st, r = status(t, e)
		r.want(t, exitOK)
		if !st.Healthy || len(st.Problems) != 0 || st.Leader == nil || st.Leader.PID != os.Getpid() || st.Leader.Term == 0 || st.Leader.Since.IsZero() {
			t.Fatalf("status --json of a healthy store: %+v\n%s", st, r)
		}
		tick, _ := st.job("tick")
		fails, _ := st.job("fails")
		if tick.Outcome == nil || *tick.Outcome != "ok" || fails.Outcome == nil || *fails.Outcome != "disk full" {
			t.Fatalf("outcomes %v and %v, want ok and disk full\n%s", tick.Outcome, fails.Outcome, r)
		}
		if tick.Claimed == nil || tick.Next == nil || !tick.Next.After(*tick.Claimed) || tick.Duration == nil || tick.DurationMS == nil || tick.Paused || tick.Overdue || tick.RunRequested != nil {
			t.Fatalf("job tick: %+v\n%s", tick, r)
		}
		wantFields(t, r.stdout)

		stopScheduler(t, s)
		r = cli(t, append([]string{"status"}, e.flags...)...)
		r.want(t, exitProblem, "leader:  nobody leads", "problem: nobody leads")
		st, r = status(t, e)
		r.want(t, exitProblem)
		if st.Healthy || st.Leader != nil || !slices.Contains(st.Problems, "nobody leads") {
			t.Fatalf("status --json with nobody leading: %+v", st)
		}
	})
}

// tableRow reports whether out has a row of the job with the state.
func tableRow(out, job, state string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == job && f[1] == state {
			return true
		}
	}
	return false
}

// wantFields checks status --json's field names, every one always present.
func wantFields(t *testing.T, out string) {
	t.Helper()
	var doc struct {
		Top    map[string]json.RawMessage
		Leader map[string]json.RawMessage `json:"leader"`
		Jobs   []map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &doc.Top); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Top["leader"], &doc.Leader); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Top["jobs"], &doc.Jobs); err != nil {
		t.Fatal(err)
	}
	same := func(what string, got map[string]json.RawMessage, want ...string) {
		var names []string
		for k := range got {
			names = append(names, k)
		}
		slices.Sort(names)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Fatalf("%s has fields %q, want %q\n%s", what, names, want, out)
		}
	}
	same("status", doc.Top, "store", "checked_at", "healthy", "problems", "grace", "grace_ms", "leader", "jobs")
	same("leader", doc.Leader, "pid", "hostname", "since", "term", "app", "jobs_digest")
	for _, j := range doc.Jobs {
		same("job", j, "name", "claimed", "finished", "duration", "duration_ms", "outcome", "next", "paused", "run_requested", "overdue")
	}
}

// TestStatusOverdue: a job whose recorded next tick is more than the
// grace in the past, unclaimed, is overdue, while a process leads.
func TestStatusOverdue(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *engine) {
		last := time.Now().Add(-time.Hour).Truncate(time.Second)
		withLease(t, e, func(ctx context.Context, l solocron.Lease) {
			granted, err := l.Claim(ctx, []solocron.Claim{{Job: "stale", Tick: last}})
			if err != nil || !granted[0] {
				t.Fatalf("claim: %v %v", granted, err)
			}
			err = l.Complete(ctx, []solocron.Outcome{{Job: "stale", Tick: last, Ran: true, Duration: 2 * time.Second, Next: last.Add(10 * time.Minute)}})
			if err != nil {
				t.Fatal(err)
			}
		})
		startScheduler(t, e, solocron.Hooks{}, every("tick", nil)) // stale is no longer scheduled

		r := cli(t, append([]string{"status"}, e.flags...)...)
		r.want(t, exitProblem, "problem: stale is overdue")
		if !tableRow(r.stdout, "stale", "OVERDUE") {
			t.Fatalf("no row of stale as OVERDUE\n%s", r)
		}
		st, r := status(t, e)
		r.want(t, exitProblem)
		if stale, _ := st.job("stale"); !stale.Overdue || st.Healthy || st.Leader == nil {
			t.Fatalf("status --json: %+v", st)
		}

		// 50 minutes late is within a grace of two hours.
		st, r = status(t, e, "--grace", "2h")
		r.want(t, exitOK)
		if stale, _ := st.job("stale"); stale.Overdue || !st.Healthy || st.Grace != "2h0m0s" || st.GraceMS != 7.2e6 {
			t.Fatalf("status --json --grace 2h: %+v", st)
		}
	})
}

// TestStatusOfDefaultLock: --app alone finds the application's default
// lock file, and creates none.
func TestStatusOfDefaultLock(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cache directory is moved through XDG_CACHE_HOME")
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	const app = "example.com/billing/cmd/billing"
	cli(t, "status", "--app", app).want(t, exitUnreachable, `no lock file of application "example.com/billing/cmd/billing"`, "is --app right?")
	if entries, _ := os.ReadDir(cache); len(entries) > 0 {
		t.Fatalf("status created %v in the cache directory", entries)
	}

	e := &engine{name: "file", options: func(*testing.T) solocron.Options { return solocron.Options{App: app} }}
	startScheduler(t, e, solocron.Hooks{}, every("tick", nil))
	lock, err := filepath.Glob(filepath.Join(cache, "solocron", "billing-*.lock"))
	if err != nil || len(lock) != 1 {
		t.Fatalf("the default lock file: %v %v", lock, err)
	}
	cli(t, "status", "--app", app).want(t, exitOK, "store:   file "+lock[0], "leader:  pid")
}
