package solocron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

const (
	// manualSuffix keys RunNow's claims apart from the job's ticks, so a
	// manual run never moves the job's schedule in the ledger. Job names
	// cannot hold control characters, so it cannot collide with one.
	manualSuffix = "\x1fmanual"
	// claimAttempts and claimBackoff retry a ledger that failed briefly
	// (not one that says this process no longer leads).
	claimAttempts = 3
	claimBackoff  = 100 * time.Millisecond
	ledgerTimeout = 10 * time.Second
)

// term is one term of leadership: the jobs' schedule, the lease that fences
// every claim, and the runs started under it.
type term struct {
	s      *Scheduler
	lease  Lease
	since  time.Time
	ctx    context.Context // the parent of every run's ctx
	cancel context.CancelFunc

	ledger sync.Mutex // one ledger call at a time
	due    due
	known  map[*job]bool

	mu      sync.Mutex
	closing bool
	runs    sync.WaitGroup
	runners *runners

	starts []pending // fire's batch, reused from tick to tick
	claims []Claim   // claimAndLaunch's, likewise
}

func newTerm(s *Scheduler, lease Lease) *term {
	ctx, cancel := context.WithCancel(context.Background())
	t := &term{s: s, lease: lease, since: time.Now(), ctx: ctx, cancel: cancel, known: make(map[*job]bool)}
	t.runners = newRunners(t.runTask)
	return t
}

// serve dispatches ticks until leadership is lost (it returns why) or Stop
// is called (it returns nil). It calls ready once the ledger is read.
func (t *term) serve(ready func()) error {
	if err := t.admit(time.Now()); err != nil {
		// A ledger that cannot be read is no ground to lead on; pause so a
		// broken ledger does not spin the campaign loop.
		select {
		case <-t.s.campaign.Done():
		case <-time.After(t.s.opts.RetryInterval):
		}
		return fmt.Errorf("solocron: starting the term: %w", err)
	}
	ready()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if e := t.due.peek(); e != nil {
			timer.Reset(time.Until(e.next))
		} else {
			timer.Stop()
		}
		select {
		case <-timer.C:
			if err := t.fire(time.Now()); err != nil {
				return err
			}
		case <-t.s.added:
			if err := t.admit(time.Now()); err != nil {
				return err
			}
		case <-t.lease.Lost():
			return t.lease.Err()
		case <-t.s.campaign.Done():
			return nil
		}
	}
}

// admit schedules the registered jobs this term does not know yet: it
// reads their ledger records and starts what the misfire policies owe.
func (t *term) admit(now time.Time) error {
	var fresh []*job
	var names []string
	t.s.mu.Lock()
	for _, j := range t.s.order {
		if !t.known[j] {
			t.known[j] = true
			fresh = append(fresh, j)
			names = append(names, j.Name)
		}
	}
	t.s.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	var recs map[string]Record
	err := t.withLedger(func(ctx context.Context) (err error) {
		recs, err = t.lease.Records(ctx, names)
		return err
	})
	if err != nil {
		return fmt.Errorf("reading the ledger: %w", err)
	}

	base := now.Truncate(time.Microsecond)
	var baselines []Claim
	var starts []pending
	for _, j := range fresh {
		rec, ok := recs[j.Name]
		if !ok {
			// A job new to the ledger owes nothing before now; the baseline
			// claim makes sure a leader that dies before the job's first
			// tick does not leave its successor without a record.
			baselines = append(baselines, Claim{Job: j.Name, Tick: base})
			t.due.add(j, j.sched.Next(now))
			continue
		}
		plan := planCatchUp(j, rec.Claimed, rec.Completed, now)
		t.due.add(j, plan.next)
		for _, r := range plan.skipped {
			t.skip(j, r, SkipMisfire)
		}
		if len(plan.runs) == 0 {
			continue
		}
		if !j.reserve() {
			for _, r := range plan.runs {
				t.skip(j, r, SkipOverlap)
			}
			continue
		}
		starts = append(starts, pending{j, plan.runs[0]})
		j.queueCatchUp(plan.runs[1:])
	}
	if len(baselines) > 0 {
		if err := t.claimAndComplete(baselines); err != nil {
			return err
		}
	}
	return t.claimAndLaunch(starts)
}

// claimAndComplete writes baseline records: claimed and completed at once.
func (t *term) claimAndComplete(claims []Claim) error {
	if _, err := t.claim(claims); err != nil {
		return err
	}
	return t.withLedger(func(ctx context.Context) error { return t.lease.Complete(ctx, claims) })
}

// fire runs every job due at or before now.
func (t *term) fire(now time.Time) error {
	starts := t.starts[:0]
	term := t.lease.Term()
	for e := t.due.peek(); e != nil && !e.next.After(now); e = t.due.peek() {
		j, tick := e.j, e.next
		next := j.sched.Next(tick)
		for !next.IsZero() && !next.After(now) {
			// This leader fell behind (a long pause): run the latest tick only.
			t.skip(j, Run{Job: j.Name, Tick: tick, Term: term}, SkipLate)
			tick, next = next, j.sched.Next(next)
		}
		t.due.advance(next)
		r := Run{Job: j.Name, Tick: tick, Term: term}
		switch {
		case j.reserve():
			starts = append(starts, pending{j, r})
		case j.Overlap == OverlapSkip:
			t.skip(j, r, SkipOverlap)
		case !j.enqueue(r):
			t.skip(j, r, SkipQueue)
		}
	}
	t.starts = starts[:0]
	return t.claimAndLaunch(starts)
}

// pending is a run whose job is reserved and whose tick is not claimed yet.
type pending struct {
	j *job
	r Run
}

// claimAndLaunch claims the runs' ticks in one ledger call and starts the
// granted runs.
func (t *term) claimAndLaunch(runs []pending) error {
	if len(runs) == 0 {
		return nil
	}
	claims := t.claims[:0]
	for _, p := range runs {
		claims = append(claims, Claim{Job: p.r.Job, Tick: p.r.Tick, Retry: p.r.Retry})
	}
	t.claims = claims[:0]
	t.runners.expect(len(runs))
	granted, err := t.claim(claims)
	for i, p := range runs {
		j, r := p.j, p.r
		switch {
		case err != nil:
			j.release()
			t.skip(j, r, SkipNoLeader)
		case granted[i]:
			r.Term = t.lease.Term()
			t.launch(j, r, nil)
		default:
			t.skip(j, r, SkipClaimed)
			t.launchQueued(j)
		}
	}
	if err != nil && errors.Is(err, ErrNotLeader) {
		return err
	}
	return nil
}

// claim claims ticks, retrying a ledger error that may pass.
func (t *term) claim(claims []Claim) (granted []bool, err error) {
	for attempt := 1; ; attempt++ {
		err = t.withLedger(func(ctx context.Context) (err error) {
			granted, err = t.lease.Claim(ctx, claims)
			return err
		})
		if err == nil && len(granted) != len(claims) {
			err = fmt.Errorf("solocron: the ledger answered %d claims with %d results", len(claims), len(granted))
		}
		if err == nil || errors.Is(err, ErrNotLeader) || attempt == claimAttempts {
			if err != nil {
				t.s.log.Error("solocron: claiming ticks failed", "elector", t.s.elector.String(), "term", t.lease.Term(), "claims", len(claims), "err", err)
			}
			return granted, err
		}
		select {
		case <-t.lease.Lost():
			return nil, t.lease.Err()
		case <-time.After(claimBackoff * time.Duration(attempt)):
		}
	}
}

func (t *term) withLedger(call func(ctx context.Context) error) error {
	t.ledger.Lock()
	defer t.ledger.Unlock()
	ctx, cancel := context.WithTimeout(t.ctx, ledgerTimeout)
	defer cancel()
	return call(ctx)
}

// launch runs r, then the job's queued ticks, on a runner of the term.
// result, when not nil, receives r's error.
func (t *term) launch(j *job, r Run, result chan<- error) bool {
	rc := &runContext{Context: t.ctx, run: r, j: j, result: result}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		j.release()
		return false
	}
	t.runs.Add(1)
	t.runners.start(rc)
	return true
}

// runTask runs rc, then the job's queued ticks.
func (t *term) runTask(rc *runContext) {
	defer t.runs.Done()
	j := rc.j
	for {
		d, err := t.execute(rc)
		// The figures first: hooks and RunNow's caller may read Status.
		r, ok := j.finished(rc.run.Tick, d, err)
		t.reportEnd(rc, d, err)
		if rc.result != nil {
			rc.result <- err
		}
		if r, ok = t.claimQueued(j, r, ok); !ok {
			return
		}
		rc = &runContext{Context: t.ctx, run: r, j: j}
	}
}

// launchQueued starts the job's queued ticks, if any.
func (t *term) launchQueued(j *job) {
	r, ok := j.dequeue()
	if r, ok = t.claimQueued(j, r, ok); ok {
		t.launch(j, r, nil)
	}
}

// claimQueued claims the job's next queued tick, given the first one
// dequeued; it marks the job idle when there is none, or when the term no
// longer starts runs.
func (t *term) claimQueued(j *job, r Run, ok bool) (Run, bool) {
	for ; ok; r, ok = j.dequeue() {
		if t.ctx.Err() != nil || t.s.campaign.Err() != nil {
			j.release()
			return Run{}, false
		}
		granted, err := t.claim([]Claim{{Job: r.Job, Tick: r.Tick, Retry: r.Retry}})
		switch {
		case err != nil:
			t.skip(j, r, SkipNoLeader)
			j.release()
			return Run{}, false
		case granted[0]:
			r.Term = t.lease.Term()
			return r, true
		default:
			t.skip(j, r, SkipClaimed)
		}
	}
	return Run{}, false
}

// execute runs one claimed tick and reports its start; its end is the
// caller's to record and report. Its own frame is kept small, the reporting in
// functions of their own: runners start on small stacks, and growing one on
// every run was a measurable share of a firing's cost.
func (t *term) execute(rc *runContext) (time.Duration, error) {
	j := rc.j
	if j.Timeout > 0 {
		return t.executeWithTimeout(rc)
	}
	t.reportStart(rc)
	begin := time.Now()
	err := j.call(rc)
	d := time.Since(begin)
	return d, err
}

func (t *term) executeWithTimeout(rc *runContext) (time.Duration, error) {
	j := rc.j
	ctx, cancel := context.WithTimeout(rc, j.Timeout)
	defer cancel()
	t.reportStart(rc)
	begin := time.Now()
	err := j.call(ctx)
	d := time.Since(begin)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && t.ctx.Err() == nil {
		err = fmt.Errorf("solocron: job %q timed out after %v: %w", j.Name, j.Timeout, err)
	}
	return d, err
}

func (t *term) reportStart(rc *runContext) {
	if h := t.s.opts.Hooks.OnJobStart; h != nil {
		hook(t.s, h, JobEvent{Run: rc.run})
	}
}

// reportEnd records an at-least-once job's completion, calls the hooks and
// logs a failure. Most runs have none of these to do: the test is kept
// apart from the work so that each run's stack stays small.
func (t *term) reportEnd(rc *runContext, d time.Duration, err error) {
	if err == nil && !rc.j.AtLeastOnce && t.s.opts.Hooks.OnJobFinish == nil &&
		!t.s.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	t.report(rc, d, err)
}

//go:noinline
func (t *term) report(rc *runContext, d time.Duration, err error) {
	s, j, r := t.s, rc.j, rc.run
	if j.AtLeastOnce && !r.Manual && t.ctx.Err() == nil {
		// A run cut short by lost leadership or Stop's deadline stays
		// unfinished in the ledger, so the next leader runs it again.
		done := []Claim{{Job: r.Job, Tick: r.Tick}}
		if cerr := t.withLedger(func(ctx context.Context) error { return t.lease.Complete(ctx, done) }); cerr != nil {
			s.log.Warn("solocron: recording completion failed", "job", j.Name, "tick", r.Tick, "err", cerr)
		}
	}
	ev := JobEvent{Run: r, Duration: d, Err: err}
	hook(s, s.opts.Hooks.OnJobFinish, ev)
	if err != nil {
		s.log.Error("solocron: job failed", "job", j.Name, "tick", r.Tick, "term", r.Term, "duration", d, "err", err)
		hook(s, s.opts.Hooks.OnJobError, ev)
	} else {
		s.log.Debug("solocron: job finished", "job", j.Name, "tick", r.Tick, "term", r.Term, "duration", d)
	}
}

// skip reports a tick that is not run.
func (t *term) skip(j *job, r Run, why SkipReason) {
	j.skipped()
	t.s.log.Warn("solocron: tick skipped", "job", r.Job, "tick", r.Tick, "reason", string(why))
	hook(t.s, t.s.opts.Hooks.OnJobSkip, JobEvent{Run: r, Reason: why})
}

// runNow claims a manual run of j and waits for it within ctx.
func (t *term) runNow(ctx context.Context, j *job) error {
	if !j.reserve() {
		return fmt.Errorf("%w: %q", ErrJobRunning, j.Name)
	}
	r := Run{Job: j.Name, Tick: time.Now().Truncate(time.Microsecond), Manual: true}
	granted, err := t.claim([]Claim{{Job: j.Name + manualSuffix, Tick: r.Tick}})
	if err == nil && !granted[0] {
		err = fmt.Errorf("solocron: the ledger refused a manual run of %q at %v", j.Name, r.Tick)
	}
	if err != nil {
		j.release()
		return err
	}
	r.Term = t.lease.Term()
	result := make(chan error, 1)
	if !t.launch(j, r, result) {
		return ErrNotLeader
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the term from starting runs, so its runs can be waited for.
func (t *term) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closing {
		t.closing = true
		t.runners.close()
	}
}

// wait waits for the term's runs until ctx ends; it reports whether they
// all returned.
func (t *term) wait(ctx context.Context) bool {
	done := make(chan struct{})
	go func() {
		t.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
