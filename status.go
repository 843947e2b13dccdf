package solocron

import (
	"strings"
	"time"
)

// Role is this process's part in the group.
type Role int

const (
	// Stopped: Start has not been called yet, or Stop has.
	Stopped Role = iota
	// Standby: contending for leadership; runs nothing.
	Standby
	// Leader: runs the jobs.
	Leader
)

func (r Role) String() string {
	switch r {
	case Leader:
		return "leader"
	case Standby:
		return "standby"
	}
	return "stopped"
}

// Status is a snapshot of a Scheduler.
type Status struct {
	Role      Role
	Elector   string // where leadership lives, e.g. "file /home/app/.cache/solocron/api.lock"
	Holder    Holder // the current leader, this process or another
	HolderErr error  // why Holder is empty (ErrNoHolder when nobody leads)
	// Mismatch is set when the leader runs another application (Holder.App)
	// or registered another set of jobs than this process: a shared lock
	// or App name by mistake, or a rollout in progress.
	Mismatch string
	// Health says whether this process reaches its elector.
	Health Health
	// LedgerErr says why the jobs' Ledger parts are empty: the ledger
	// could not be read.
	LedgerErr error
	Jobs      []JobStatus
}

// JobStatus describes one job. Run figures count the runs of this process
// only: a standby that never led reports none.
type JobStatus struct {
	Name         string
	Spec         string
	Next         time.Time // the next tick
	LastTick     time.Time // the tick of the last run that finished here
	LastDuration time.Duration
	LastError    error
	Running      bool
	Runs         uint64 // runs finished here
	Errors       uint64 // of them, runs that failed
	Skips        uint64 // ticks skipped here (OnJobSkip)

	// LedgerAhead is the job's claimed tick in the ledger when it lies far
	// ahead of now (every tick up to it is refused, SkipLedgerAhead), as
	// this process found it when it led; zero otherwise. ResetJob, on the
	// leader, repairs it.
	LedgerAhead time.Time

	// Ledger is the job's state in the ledger, the same on every process
	// (the cluster's view): read by Status.
	Ledger JobLedger
	// Overdue is the job's tick that was not claimed within
	// Options.OverdueGrace of falling due; zero when the job is on time.
	Overdue time.Time
}

// JobLedger is a job's state in the ledger: what every leader did, not
// only this process.
type JobLedger struct {
	Claimed time.Time // the last tick claimed
	Next    time.Time // the next tick, as the leader last recorded it

	// The last run that finished, on any leader, RunNow's and requested
	// runs included: its tick, duration and error ("" when it succeeded).
	Finished time.Time
	Duration time.Duration
	Error    string

	Paused    bool
	Requested time.Time // a requested run not started yet; zero when none
}

// The ledger keeps the claims and outcomes of a job's manual runs
// (RunNow) and requested runs (RequestRun) apart from its ticks, so that
// they never move the job's schedule, under the job's name and one of
// these suffixes. Job names hold no control character, so they cannot
// collide with one.
const (
	ManualRecordSuffix  = "\x1fmanual"
	RequestRecordSuffix = "\x1frequest"
)

// LedgerJobs returns the jobs the ledger's records tell of (as
// Elector.Observe returns them), by name, as Status shows them: each
// job's record with the last outcome of its manual and requested runs
// folded in. A program with no Scheduler (the solocron command) reads the
// cluster through it.
func LedgerJobs(recs map[string]Record) map[string]JobLedger {
	out := make(map[string]JobLedger)
	for name := range recs {
		if job, _, _ := strings.Cut(name, "\x1f"); job != "" {
			out[job] = jobLedger(job, recs)
		}
	}
	return out
}

// jobLedger merges a job's record with the records of its manual and
// requested runs.
func jobLedger(name string, recs map[string]Record) JobLedger {
	rec := recs[name]
	l := JobLedger{Claimed: rec.Claimed, Next: rec.Next, Paused: rec.Paused,
		Finished: rec.Finished, Duration: rec.Duration, Error: rec.Error}
	for _, suffix := range []string{ManualRecordSuffix, RequestRecordSuffix} {
		if r := recs[name+suffix]; r.Finished.After(l.Finished) {
			l.Finished, l.Duration, l.Error = r.Finished, r.Duration, r.Error
		}
	}
	if rec.Requested.After(recs[name+RequestRecordSuffix].Claimed) {
		l.Requested = rec.Requested
	}
	return l
}
