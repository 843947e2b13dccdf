package solocron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
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
	s         *Scheduler
	lease     Lease
	candidate Candidate // this process as it won the term
	since     time.Time
	ctx       context.Context // the parent of every run's ctx
	cancel    context.CancelFunc
	stale     error // the lease's LedgerStale: the ledger's records are not trusted

	ledger sync.Mutex // one ledger call at a time
	due    due
	known  map[*job]bool

	mu      sync.Mutex
	closing bool
	runs    sync.WaitGroup
	runners *runners

	starts  []pending // fire's batch, reused from tick to tick
	decided []Claim   // fire's skipped ticks, to record; likewise
	claims  []Claim   // claimAndLaunch's, likewise
}

func newTerm(s *Scheduler, lease Lease, c Candidate) *term {
	ctx, cancel := context.WithCancel(context.Background())
	t := &term{s: s, lease: lease, candidate: c, since: s.opts.Clock.Now(), ctx: ctx, cancel: cancel, known: make(map[*job]bool)}
	t.stale = lease.LedgerStale()
	t.runners = newRunners(t.runTask)
	// Lost leadership cancels the runs at once, whatever the term loop is
	// doing (it may be waiting on the ledger): a lease closes Lost by its
	// own local deadline, before another process can lead.
	go func() {
		select {
		case <-lease.Lost():
			cancel()
		case <-ctx.Done():
		}
	}()
	return t
}

// serve dispatches ticks until leadership is lost (it returns why) or Stop
// is called (it returns nil). It calls ready once the ledger is read.
func (t *term) serve(ready func()) error {
	if t.stale != nil {
		t.s.log.Error("solocron: the ledger is stale: it is older than the last term the elector knows of "+
			"(restored from a backup, moved away and back, replaced or deleted); its records are ignored, "+
			"so every job starts afresh and no missed tick is run; check who else can write where the ledger lives",
			"elector", t.s.elector.String(), "term", t.lease.Term(), "err", t.stale)
	}
	clock := t.s.opts.Clock
	if err := t.admit(clock.Now()); err != nil {
		return fmt.Errorf("solocron: starting the term: %w", err)
	}
	ready()
	// The timer is made once there is a tick to wait for: a fake clock's
	// test must not see this term waiting before it has read the ledger.
	var timer Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var fired <-chan time.Time
		switch e := t.due.peek(); {
		case e != nil && timer == nil:
			timer = clock.NewTimer(e.next.Sub(clock.Now()))
		case e != nil:
			timer.Reset(e.next.Sub(clock.Now()))
		case timer != nil:
			timer.Stop()
		}
		if timer != nil {
			fired = timer.C()
		}
		select {
		case <-fired:
			if err := t.fire(clock.Now()); err != nil {
				return err
			}
		case <-t.s.added:
			if err := t.admit(clock.Now()); err != nil {
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
	if t.stale == nil {
		err := t.withLedger(func(ctx context.Context) (err error) {
			recs, err = t.lease.Records(ctx, names)
			return err
		})
		if err != nil {
			return fmt.Errorf("reading the ledger: %w", err)
		}
	}

	base := now.Truncate(time.Microsecond)
	var baselines []Claim
	var starts []pending
	for _, j := range fresh {
		rec, ok := recs[j.Name]
		if ok && claimedAhead(j.sched, rec.Claimed, now) {
			// Every tick up to that claim would be refused: schedule the
			// job from now, so that each refusal is reported, not silent.
			j.setAhead(rec.Claimed)
			t.s.log.Error("solocron: the ledger holds a claim of this job far ahead of now, so its ticks are refused until then; "+
				"check the clock of the host that led, and repair with Scheduler.ResetJob", "job", j.Name, "claimed", rec.Claimed)
			t.due.add(j, j.sched.Next(now))
			continue
		}
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
	starts, decided := t.starts[:0], t.decided[:0]
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
			decided = j.decide(decided, r)
		case !j.enqueue(r):
			t.skip(j, r, SkipQueue)
			decided = j.decide(decided, r)
		}
	}
	t.starts, t.decided = starts[:0], decided[:0]
	if err := t.claimAndLaunch(starts); err != nil {
		return err
	}
	if len(decided) > 0 {
		// Recorded, so that no later leader runs a skipped tick as missed.
		return t.claimAndComplete(decided)
	}
	return nil
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
			j.clearAhead()
			t.launch(j, r, nil)
		default:
			t.skip(j, r, j.refusal())
			t.launchQueued(j)
		}
	}
	// A ledger that failed after retries cannot hold this term's claims:
	// the term ends (the Scheduler steps down, or campaigns again).
	return err
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
		j.started(rc.run)
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
			t.skip(j, r, j.refusal())
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
	level := slog.LevelWarn
	if why == SkipLedgerAhead {
		level = slog.LevelError
	}
	t.s.log.Log(context.Background(), level, "solocron: tick skipped", "job", r.Job, "tick", r.Tick, "reason", string(why))
	hook(t.s, t.s.opts.Hooks.OnJobSkip, JobEvent{Run: r, Reason: why})
}

// runNow claims a manual run of j and waits for it within ctx.
func (t *term) runNow(ctx context.Context, j *job) error {
	if !j.reserve() {
		return fmt.Errorf("%w: %q", ErrJobRunning, j.Name)
	}
	r := Run{Job: j.Name, Tick: t.s.opts.Clock.Now().Truncate(time.Microsecond), Manual: true}
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

// reportAbandoned reports the runs of this term that still run after
// their ctx was cancelled, when leadership is about to be released.
func (t *term) reportAbandoned(why string) {
	t.s.mu.Lock()
	jobs := append([]*job(nil), t.s.order...)
	t.s.mu.Unlock()
	for _, j := range jobs {
		r, ok := j.inflight()
		if !ok || r.Term != t.lease.Term() {
			continue
		}
		t.s.log.Error("solocron: job still running after its ctx was cancelled; leadership is released anyway, "+
			"so the next leader's run may overlap it (make the job return when its ctx ends)",
			"job", r.Job, "tick", r.Tick, "term", r.Term, "why", why)
		hook(t.s, t.s.opts.Hooks.OnJobAbandoned, JobEvent{Run: r})
	}
}

// resetJob repairs a job whose ledger record lies far ahead of now.
func (t *term) resetJob(j *job) error {
	now := t.s.opts.Clock.Now()
	var rec Record
	var found bool
	err := t.withLedger(func(ctx context.Context) error {
		recs, err := t.lease.Records(ctx, []string{j.Name})
		rec, found = recs[j.Name]
		return err
	})
	if err != nil {
		return err
	}
	if !found || !claimedAhead(j.sched, rec.Claimed, now) {
		return fmt.Errorf("%w: %q: its record (claimed %v) is not ahead of now; nothing to repair", ErrNotAhead, j.Name, rec.Claimed)
	}
	tick := now.Truncate(time.Microsecond)
	if err := t.withLedger(func(ctx context.Context) error { return t.lease.Reset(ctx, j.Name, tick) }); err != nil {
		return err
	}
	j.clearAhead()
	t.s.log.Warn("solocron: job's ledger record reset", "job", j.Name, "was_claimed", rec.Claimed, "now", tick)
	return nil
}

// claimedAhead reports whether a claimed tick lies beyond the schedule's
// tick after next: further than clock skew between hosts can explain.
func claimedAhead(s cron.Schedule, claimed, now time.Time) bool {
	next := s.Next(now)
	if next.IsZero() {
		return false
	}
	after := s.Next(next)
	return !after.IsZero() && claimed.After(after)
}
