package solocron

import (
	"context"
	"time"
)

const (
	// controlInterval is how often the leader reads the jobs' control
	// state (pause, requested runs) written by other processes.
	controlInterval = time.Second
	// requestExpiry drops a requested run that could not start for that
	// long (the job kept running, or the request sat in a ledger while
	// nobody led): a request is for now, not for whenever.
	requestExpiry = 10 * time.Minute
)

// controller reads the jobs' control state; Elector implements it.
type controller interface {
	Control(ctx context.Context) (map[string]Control, error)
}

// readControl reads the jobs' control state, bounded like a ledger call.
func (t *term) readControl(runs context.Context) (map[string]Control, error) {
	ctx, cancel := context.WithTimeout(runs, ledgerTimeout)
	defer cancel()
	return t.control.Control(ctx)
}

// setPaused notes j's paused flag, and the set of paused jobs that steer
// watches for a resume.
func (t *term) setPaused(j *job, paused bool) {
	j.paused.Store(paused)
	if paused {
		t.paused[j] = true
	} else {
		delete(t.paused, j)
	}
}

// pollControl reads the control state every controlInterval, and at
// once when steerSoon holds a token, and hands it to serve: a slow store
// delays the reaction to a pause, never a tick. It returns when the term
// ends.
func (t *term) pollControl(runs context.Context) {
	poll := time.NewTicker(controlInterval)
	defer poll.Stop()
	failing := false
	for {
		select {
		case <-poll.C:
		case <-t.steerSoon:
		case <-t.ended:
			return
		case <-runs.Done():
			return
		}
		ctl, err := t.readControl(runs)
		if err != nil {
			if runs.Err() == nil && !failing {
				t.report.log.Warn("solocron: reading the jobs' control state failed; pauses and requested runs wait", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			t.report.log.Info("solocron: reading the jobs' control state works again")
			failing = false
		}
		select {
		case t.controls <- ctl:
		case <-t.ended:
			return
		case <-runs.Done():
			return
		}
	}
}

// steer applies the control state other processes wrote: it pauses and
// resumes jobs and starts requested runs.
func (t *term) steer(runs context.Context, ctl map[string]Control) error {
	var resumed []*job
	for j := range t.paused {
		if !ctl[j.Name].Paused {
			t.setPaused(j, false)
			t.report.log.Info("solocron: job resumed", "job", j.Name)
			resumed = append(resumed, j)
		}
	}
	now := t.clock.Now()
	for name, c := range ctl {
		j := t.byName[name]
		if j == nil || j.removed.Load() {
			continue
		}
		if c.Paused && !j.paused.Load() {
			t.setPaused(j, true)
			t.report.log.Info("solocron: job paused", "job", j.Name)
		}
		if !c.Requested.IsZero() && c.Requested.After(t.requested[j]) {
			if err := t.startRequested(runs, j, c.Requested, now); err != nil {
				return err
			}
		}
	}
	if len(resumed) > 0 {
		return t.resume(runs, now, resumed)
	}
	return nil
}

// startRequested starts a run requested at the instant at, claimed in the
// ledger under the job's request record so that it runs once whichever
// leader sees it. A job that is running keeps its request for a later
// poll.
func (t *term) startRequested(runs context.Context, j *job, at, now time.Time) error {
	if now.Sub(at) > requestExpiry {
		// Recorded as decided, so that the ledger no longer shows it
		// pending and no later leader considers it.
		t.requested[j] = at
		t.report.log.Warn("solocron: a requested run was dropped: it could not start in time", "job", j.Name, "requested", at, "expiry", requestExpiry)
		return t.claimAndComplete(runs, []Claim{{Job: j.Name + RequestRecordSuffix, Tick: at}})
	}
	if !j.reserve() {
		return nil
	}
	granted, err := t.claim(runs, []Claim{{Job: j.Name + RequestRecordSuffix, Tick: at}})
	if err != nil {
		j.release()
		return err
	}
	t.requested[j] = at
	if !granted[0] { // run by an earlier leader
		j.release()
		return nil
	}
	t.report.log.Info("solocron: running a requested run", "job", j.Name, "requested", at)
	r := Run{Job: j.Name, Tick: at, Term: t.lease.Term(), Manual: true, Requested: true}
	t.publish([]*runContext{{Context: runs, run: r, j: j}})
	return nil
}
