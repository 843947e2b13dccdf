package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestLedgerCheckAndRepair: a record claimed a day ahead is found, repair
// refuses while a Scheduler leads and fixes it once none does, and the
// job runs again.
func TestLedgerCheckAndRepair(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *engine) {
		now := time.Now().Truncate(time.Second)
		withLease(t, e, func(ctx context.Context, l solocron.Lease) {
			granted, err := l.Claim(ctx, []solocron.Claim{{Job: "ahead", Tick: now.Add(24 * time.Hour)}, {Job: "fine", Tick: now.Add(-time.Second)}})
			if err != nil || !granted[0] || !granted[1] {
				t.Fatalf("claims: %v %v", granted, err)
			}
		})

		cli(t, append([]string{"ledger", "check"}, e.flags...)...).want(t, exitProblem,
			"problem: ahead is claimed ahead", "solocron ledger repair ahead", `Scheduler.ResetJob(ctx, "ahead")`)
		cli(t, append([]string{"ledger", "repair", "fine"}, e.flags...)...).want(t, exitProblem, "is not ahead of now", "could run a tick twice")
		cli(t, append([]string{"ledger", "repair", "nosuch"}, e.flags...)...).want(t, exitProblem, `no record of "nosuch"`)

		var rec recorder
		s := startScheduler(t, e, rec.hooks(), every("ahead", nil))
		cli(t, append([]string{"ledger", "repair", "ahead"}, e.flags...)...).want(t, exitProblem,
			fmt.Sprintf("pid %d on ", os.Getpid()), `Scheduler.ResetJob(ctx, "ahead")`)
		if ev, found := rec.find(0, func(ev recorded) bool { return ev.kind == "start" }); found {
			t.Fatalf("a run of the job claimed ahead: %+v", ev)
		}
		stopScheduler(t, s)

		cli(t, append([]string{"ledger", "repair", "ahead"}, e.flags...)...).want(t, exitOK, "repaired ahead")
		cli(t, append([]string{"ledger", "check"}, e.flags...)...).want(t, exitOK, "no problem")
		cli(t, append([]string{"ledger", "repair", "ahead"}, e.flags...)...).want(t, exitProblem, "is not ahead of now")
		if e.name == "file" {
			cli(t, append([]string{"ledger", "repair"}, e.flags...)...).want(t, exitProblem, "can be read: it was not moved")
		} else {
			cli(t, append([]string{"ledger", "repair"}, e.flags...)...).want(t, exitUsage, "name the job")
		}

		var again recorder
		startScheduler(t, e, again.hooks(), every("ahead", nil))
		again.await(t, 0, 5*time.Second, "a run of the repaired job", func(ev recorded) bool { return ev.kind == "start" && ev.Job == "ahead" })
	})
}

// TestCorruptFileLedger: a file ledger that cannot be read is a problem
// that names the file and what to do; repair without a job moves it
// aside, and the application leads and runs again.
func TestCorruptFileLedger(t *testing.T) {
	e := fileEngine(t)
	var rec recorder
	s := startScheduler(t, e, rec.hooks(), every("tick", nil))
	eventually(t, 5*time.Second, "two runs", func() bool { return rec.count("finish") >= 2 })

	ledger := e.flags[1] + ".ledger"
	f, err := os.OpenFile(ledger, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The first record's checksum, with valid records after it: the
	// ledger is corrupt, not torn. The leader goes on from what it holds.
	if _, err := f.WriteAt([]byte("zzzz"), 0); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	// While a process holds the lock, repair waits for it, then gives up.
	cli(t, append([]string{"ledger", "repair", "--timeout", "300ms"}, e.flags...)...).want(t, exitProblem, "leads", "stop the application's processes")
	stopScheduler(t, s)

	repair := "solocron ledger repair --lock " + e.flags[1]
	cli(t, append([]string{"ledger", "check"}, e.flags...)...).want(t, exitProblem, "problem: the ledger "+ledger+" cannot be read", repair)
	cli(t, append([]string{"ledger", "repair", "tick"}, e.flags...)...).want(t, exitProblem, ledger, "Move it", repair)
	cli(t, append([]string{"status"}, e.flags...)...).want(t, exitUnreachable, ledger)

	cli(t, append([]string{"ledger", "repair"}, e.flags...)...).want(t, exitOK, "moved the corrupt ledger "+ledger+" to "+ledger+".corrupt-")
	moved, err := filepath.Glob(ledger + ".corrupt-*")
	if err != nil || len(moved) != 1 {
		t.Fatalf("the corrupt ledger moved to %v (%v)", moved, err)
	}
	cli(t, append([]string{"ledger", "repair"}, e.flags...)...).want(t, exitProblem, "can be read")

	var again recorder
	startScheduler(t, e, again.hooks(), every("tick", nil))
	again.await(t, 0, 5*time.Second, "a run on the new ledger", func(ev recorded) bool { return ev.kind == "start" && ev.Job == "tick" })
	cli(t, append([]string{"ledger", "check"}, e.flags...)...).want(t, exitOK, "no problem")
}
