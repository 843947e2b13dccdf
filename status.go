package solocron

import "time"

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
	Jobs   []JobStatus
}

// JobStatus describes one job. Run figures count the runs of this process
// only: a standby that never led reports none.
type JobStatus struct {
	Name         string
	Spec         string
	Next         time.Time // the next tick
	LastTick     time.Time // the tick of the last run that started here
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
}
