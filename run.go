package solocron

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// job is a registered Job with its schedule and what this process knows of
// its runs. Its run state outlives terms: a run cancelled by a lost term may
// still be returning when the next term begins, and must not overlap.
type job struct {
	Job
	sched cron.Schedule
	fn    RunFunc // Run wrapped in Options.Middleware
	shard uint32  // the job's registration number: spreads its outcomes (outcomes.add)

	next  atomic.Int64 // the next tick (Unix ns; 0: none), as this process's leader last computed it
	ahead atomic.Int64 // a ledger claim far ahead of now (Unix µs; 0: none), see claimedAhead
	// current is the run in progress, for reports of abandoned runs.
	current atomic.Pointer[Run]
	// removed: Remove was called; the term drops the job at its next tick.
	removed atomic.Bool
	// paused: the ledger's control state pauses the job, as the leader
	// last read it.
	paused atomic.Bool
	// overdue is the tick the last overdue check found overdue (Unix µs;
	// 0: none).
	overdue atomic.Int64

	mu       sync.Mutex
	running  bool
	queue    []Run // ticks to run after the current run, in order
	lastTick time.Time
	lastDur  time.Duration
	lastErr  error
	runs     uint64
	errs     uint64
	skips    uint64
}

// reserve marks the job running if it is not; it reports whether it did.
func (j *job) reserve() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.running {
		return false
	}
	j.running = true
	return true
}

// enqueue queues r behind the running run; it reports false when the
// queue is full.
func (j *job) enqueue(r Run) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.queue) >= maxQueued {
		return false
	}
	j.queue = append(j.queue, r)
	return true
}

// queueCatchUp queues a new leader's catch-up runs, which are not bound by
// maxQueued (the misfire policy bounds them).
func (j *job) queueCatchUp(runs []Run) {
	j.mu.Lock()
	j.queue = append(j.queue, runs...)
	j.mu.Unlock()
}

// dequeue returns the next queued run, or marks the job idle.
func (j *job) dequeue() (Run, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.queue) == 0 {
		j.running = false
		return Run{}, false
	}
	r := j.queue[0]
	j.queue = j.queue[1:]
	return r, true
}

// release marks the job idle and drops its queue: the queued ticks were
// never claimed, so the next leader treats them as missed.
func (j *job) release() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.running = false
	j.queue = nil
}

func (j *job) setNext(t time.Time) {
	if t.IsZero() {
		j.next.Store(0)
		return
	}
	j.next.Store(t.UnixNano())
}

// inflight returns the run in progress, if any.
func (j *job) inflight() (Run, bool) {
	if r := j.current.Load(); r != nil {
		return *r, true
	}
	return Run{}, false
}

func (j *job) setAhead(claimed time.Time) { j.ahead.Store(claimed.UnixMicro()) }

func (j *job) clearAhead() {
	if j.ahead.Load() != 0 {
		j.ahead.Store(0)
	}
}

// refusal says why the ledger refused a claim of this job.
func (j *job) refusal() SkipReason {
	if j.ahead.Load() != 0 {
		return SkipLedgerAhead
	}
	return SkipClaimed
}

// decide appends a skipped tick to record in the ledger, so that no later
// leader runs it as missed. An at-least-once job's skip is not recorded:
// it would mark the run in flight as done, and the next leader could not
// run it again if this one died.
func (j *job) decide(decided []Claim, r Run) []Claim {
	if j.AtLeastOnce {
		return decided
	}
	return append(decided, Claim{Job: r.Job, Tick: r.Tick})
}

func (j *job) skipped() {
	j.mu.Lock()
	j.skips++
	j.mu.Unlock()
}

// finished records a run and, under the same lock, dequeues the next
// queued tick or marks the job idle (see dequeue).
func (j *job) finished(tick time.Time, d time.Duration, err error) (Run, bool) {
	j.current.Store(nil)
	j.mu.Lock()
	j.lastTick, j.lastDur, j.lastErr = tick, d, err
	j.runs++
	if err != nil {
		j.errs++
	}
	j.mu.Unlock()
	return j.dequeue()
}

func (j *job) status(now time.Time) JobStatus {
	next := time.Unix(0, j.next.Load())
	if !next.After(now) {
		next = j.sched.Next(now)
	}
	var ahead time.Time
	if us := j.ahead.Load(); us != 0 {
		ahead = time.UnixMicro(us).UTC()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return JobStatus{
		Name: j.Name, Spec: j.Spec, Next: next,
		LastTick: j.lastTick, LastDuration: j.lastDur, LastError: j.lastErr,
		Running: j.running, Runs: j.runs, Errors: j.errs, Skips: j.skips,
		LedgerAhead: ahead,
	}
}

// call runs the job's function through the middleware, turning a panic
// into the run's error.
func (j *job) call(ctx context.Context) (err error) {
	defer recoverInto(&err)
	return j.fn(ctx)
}

// PanicError is the error of a run whose function panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("solocron: job panicked: %v", e.Value) }

// swapOverdue notes the tick found overdue (zero: none) and returns the
// one noted before.
func (j *job) swapOverdue(due time.Time) time.Time {
	var us int64
	if !due.IsZero() {
		us = due.UnixMicro()
	}
	if prev := j.overdue.Swap(us); prev != 0 {
		return time.UnixMicro(prev)
	}
	return time.Time{}
}
