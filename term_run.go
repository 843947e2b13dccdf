package solocron

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// monoEpoch anchors the runs' durations: time.Since(monoEpoch) reads the
// monotonic clock only, where time.Now reads the wall clock too (a
// third of a run's clock reads, and a VM's clock can be slow to read).
var monoEpoch = time.Now()

// run runs one claimed tick on a worker, then the job's queued ticks, one
// after the other: this is the one place a job's function is called.
func (t *term) run(rc *runContext) {
	for {
		j := rc.j
		j.current.Store(&rc.run)
		t.report.started(&rc.run)
		var ctx context.Context = rc
		cancel := context.CancelFunc(nil)
		if j.Timeout > 0 {
			ctx, cancel = context.WithTimeout(rc, j.Timeout)
		}
		begin := time.Since(monoEpoch)
		err := j.call(ctx)
		d := time.Since(monoEpoch) - begin
		if cancel != nil {
			if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && rc.Context.Err() == nil {
				err = fmt.Errorf("solocron: job %q timed out after %v: %w", j.Name, j.Timeout, err)
			}
			cancel()
		}
		// The figures first: hooks and RunNow's caller may read Status.
		next, more := j.finished(rc.run.Tick, d, err)
		t.recordOutcome(rc, d, err)
		if err != nil || !t.report.quiet() {
			t.report.finished(&rc.run, d, err)
		}
		if rc.result != nil {
			rc.result <- err
		}
		next, more = t.claimQueued(rc.Context, j, next, more)
		if !more {
			return
		}
		rc = &runContext{Context: rc.Context, run: next, j: j}
	}
}

// recordOutcome queues the run's outcome for the ledger. A run cut short
// by lost leadership or Stop's deadline is not recorded: an at-least-once
// job's tick then stays unfinished, so the next leader runs it again.
func (t *term) recordOutcome(rc *runContext, d time.Duration, err error) {
	if rc.Context.Err() != nil {
		return
	}
	r := &rc.run
	o := Outcome{Job: r.ledgerName(), Tick: r.Tick, Ran: true, Duration: d, Error: outcomeError(err)}
	switch {
	case r.Manual:
	case !rc.next.IsZero():
		o.Next = rc.next
	default:
		o.Next = rc.j.sched.Next(r.Tick)
	}
	t.outcomes.add(rc.j, o)
}

// launchQueued starts the job's queued ticks, if any (from the serve
// goroutine, after the ledger refused a tick of a job with a queue).
func (t *term) launchQueued(runs context.Context, j *job) {
	r, ok := j.dequeue()
	if r, ok = t.claimQueued(runs, j, r, ok); ok {
		t.publish([]*runContext{{Context: runs, run: r, j: j}})
	}
}

// claimQueued claims the job's next queued tick, given the first one
// dequeued; it marks the job idle when there is none, or when the term no
// longer starts runs.
func (t *term) claimQueued(runs context.Context, j *job, r Run, ok bool) (Run, bool) {
	for ; ok; r, ok = j.dequeue() {
		if runs.Err() != nil || isClosed(t.ended) {
			j.release()
			return Run{}, false
		}
		granted, err := t.claim(runs, []Claim{{Job: r.Job, Tick: r.Tick, Retry: r.Retry}})
		switch {
		case err != nil:
			t.skip(j, r, SkipNoLeader)
			j.release()
			return Run{}, false
		case granted[0]:
			r.Term = t.lease.Term()
			return r, true
		default:
			t.skip(j, r, j.refusal())
		}
	}
	return Run{}, false
}

// runNow claims a manual run of j through the serve goroutine and waits
// for it within ctx.
func (t *term) runNow(ctx context.Context, j *job) error {
	result := make(chan error, 1)
	err := t.submit(ctx, func(runs context.Context) {
		if !j.reserve() {
			result <- fmt.Errorf("%w: %q", ErrJobRunning, j.Name)
			return
		}
		// Manual runs are claimed at distinct instants, even when the
		// clock's grain is coarser than the ledger's microsecond (Windows).
		tick := t.clock.Now().Truncate(time.Microsecond)
		if last := t.manual[j]; !tick.After(last) {
			tick = last.Add(time.Microsecond)
		}
		t.manual[j] = tick
		r := Run{Job: j.Name, Tick: tick, Manual: true}
		granted, err := t.claim(runs, []Claim{{Job: j.Name + ManualRecordSuffix, Tick: r.Tick}})
		if err == nil && !granted[0] {
			err = fmt.Errorf("solocron: the ledger refused a manual run of %q at %v", j.Name, r.Tick)
		}
		if err != nil {
			j.release()
			result <- err
			return
		}
		r.Term = t.lease.Term()
		t.publish([]*runContext{{Context: runs, run: r, j: j, result: result}})
	})
	if err != nil {
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
