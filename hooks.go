package solocron

import "time"

// Hooks are called synchronously by the Scheduler, so they must return
// quickly: count, log, or hand off to a channel. A nil hook is skipped, and
// a hook that panics is logged, never fatal. They are enough to attach
// metrics (runs, errors, skips, durations, leadership changes) without
// wrapping every job.
type Hooks struct {
	OnLeading   func(LeadershipEvent) // this process became the leader
	OnLost      func(LeadershipEvent) // this process stopped leading (Err says why; nil on Stop)
	OnJobStart  func(JobEvent)
	OnJobFinish func(JobEvent) // every run, with Duration and Err
	OnJobError  func(JobEvent) // runs that returned an error, panicked or timed out
	OnJobSkip   func(JobEvent) // ticks not run, with Reason

	// OnJobAbandoned: a run still going after its ctx was cancelled,
	// when leadership is released anyway (Stop's deadline passed, or
	// leadership was lost): the next leader's run may overlap it.
	OnJobAbandoned func(JobEvent)

	// OnOverdue: a job's tick was not claimed within Options.OverdueGrace
	// of falling due (a hung or stopped leader, nobody leading, a ledger
	// that refuses the job's claims). Every process checks, standbys
	// too, once every Options.CheckInterval, and calls it once when the
	// job becomes overdue; Due is zero once it is no longer overdue.
	OnOverdue func(OverdueEvent)
}

// OverdueEvent describes a job that became overdue, or recovered.
type OverdueEvent struct {
	Job     string
	Due     time.Time // the tick not claimed in time; zero when the job recovered
	Claimed time.Time // the last tick claimed, as the ledger holds it
	At      time.Time // when this process found it
}

// LeadershipEvent describes a change of leadership in this process.
type LeadershipEvent struct {
	Term    uint64
	Elector string
	At      time.Time
	Err     error // why leadership was lost; nil when given up by Stop
}

// JobEvent describes one tick of one job.
type JobEvent struct {
	Run
	Duration time.Duration // OnJobFinish and OnJobError
	Err      error         // OnJobFinish and OnJobError
	Reason   SkipReason    // OnJobSkip
}

// SkipReason says why a tick was not run.
type SkipReason string

const (
	SkipOverlap  SkipReason = "overlap"    // the previous run was still going (OverlapSkip)
	SkipQueue    SkipReason = "queue-full" // OverlapQueue already held its maximum of ticks
	SkipMisfire  SkipReason = "misfire"    // missed while nobody led, and the misfire policy passed it over
	SkipLate     SkipReason = "late"       // this leader fell behind (a pause) and coalesced ticks
	SkipClaimed  SkipReason = "claimed"    // the ledger refused the claim: the tick was already claimed
	SkipNoLeader SkipReason = "no-leader"  // the claim failed because leadership was lost
	SkipPaused   SkipReason = "paused"     // the job is paused (Scheduler.Pause); logged at DEBUG only

	// SkipLedgerAhead: the ledger holds a claim of this job far ahead of
	// now (a corrupt record, or a leader whose clock stepped forward), so
	// every tick up to it is refused. Logged at ERROR at every tick;
	// Scheduler.ResetJob repairs it.
	SkipLedgerAhead SkipReason = "ledger-ahead"
)

// JoinHooks returns Hooks that call each of hooks' functions in order, so
// that several consumers (metrics, logging, alerts) hook in without a
// hand-written combiner.
func JoinHooks(hooks ...Hooks) Hooks {
	var j Hooks
	for _, h := range hooks {
		j.OnLeading = join(j.OnLeading, h.OnLeading)
		j.OnLost = join(j.OnLost, h.OnLost)
		j.OnJobStart = join(j.OnJobStart, h.OnJobStart)
		j.OnJobFinish = join(j.OnJobFinish, h.OnJobFinish)
		j.OnJobError = join(j.OnJobError, h.OnJobError)
		j.OnJobSkip = join(j.OnJobSkip, h.OnJobSkip)
		j.OnJobAbandoned = join(j.OnJobAbandoned, h.OnJobAbandoned)
		j.OnOverdue = join(j.OnOverdue, h.OnOverdue)
	}
	return j
}

// join calls a, then b; either may be nil.
func join[E any](a, b func(E)) func(E) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(e E) {
		a(e)
		b(e)
	}
}
