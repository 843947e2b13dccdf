package solocron

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

const (
	// claimAttempts and claimBackoff retry a ledger that failed briefly
	// (not one that says this process no longer leads).
	claimAttempts = 3
	claimBackoff  = 100 * time.Millisecond
	ledgerTimeout = 10 * time.Second
	// claimChunk bounds the claims of one ledger call, so that the first
	// runs of a large tick start before its last ones are claimed.
	claimChunk = 1024
)

// term is one term of leadership: the jobs' schedule, the lease that
// fences every claim, and the runs started under it. It knows nothing of
// the Scheduler: it is built from its lease, its jobs, a clock and a
// reporter, and later jobs and requests reach it by channel. The serve
// goroutine owns the schedule; the ledger is shared with the workers
// (queued ticks, completions) under ledgerMu.
type term struct {
	lease     Lease
	candidate Candidate // this process as it won the term
	clock     Clock
	report    *reporter
	health    *health // the Scheduler's: a claim that worked is an answer
	since     time.Time
	stale     error // the lease's LedgerStale: the ledger's records are not trusted

	inbox    *inbox                     // jobs added while leading
	requests chan func(context.Context) // RunNow and ResetJob, run by serve
	manual   map[*job]time.Time         // RunNow's last claimed instant per job, owned by serve
	ended    chan struct{}              // closed when serve returns
	outcomes *outcomes                  // how runs ended, for the ledger

	// The jobs' control state (term_control.go), owned by serve.
	control   controller
	steerSoon chan struct{}           // a token asks pollControl to read it now
	controls  chan map[string]Control // from pollControl to serve
	byName    map[string]*job         // the known jobs by name
	paused    map[*job]bool           // the paused ones
	requested map[*job]time.Time      // the last requested run handled

	ledgerMu sync.Mutex // one ledger call at a time
	due      due
	known    map[*job]bool
	dispatch *dispatcher
	slab     runSlab   // serve's runContexts
	starts   []pending // fire's batch, reused from tick to tick
	skips    []skipped // fire's skipped ticks, to record; likewise
	decided  []Claim   // their claims, likewise
	claims   []Claim   // claimAndLaunch's, likewise
	batch    []*runContext
}

func newTerm(lease Lease, c Candidate, jobs []*job, clock Clock, report *reporter, h *health, ctl controller) *term {
	t := &term{
		lease: lease, candidate: c, clock: clock, report: report, health: h,
		since: clock.Now(), stale: lease.LedgerStale(),
		inbox: newInbox(jobs), requests: make(chan func(context.Context)), ended: make(chan struct{}),
		outcomes: newOutcomes(),
		control:  ctl, steerSoon: make(chan struct{}, 1), controls: make(chan map[string]Control),
		byName: make(map[string]*job), paused: make(map[*job]bool), requested: make(map[*job]time.Time), manual: make(map[*job]time.Time),
		known: make(map[*job]bool),
	}
	t.dispatch = newDispatcher(t.run)
	return t
}

// serve dispatches ticks until stop ends (it returns nil) or leadership is
// lost or the ledger fails (it returns why). runs is the parent of every
// run's ctx: the caller cancels it when leadership is lost, and at the end
// of Stop. serve calls ready once the ledger is read.
func (t *term) serve(stop, runs context.Context, ready func()) error {
	defer close(t.ended)
	if t.stale != nil {
		t.report.log.Error("solocron: the ledger is stale: it is older than the last term the elector knows of "+
			"(restored from a backup, moved away and back, replaced or deleted); its records are ignored, "+
			"so every job starts afresh and no missed tick is run; check who else can write where the ledger lives",
			"term", t.lease.Term(), "err", t.stale)
	}
	if err := t.admit(runs, t.clock.Now()); err != nil {
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
	go t.pollControl(runs)
	for {
		var fired <-chan time.Time
		switch b := t.due.peek(); {
		case b != nil && timer == nil:
			timer = t.clock.NewTimer(b.next.Sub(t.clock.Now()))
		case b != nil:
			timer.Reset(b.next.Sub(t.clock.Now()))
		case timer != nil:
			timer.Stop()
		}
		if timer != nil {
			fired = timer.C()
		}
		var err error
		select {
		case <-fired:
			err = t.fire(runs, t.clock.Now())
		case <-t.inbox.ready:
			err = t.admit(runs, t.clock.Now())
		case req := <-t.requests:
			req(runs)
		case ctl := <-t.controls:
			err = t.steer(runs, ctl)
		case <-t.lease.Lost():
			return t.lease.Err()
		case <-stop.Done():
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// admit schedules the jobs this term does not know yet: it reads their
// ledger records and control state and starts what the misfire policies
// owe.
func (t *term) admit(runs context.Context, now time.Time) error {
	var fresh []*job
	for _, j := range t.inbox.take() {
		if !t.known[j] && !j.removed.Load() {
			t.known[j] = true
			t.byName[j.Name] = j
			fresh = append(fresh, j)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	ctl, err := t.readControl(runs)
	if err != nil {
		return fmt.Errorf("reading the jobs' control state: %w", err)
	}
	for _, j := range fresh {
		t.setPaused(j, ctl[j.Name].Paused)
	}
	var recs map[string]Record
	if t.stale == nil {
		if recs, err = t.records(runs, fresh); err != nil {
			return err
		}
	}
	return t.plan(runs, now, fresh, recs, true)
}

// resume plans what jobs resumed after a pause owe, by their misfire
// policy, as for the jobs of a new term; they are scheduled already.
func (t *term) resume(runs context.Context, now time.Time, resumed []*job) error {
	recs, err := t.records(runs, resumed)
	if err != nil {
		return err
	}
	return t.plan(runs, now, resumed, recs, false)
}

// records reads the jobs' ledger records.
func (t *term) records(runs context.Context, jobs []*job) (recs map[string]Record, err error) {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Name
	}
	err = t.withLedger(runs, func(ctx context.Context) (err error) {
		recs, err = t.lease.Records(ctx, names)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the ledger: %w", err)
	}
	return recs, nil
}

// plan starts what the jobs' misfire policies owe, given their records,
// and records what they decided not to run, so that the ledger shows
// each job up to date (the overdue check reads it). With schedule, the
// jobs are added to the schedule too.
func (t *term) plan(runs context.Context, now time.Time, jobs []*job, recs map[string]Record, schedule bool) error {
	base := now.Truncate(time.Microsecond)
	var decided []Claim
	var starts []pending
	for _, j := range jobs {
		rec, ok := recs[j.Name]
		next := j.sched.Next(now)
		switch {
		case ok && claimedAhead(j.sched, rec.Claimed, now):
			// Every tick up to that claim would be refused: schedule the
			// job from now, so that each refusal is reported, not silent.
			j.setAhead(rec.Claimed)
			t.report.log.Error("solocron: the ledger holds a claim of this job far ahead of now, so its ticks are refused until then; "+
				"check the clock of the host that led, and repair with Scheduler.ResetJob", "job", j.Name, "claimed", rec.Claimed)
		case !ok:
			// A job new to the ledger owes nothing before now; the baseline
			// claim makes sure a leader that dies before the job's first
			// tick does not leave its successor without a record.
			decided = append(decided, Claim{Job: j.Name, Tick: base})
		case j.paused.Load():
			// A paused job's record stays as it is: what it owes is
			// decided when it is resumed.
		default:
			plan := planCatchUp(j, rec.Claimed, rec.Completed, now)
			next = plan.next
			for _, r := range plan.skipped {
				t.skip(j, r, SkipMisfire)
			}
			switch {
			case len(plan.runs) == 0 && len(plan.skipped) > 0:
				// Passed over: the latest missed tick is recorded as
				// decided, so the ledger shows the job up to date.
				decided = append(decided, Claim{Job: j.Name, Tick: latestTick(j.sched, rec.Claimed, rec.Claimed, now)})
			case len(plan.runs) == 0:
			case !j.reserve():
				for _, r := range plan.runs {
					t.skip(j, r, SkipOverlap)
				}
			default:
				starts = append(starts, pending{j: j, r: plan.runs[0]})
				j.queueCatchUp(plan.runs[1:])
			}
		}
		if schedule {
			t.due.add(j, next)
		}
	}
	if len(decided) > 0 {
		if err := t.claimAndComplete(runs, decided); err != nil {
			return err
		}
	}
	return t.claimAndLaunch(runs, starts)
}

// claimAndComplete records ticks as decided without running them: claimed
// and completed at once (baselines, skipped ticks).
func (t *term) claimAndComplete(runs context.Context, claims []Claim) error {
	if _, err := t.claim(runs, claims); err != nil {
		return err
	}
	done := make([]Outcome, len(claims))
	for i, c := range claims {
		done[i] = Outcome{Job: c.Job, Tick: c.Tick}
		if j := t.byName[c.Job]; j != nil {
			done[i].Next = j.sched.Next(c.Tick)
		}
	}
	return t.withLedger(runs, func(ctx context.Context) error { return t.lease.Complete(ctx, done) })
}

// fire runs every job due at or before now, a bucket of jobs at a time.
func (t *term) fire(runs context.Context, now time.Time) error {
	starts, skips := t.starts[:0], t.skips[:0]
	term := t.lease.Term()
	for b := t.due.peek(); b != nil && !b.next.After(now); b = t.due.peek() {
		t.due.pop()
		if b.jobs = slices.DeleteFunc(b.jobs, func(j *job) bool { return j.removed.Load() }); len(b.jobs) == 0 {
			continue
		}
		tick, next := b.next, b.sched.Next(b.next)
		for !next.IsZero() && !next.After(now) {
			// This leader fell behind (a long pause): run the latest tick only.
			for _, j := range b.jobs {
				t.skip(j, Run{Job: j.Name, Tick: tick, Term: term}, SkipLate)
			}
			tick, next = next, b.sched.Next(next)
		}
		for _, j := range b.jobs {
			r := Run{Job: j.Name, Tick: tick, Term: term}
			switch {
			case j.paused.Load():
				skips = append(skips, skipped{j, r, SkipPaused})
			case j.reserve():
				starts = append(starts, pending{j: j, r: r, next: next})
			case j.Overlap == OverlapSkip:
				skips = append(skips, skipped{j, r, SkipOverlap})
			case !j.enqueue(r):
				skips = append(skips, skipped{j, r, SkipQueue})
			}
		}
		t.due.move(b, next)
	}
	t.starts, t.skips = starts[:0], skips[:0]
	if err := t.claimAndLaunch(runs, starts); err != nil {
		return err
	}
	return t.recordSkips(runs, skips)
}

// skipped is a tick fire decided not to run.
type skipped struct {
	j   *job
	r   Run
	why SkipReason
}

// recordSkips records skipped ticks, so that no later leader runs them as
// missed, and then reports them: a hook that sees a skip can rely on the
// ledger holding it. AtLeastOnce jobs keep theirs unrecorded, owed.
func (t *term) recordSkips(runs context.Context, skips []skipped) error {
	if len(skips) == 0 {
		return nil
	}
	decided := t.decided[:0]
	for _, s := range skips {
		if s.why != SkipPaused { // a paused job's ticks are decided when it is resumed
			decided = s.j.decide(decided, s.r)
		}
	}
	t.decided = decided[:0]
	var err error
	if len(decided) > 0 {
		err = t.claimAndComplete(runs, decided)
	}
	for _, s := range skips {
		t.skip(s.j, s.r, s.why)
	}
	return err
}

// pending is a run whose job is reserved and whose tick is not claimed yet.
type pending struct {
	j    *job
	r    Run
	next time.Time // the job's tick after r's, when fire knows it (zero: unknown)
}

// claimAndLaunch claims the runs' ticks, a chunk per ledger call, and
// publishes each chunk's granted runs as soon as it is claimed. A ledger
// that failed after retries cannot hold this term's claims: the error
// ends the term (the Scheduler steps down, or campaigns again).
func (t *term) claimAndLaunch(runs context.Context, starts []pending) error {
	for len(starts) > 0 {
		chunk := starts[:min(len(starts), claimChunk)]
		starts = starts[len(chunk):]
		claims := t.claims[:0]
		for _, p := range chunk {
			claims = append(claims, Claim{Job: p.r.Job, Tick: p.r.Tick, Retry: p.r.Retry})
		}
		t.claims = claims[:0]
		granted, err := t.claim(runs, claims)
		batch := t.batch[:0]
		for i, p := range chunk {
			j, r := p.j, p.r
			switch {
			case err != nil:
				j.release()
				t.skip(j, r, SkipNoLeader)
			case granted[i]:
				r.Term = t.lease.Term()
				j.clearAhead()
				rc := t.slab.next(len(chunk))
				*rc = runContext{Context: runs, run: r, j: j, next: p.next}
				batch = append(batch, rc)
			default:
				t.skip(j, r, j.refusal())
				t.launchQueued(runs, j)
			}
		}
		t.publish(batch)
		clear(batch)
		t.batch = batch[:0]
		if err != nil {
			for _, p := range starts {
				p.j.release()
				t.skip(p.j, p.r, SkipNoLeader)
			}
			return err
		}
	}
	return nil
}

// publish hands runs to the workers; once the term is closing they are
// dropped, their ticks claimed and never run (the next leader runs an
// at-least-once job's again).
func (t *term) publish(batch []*runContext) {
	if !t.dispatch.publish(batch) {
		for _, rc := range batch {
			t.drop(rc)
		}
	}
}

func (t *term) drop(rc *runContext) {
	rc.j.release()
	if rc.result != nil {
		rc.result <- ErrNotLeader
	}
}

// claim claims ticks, retrying a ledger error that may pass.
func (t *term) claim(runs context.Context, claims []Claim) (granted []bool, err error) {
	for attempt := 1; ; attempt++ {
		err = t.withLedger(runs, func(ctx context.Context) (err error) {
			granted, err = t.lease.Claim(ctx, claims)
			return err
		})
		if err == nil && len(granted) != len(claims) {
			err = fmt.Errorf("solocron: the ledger answered %d claims with %d results", len(claims), len(granted))
		}
		if err == nil {
			t.health.ok(time.Now())
		}
		if err == nil || errors.Is(err, ErrNotLeader) || attempt == claimAttempts {
			if err != nil && !errors.Is(err, ErrNotLeader) {
				t.health.failed(err, time.Now())
			}
			if err != nil {
				t.report.log.Error("solocron: claiming ticks failed", "term", t.lease.Term(), "claims", len(claims), "err", err)
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

// withLedger makes one ledger call at a time, bounded by ledgerTimeout and
// by runs, which ends when leadership is lost.
func (t *term) withLedger(runs context.Context, call func(ctx context.Context) error) error {
	t.ledgerMu.Lock()
	defer t.ledgerMu.Unlock()
	ctx, cancel := context.WithTimeout(runs, ledgerTimeout)
	defer cancel()
	return call(ctx)
}

// skip reports a tick that is not run.
func (t *term) skip(j *job, r Run, why SkipReason) {
	j.skipped()
	t.report.skipped(r, why)
}

// submit hands req to the serve goroutine; it reports false once the
// term has ended or ctx ends first.
func (t *term) submit(ctx context.Context, req func(runs context.Context)) error {
	select {
	case t.requests <- req:
		return nil
	case <-t.ended:
		return ErrNotLeader
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the term from starting runs, so its runs can be waited for.
func (t *term) close() {
	for _, rc := range t.dispatch.close() {
		t.drop(rc)
	}
}

// wait waits for the term's runs until ctx ends; it reports whether they
// all returned.
func (t *term) wait(ctx context.Context) bool { return t.dispatch.wait(ctx) }

// reportAbandoned reports the runs of this term still going after their
// ctx was cancelled, when leadership is about to be released.
func (t *term) reportAbandoned(why string) {
	for j := range t.known {
		if r, ok := j.inflight(); ok && r.Term == t.lease.Term() {
			t.report.abandoned(r, why)
		}
	}
}
