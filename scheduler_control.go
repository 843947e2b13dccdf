package solocron

import (
	"context"
	"fmt"
)

// Pause pauses a job across the cluster: the flag is written to the
// ledger, so it works on any process and outlives the leader. The leader
// skips the job's ticks (SkipPaused) from its next read of the flag,
// within about a second (at once on the leader itself); a run in progress
// finishes. The solocron command does the same: solocron pause JOB.
func (s *Scheduler) Pause(ctx context.Context, name string) error {
	return s.setPaused(ctx, name, true)
}

// Resume resumes a paused job. What the ticks missed while it was paused
// owe follows the job's misfire policy, as after a time with nobody
// leading: MisfireRunOnce runs the latest of them if it is within the
// grace window, MisfireRunAll runs them (at most MaxCatchUp), MisfireSkip
// runs none.
func (s *Scheduler) Resume(ctx context.Context, name string) error {
	return s.setPaused(ctx, name, false)
}

func (s *Scheduler) setPaused(ctx context.Context, name string, paused bool) error {
	if err := s.registered(name); err != nil {
		return err
	}
	if err := s.elector.SetPaused(ctx, name, paused); err != nil {
		return fmt.Errorf("solocron: setting %q paused=%v: %w", name, paused, err)
	}
	s.steerSoon()
	return nil
}

// RequestRun asks the leader, wherever it is, for a run of the job: the
// request is written to the ledger, and the leader starts it within
// about a second, claimed like a tick, so it runs once even when the
// leader changes meanwhile. A job that is running then runs when it
// ends; a request that cannot start within ten minutes is dropped with a
// warning. Unlike RunNow it does not wait for the run; the run's ctx
// carries Run.Requested. The solocron command does the same: solocron run
// JOB.
func (s *Scheduler) RequestRun(ctx context.Context, name string) error {
	if err := s.registered(name); err != nil {
		return err
	}
	if err := s.elector.RequestRun(ctx, name); err != nil {
		return fmt.Errorf("solocron: requesting a run of %q: %w", name, err)
	}
	s.steerSoon()
	return nil
}

// registered returns ErrUnknownJob for a name not registered here.
func (s *Scheduler) registered(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs[name] == nil {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	return nil
}

// steerSoon makes the term in office, if any, read the control state now
// rather than at its next poll.
func (s *Scheduler) steerSoon() {
	s.mu.Lock()
	t := s.current
	s.mu.Unlock()
	if t != nil {
		select {
		case t.steerSoon <- struct{}{}:
		default:
		}
	}
}
