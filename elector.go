package solocron

import (
	"context"
	"errors"
	"time"
)

// Elector decides which process leads. The file lock (FileLock) is the
// default; the postgres and redis modules provide electors that work across
// hosts. A Scheduler calls Campaign from one goroutine at a time.
type Elector interface {
	// Campaign blocks until this process leads, then returns the lease that
	// proves it. It returns ctx.Err() when ctx ends first, and another
	// error when contending cannot go on (bad configuration, permissions);
	// the Scheduler retries such errors after a pause and logs them.
	Campaign(ctx context.Context, c Candidate) (Lease, error)

	// Holder reports the current leader without taking leadership.
	// It returns ErrNoHolder when nobody leads.
	Holder(ctx context.Context) (Holder, error)

	// String names where leadership lives, for logs and Status, for
	// example "file /home/app/.cache/solocron/api.lock". It never holds a
	// credential.
	String() string

	// The methods below work on any process, leader or not, and from a
	// program that runs no Scheduler (the solocron command): they read
	// the ledger and steer the jobs without a lease. They are not fenced;
	// what they write is only ever read by the leader, which decides.

	// Observe returns every record the ledger holds, with each job's
	// Control. A job with control state but no record yet is present
	// with a zero ledger part. The Scheduler calls it for Status and
	// about once a Options.CheckInterval for the overdue check.
	Observe(ctx context.Context) (map[string]Record, error)

	// Control returns the jobs that have control state: paused, or with a
	// run requested. The leader calls it about once a second, so it must
	// cost little (a small read, or a check that nothing changed).
	Control(ctx context.Context) (map[string]Control, error)

	// SetPaused sets or clears the job's paused flag.
	SetPaused(ctx context.Context, job string, paused bool) error

	// RequestRun asks the leader for a run of the job: it sets the job's
	// Control.Requested to the store's clock, or to 1µs past the previous
	// request when that is later, so that every request is later than
	// the one before.
	RequestRun(ctx context.Context, job string) error
}

// Lease is one term of leadership. Its Ledger methods are fenced by the
// term: once another process has been granted a later term, they fail with
// ErrNotLeader and claim nothing.
type Lease interface {
	Ledger

	// Term is the fencing token: it is greater than every term the
	// elector granted before, whichever process held it, even when the
	// elector's state was deleted or restored from a backup since (each
	// engine documents the one assumption this rests on).
	Term() uint64

	// LedgerStale is non-nil when, as this term began, the engine found
	// the ledger older than the last term it knows of: it was restored
	// from a backup, moved back, replaced or deleted while the term's
	// record survived. Its records may then name ticks as unclaimed that
	// did run, so the Scheduler trusts none of them for catch-up (the
	// jobs are treated as new) and logs the error. Once this term has
	// claimed anything, the ledger is current again.
	LedgerStale() error

	// Lost is closed when leadership ends for any reason but Release (the
	// lock file was deleted, the lease could not be renewed, the session
	// was terminated). Err then says why.
	Lost() <-chan struct{}
	Err() error

	// Release gives leadership up so a standby can take over at once.
	// It is safe to call more than once and after Lost.
	Release(ctx context.Context) error
}

// Ledger records, per job, the last tick claimed and the last tick
// completed. It is what makes a tick run once across leaders: a tick is
// run only after it has been claimed, and a claimed tick is never claimed
// again (but see Claim.Retry).
type Ledger interface {
	// Records returns the records of the named jobs; a job with no record
	// is absent from the map.
	Records(ctx context.Context, jobs []string) (map[string]Record, error)

	// Claim claims ticks for several jobs in one round trip and reports,
	// per claim, whether it was granted. A claim is granted when its tick
	// is after the job's last claimed tick, or, with Retry, when it equals
	// the last claimed tick and that tick has not been completed. Claims
	// naming the same job are applied in order. On error no claim may be
	// relied on: the Scheduler runs none of them. (A remote store may have
	// committed some before the error reached us; such ticks are claimed
	// but never run: an error can cost a tick, never run one twice.)
	Claim(ctx context.Context, claims []Claim) ([]bool, error)

	// Complete records how claimed ticks ended, in one round trip. A
	// job's Completed tick only moves forward; an Outcome that Ran also
	// sets Finished, Duration and Error, unless the record already holds
	// a later Finished tick; a later Next replaces the record's. An
	// outcome of a job with no record is ignored.
	Complete(ctx context.Context, done []Outcome) error

	// Reset sets the job's claimed and completed ticks to tick, even when
	// that moves them back: the repair of a record claimed far ahead of
	// now (a corrupt record, a leader whose clock stepped forward). It is
	// fenced like Claim, and creates the record if there is none.
	Reset(ctx context.Context, job string, tick time.Time) error
}

// Candidate identifies the process that campaigns; the Elector shows it to
// others as the Holder once it leads.
type Candidate struct {
	PID      int
	Hostname string
	App      string // the application's identity (by default its main package path); may be empty
	Jobs     string // a digest of the names of the jobs it registered; may be empty
}

// Holder describes the process that leads.
type Holder struct {
	PID      int
	Hostname string
	Since    time.Time // when its term began
	Term     uint64
	App      string // the leader's Candidate.App
	Jobs     string // the leader's Candidate.Jobs
}

// Record is what the ledger holds for one job. Zero times mean never.
type Record struct {
	Claimed   time.Time // last tick claimed
	Completed time.Time // last tick decided: run to its end, or skipped

	// The last run that finished: its tick, how long it took and its
	// error's first line ("" when it succeeded).
	Finished time.Time
	Duration time.Duration
	Error    string

	// Next is the job's next tick as the leader last recorded it: a
	// program that does not know the job's schedule (the solocron
	// command) tells from it whether the job is overdue (Overdue).
	Next time.Time

	// Control is the job's control state. Observe fills it; a lease's
	// Records may leave it zero.
	Control
}

// Control is how operators steer a job through the ledger.
type Control struct {
	Paused    bool      // the leader skips the job's ticks (SkipPaused)
	Requested time.Time // the last run requested (RequestRun); zero when none
}

// Outcome says how a claimed tick ended.
type Outcome struct {
	Job  string
	Tick time.Time
	// Ran is false for a tick decided without a run (a skipped tick, a
	// new job's first record): only Completed moves.
	Ran      bool
	Duration time.Duration
	Error    string // the run's error: its first line, at most MaxErrorLen bytes; "" for success
	// Next is the job's tick after this one; zero when unknown (a manual
	// run). A record's Next only moves forward.
	Next time.Time
}

// MaxErrorLen bounds Outcome.Error, so that a job that fails with a
// megabyte of text cannot bloat the ledger.
const MaxErrorLen = 200

// Claim names one tick of one job. Ticks are stored to the microsecond.
type Claim struct {
	Job   string
	Tick  time.Time
	Retry bool // re-claim a claimed tick that never completed (at-least-once jobs)
}

var (
	// ErrNotLeader is returned by a Lease's ledger methods once the lease
	// is no longer the current term, and by RunNow on a standby.
	ErrNotLeader = errors.New("solocron: not the leader")

	// ErrNoHolder is returned by Elector.Holder when nobody leads.
	ErrNoHolder = errors.New("solocron: no process leads")
)
