// Package solocron is a cron scheduler for programs that run as several
// processes (a prefork server, several instances under a supervisor, several
// replicas): every process creates the same Scheduler in main(), one of them
// leads, and each job runs exactly once per scheduled tick across all of
// them, also across the leader's crash, restart or Stop.
//
// Leadership comes from an Elector: by default an exclusive file lock shared
// by the processes of one host; the postgres and redis modules provide
// electors for several hosts. The leader claims every tick in a ledger kept
// by the elector before running it, so a tick is never run twice, and a new
// leader runs the ticks that fell due while nobody led (see Misfire).
package solocron

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

var (
	// ErrStopped is returned by Add and Start once Stop has been called.
	ErrStopped = errors.New("solocron: scheduler stopped")
	// ErrDuplicateJob is returned by Add for a name already registered.
	ErrDuplicateJob = errors.New("solocron: duplicate job name")
	// ErrUnknownJob is returned by RunNow for a name never registered.
	ErrUnknownJob = errors.New("solocron: unknown job")
	// ErrJobRunning is returned by RunNow while the job runs.
	ErrJobRunning = errors.New("solocron: job is running")
	// ErrNotAhead is returned by ResetJob for a job whose ledger record
	// needs no repair.
	ErrNotAhead = errors.New("solocron: the job's ledger record is not ahead of now")
)

const (
	// releaseTimeout bounds giving leadership up at Stop, even past Stop's
	// deadline: a standby must not wait for a lease to expire.
	releaseTimeout = 2 * time.Second
	// lostRunsGrace bounds the wait for runs cancelled by lost leadership.
	lostRunsGrace = time.Second
	// abandonGrace is how long Stop waits, past its deadline, for the
	// runs it cancelled to return before it reports them abandoned.
	abandonGrace = 100 * time.Millisecond
)

type lifecycle int

const (
	created lifecycle = iota
	started
	stopped
)

// Scheduler runs jobs on cron schedules while this process leads.
// Its methods are safe for concurrent use.
type Scheduler struct {
	opts      Options
	elector   Elector
	parser    cron.Parser
	report    *reporter
	candidate Candidate
	health    health

	mu          sync.Mutex
	state       lifecycle
	jobs        map[string]*job
	order       []*job // registration order, for Status
	added       uint32 // jobs registered so far, to number them
	current     *term  // non-nil while leading
	endCampaign context.CancelFunc
	startedAt   time.Time     // when Start was called: jobs with no record count from it (overdue)
	handoff     chan *office  // from the contend goroutine to Stop: the term in office at Stop, or nil
	stopped     chan struct{} // closed when Stop has finished
	warned      string        // the last Mismatch logged
}

// office is a term with what its end needs: the lease to release and the
// cancel of its runs' context.
type office struct {
	t          *term
	cancelRuns context.CancelFunc
	announced  bool
}

// New returns a Scheduler. It validates opts and, without Options.Elector,
// creates the lock file, so that a bad path fails here and not later.
func New(opts Options) (*Scheduler, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	elector := opts.Elector
	if elector == nil {
		fl, err := NewFileLock(FileLockOptions{Path: opts.LockPath, Sync: opts.SyncLedger, App: opts.App})
		if err != nil {
			return nil, err
		}
		elector = fl
	}
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "unknown"
	}
	return &Scheduler{
		opts:      opts,
		elector:   elector,
		parser:    opts.parser(),
		report:    newReporter(opts.Logger, elector.String(), opts.Hooks),
		candidate: Candidate{PID: os.Getpid(), Hostname: hostname, App: opts.App},
		jobs:      make(map[string]*job),
		handoff:   make(chan *office, 1),
		stopped:   make(chan struct{}),
	}, nil
}

// Add registers a job. It may be called before or after Start; a job added
// while this process leads is scheduled at once. A job that fails
// validation is not registered, and the jobs already registered are kept.
func (s *Scheduler) Add(j Job) error {
	sched, err := j.validate(s.parser, s.opts.Location, s.opts.MisfireGrace)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stopped {
		return fmt.Errorf("%w: cannot add job %q", ErrStopped, j.Name)
	}
	if _, dup := s.jobs[j.Name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateJob, j.Name)
	}
	s.added++
	nj := &job{Job: j, sched: sched, fn: chain(j.Run, s.opts.Middleware), shard: s.added}
	s.jobs[j.Name] = nj
	s.order = append(s.order, nj)
	if s.current != nil {
		s.current.inbox.put(nj)
	}
	return nil
}

// Start begins contending for leadership in the background and returns at
// once. Call it in every process.
func (s *Scheduler) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case started:
		return errors.New("solocron: Start called twice")
	case stopped:
		return ErrStopped
	}
	s.state = started
	s.startedAt = s.opts.Clock.Now()
	campaign, end := context.WithCancel(context.Background())
	s.endCampaign = end
	s.report.log.Info("solocron: started", "pid", s.candidate.PID, "app", s.candidate.App, "jobs", len(s.jobs))
	go s.contend(campaign)
	go s.checkElector(campaign)
	return nil
}

// StartContext is Start for programs that would rather fail at startup
// than stand by in silence: it first asks the elector who leads, within
// ctx, and returns the error (without starting) when the elector cannot
// be reached (a database down, a wrong URL, a lock directory gone).
func (s *Scheduler) StartContext(ctx context.Context) error {
	if _, err := s.probe(ctx); err != nil && !errors.Is(err, ErrNoHolder) {
		return fmt.Errorf("solocron: the elector cannot be reached (%s): %w", s.elector.String(), err)
	}
	return s.Start()
}

// Remove unregisters a job: no tick of it starts any more on this process;
// a run in progress finishes. Every process should remove it (deploy the
// change), or a leader that still has it runs it. Changing a job's spec
// is removing it and adding it again; its ledger record is kept, so the
// job added again under the same name goes on from its last tick.
func (s *Scheduler) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[name]
	if j == nil {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	j.removed.Store(true)
	delete(s.jobs, name)
	s.order = slices.DeleteFunc(s.order, func(o *job) bool { return o == j })
	return nil
}

// candidateNow is this process as it campaigns: its identity and a digest
// of the jobs registered so far.
func (s *Scheduler) candidateNow() Candidate {
	s.mu.Lock()
	names := make([]string, len(s.order))
	for i, j := range s.order {
		names[i] = j.Name
	}
	s.mu.Unlock()
	c := s.candidate
	c.Jobs = jobsDigest(names)
	return c
}

// leaderCheckDelay gives a new cluster's leader time to take office before
// a standby first compares itself with it.
const leaderCheckDelay = 2 * time.Second

// checkElector asks the elector who leads a moment after Start, then every
// Options.CheckInterval: it keeps Health current on a standby that would
// otherwise only wait, and logs a standby of another application (or with
// another set of jobs) even if nobody asks for Status. From the second
// check on it also reads the ledger for the overdue alarm: a moment after
// Start, a job overdue by more than a grace is still overdue at the next
// check, and the first one stays cheap.
func (s *Scheduler) checkElector(ctx context.Context) {
	wait := leaderCheckDelay
	for first := true; ; first = false {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = s.opts.CheckInterval
		s.probe(ctx)
		if !first {
			s.checkOverdue(ctx)
		}
	}
}

// probe asks the elector who leads, noting the answer in Health.
func (s *Scheduler) probe(ctx context.Context) (Holder, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	h, err := s.elector.Holder(ctx)
	switch {
	case err == nil:
		s.health.ok(time.Now())
		s.noteMismatch(s.mismatch(h))
	case errors.Is(err, ErrNoHolder):
		s.health.ok(time.Now())
	case ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.health.failed(err, time.Now())
	}
	return h, err
}

// probeTimeout bounds one check of the elector.
const probeTimeout = 5 * time.Second

// mismatch describes how the leader h differs from this process, or "".
func (s *Scheduler) mismatch(h Holder) string {
	own := s.candidateNow()
	switch {
	case h.App != "" && h.App != own.App:
		return fmt.Sprintf("the leader (pid %d on %s) is application %q, this process is %q: do they share a lock or an App name by mistake?",
			h.PID, h.Hostname, h.App, own.App)
	case h.Jobs != "" && h.Jobs != own.Jobs:
		return fmt.Sprintf("the leader (pid %d on %s) registered another set of jobs than this process (digest %s, here %s): a rollout in progress, or a job missing on one side",
			h.PID, h.Hostname, h.Jobs, own.Jobs)
	}
	return ""
}

// noteMismatch logs a mismatch once.
func (s *Scheduler) noteMismatch(m string) {
	s.mu.Lock()
	fresh := m != "" && m != s.warned
	if fresh {
		s.warned = m
	}
	s.mu.Unlock()
	if fresh {
		s.report.log.Warn("solocron: this process differs from the leader", "mismatch", m)
	}
}

// Stop stops the Scheduler the way http.Server.Shutdown does: it starts no
// more runs, waits for the running ones until ctx ends, then cancels their
// contexts, gives leadership up (so a standby takes over at once) and
// returns. It returns ctx's error if runs were still going at the deadline.
// Stop waits in the caller's goroutine. It is safe to call more than once
// (later calls wait for the first) and before Start.
//
// A job that ignores its ctx keeps running after Stop returns, and
// leadership is released meanwhile: the next leader's run of that job may
// overlap it. Stop reports such runs: an ERROR log naming them and
// Hooks.OnJobAbandoned, once each.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	switch s.state {
	case created:
		s.state = stopped
		close(s.stopped)
		s.mu.Unlock()
		return nil
	case stopped:
		s.mu.Unlock()
		<-s.stopped
		return nil
	}
	s.state = stopped
	s.mu.Unlock()
	defer close(s.stopped)
	s.endCampaign()
	o := <-s.handoff
	var err error
	if o != nil {
		err = s.resign(ctx, o)
	}
	s.report.log.Info("solocron: stopped")
	return err
}

// resign ends the term in office at Stop: it waits for the runs until
// ctx ends, cancels them, reports those that ignore it, and releases.
func (s *Scheduler) resign(ctx context.Context, o *office) error {
	t := o.t
	var err error
	if !t.wait(ctx) {
		err = ctx.Err()
		s.report.log.Warn("solocron: Stop deadline reached; cancelling running jobs", "err", err)
		o.cancelRuns()
		grace, cancel := context.WithTimeout(context.Background(), abandonGrace)
		if !t.wait(grace) {
			t.reportAbandoned("Stop's deadline passed")
		}
		cancel()
	}
	o.cancelRuns()
	s.flushOutcomes(t)
	s.release(t.lease)
	s.mu.Lock()
	s.current = nil
	s.mu.Unlock()
	if o.announced {
		s.report.ended(LeadershipEvent{Term: t.lease.Term(), Elector: s.elector.String(), At: time.Now()}, true, nil)
	}
	return err
}

// flushOutcomes writes the outcomes of the term's last runs before it is
// released (the next leader reads them), bounded like the release.
func (s *Scheduler) flushOutcomes(t *term) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	t.flushOutcomes(ctx, nil)
}

// release gives leadership up, bounded even past Stop's deadline: a
// standby must not wait for a lease to expire.
func (s *Scheduler) release(lease Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := lease.Release(ctx); err != nil {
		s.report.log.Warn("solocron: releasing leadership failed", "term", lease.Term(), "err", err)
	}
}

// contend campaigns for leadership, leads, and campaigns again when
// leadership is lost, until Stop ends campaign; it then hands the term in
// office, if any, to Stop. An elector or a ledger that keeps failing is
// retried with a growing pause.
func (s *Scheduler) contend(campaign context.Context) {
	retry := backoff{base: s.opts.RetryInterval, limit: s.opts.MaxRetryInterval}
	for {
		c := s.candidateNow()
		lease, err := s.elector.Campaign(campaign, c)
		if err == nil {
			s.health.ok(time.Now())
			var o *office
			if o, err = s.lead(campaign, lease, c); o != nil {
				s.handoff <- o
				return
			}
			if err == nil {
				retry.reset()
				continue
			}
		} else if campaign.Err() != nil {
			s.handoff <- nil
			return
		}
		s.health.failed(err, time.Now())
		pause := retry.next()
		s.report.log.Error("solocron: cannot lead; retrying", "err", err, "retry_in", pause)
		select {
		case <-campaign.Done():
			s.handoff <- nil
			return
		case <-time.After(pause):
		}
	}
}

// lead serves one term. When Stop ended the campaign it returns the term,
// still in office, for Stop to end. Otherwise it ends the term itself and
// returns failed when the ledger could not be read or written (rather
// than because leadership was lost): the process then steps down, so that
// a leader never leads in silence on a ledger that cannot hold its claims.
func (s *Scheduler) lead(campaign context.Context, lease Lease, c Candidate) (stopping *office, failed error) {
	s.mu.Lock()
	t := newTerm(lease, c, s.order, s.opts.Clock, s.report, &s.health, s.elector)
	s.current = t
	s.mu.Unlock()

	runs, cancelRuns := context.WithCancel(context.Background())
	// Lost leadership cancels the runs at once, whatever the term is
	// doing (it may be waiting on the ledger): a lease closes Lost by its
	// own local deadline, before another process can lead.
	go func() {
		select {
		case <-lease.Lost():
			cancelRuns()
		case <-runs.Done():
		}
	}()
	o := &office{t: t, cancelRuns: cancelRuns}
	go t.recordOutcomes(runs)
	endErr := t.serve(campaign, runs, func() {
		// Leading is announced once the ledger is read and ticks can be
		// claimed, not when the lock is taken.
		o.announced = true
		s.report.leading(lease.Term(), time.Now(), s.elector.String())
	})
	t.close()
	if campaign.Err() != nil && endErr == nil {
		return o, nil
	}
	lost := endErr != nil && (isClosed(lease.Lost()) || errors.Is(endErr, ErrNotLeader))
	if !lost {
		failed = endErr
	}
	cancelRuns() // leadership is gone: runs must stop at once
	// Give the cancelled runs a moment to return, so that a term this
	// process may win next does not find its jobs still running.
	grace, cancel := context.WithTimeout(context.Background(), lostRunsGrace)
	if !t.wait(grace) {
		t.reportAbandoned("leadership was lost")
	}
	cancel()
	s.release(lease)
	s.mu.Lock()
	s.current = nil
	s.mu.Unlock()
	if !o.announced {
		if failed == nil {
			s.report.log.Warn("solocron: could not start leading", "term", lease.Term(), "err", endErr)
		}
		return nil, failed
	}
	s.report.ended(LeadershipEvent{Term: lease.Term(), Elector: s.elector.String(), At: time.Now(), Err: endErr}, false, failed)
	return nil, failed
}

// isClosed reports whether c is closed, without waiting.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// RunNow runs a job once, now, on the leader: the run is claimed in the
// ledger like a tick (so it happens once even if RunNow is retried on
// another process after this one died), and its ctx carries Run.Manual.
// RunNow waits for the run to finish and returns its error, or returns
// ctx's error if ctx ends first (the run goes on). On a standby it returns
// ErrNotLeader.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	s.mu.Lock()
	j, t := s.jobs[name], s.current
	s.mu.Unlock()
	if j == nil {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	if t == nil {
		return ErrNotLeader
	}
	return t.runNow(ctx, j)
}

// ResetJob repairs a job whose ledger record lies far ahead of now (a
// corrupt record, or a leader whose clock stepped forward and back): such
// a record makes the ledger refuse every tick up to it, which Status shows
// as JobStatus.LedgerAhead and each refused tick reports as
// SkipLedgerAhead at ERROR level. ResetJob sets the record to now, so that
// the job's next tick runs. It refuses (ErrNotAhead) a record that is not
// ahead, since moving a claim back could run a tick twice. It works on the
// leader only; elsewhere it returns ErrNotLeader.
func (s *Scheduler) ResetJob(ctx context.Context, name string) error {
	s.mu.Lock()
	j, t := s.jobs[name], s.current
	s.mu.Unlock()
	if j == nil {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	if t == nil {
		return ErrNotLeader
	}
	return t.resetJob(ctx, j)
}

// Status reports this process's role, the current leader and the jobs.
// On a standby it asks the elector who leads, within ctx.
func (s *Scheduler) Status(ctx context.Context) Status {
	s.mu.Lock()
	st := Status{Role: Stopped, Elector: s.elector.String()}
	if s.state == started {
		st.Role = Standby
	}
	t := s.current
	jobs := append([]*job(nil), s.order...)
	since := s.startedAt
	s.mu.Unlock()

	if t != nil {
		st.Role = Leader
		c := t.candidate
		st.Holder = Holder{PID: c.PID, Hostname: c.Hostname, Since: t.since, Term: t.lease.Term(), App: c.App, Jobs: c.Jobs}
	} else {
		st.Holder, st.HolderErr = s.probe(ctx)
		if st.HolderErr == nil {
			st.Mismatch = s.mismatch(st.Holder)
		}
	}
	st.Health = s.health.get()
	now := s.opts.Clock.Now()
	var recs map[string]Record
	recs, st.LedgerErr = s.observe(ctx)
	for _, j := range jobs {
		js := j.status(now)
		if st.LedgerErr == nil {
			rec, found := recs[j.Name]
			js.Ledger = jobLedger(j.Name, recs)
			js.Overdue = j.overdueTick(rec, found, since, now, s.opts.OverdueGrace)
		}
		st.Jobs = append(st.Jobs, js)
	}
	return st
}

// observe reads the ledger, bounded like a check of the elector.
func (s *Scheduler) observe(ctx context.Context) (map[string]Record, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return s.elector.Observe(ctx)
}
