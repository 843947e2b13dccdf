package solocron

import (
	"context"
	"time"
)

// DefaultOverdueGrace is Options.OverdueGrace's default.
const DefaultOverdueGrace = time.Minute

// Overdue reports whether the record shows the job overdue at now: its
// next tick (Next) fell due more than grace ago and was not claimed, and
// the job is not paused. It is what a program that does not know the
// job's schedule can tell (the solocron command); a Scheduler, which
// knows it, also counts a job overdue whose record is missing or claimed
// far ahead.
func (r Record) Overdue(now time.Time, grace time.Duration) bool {
	return !r.Paused && !r.Next.IsZero() && r.Claimed.Before(r.Next) && now.Sub(r.Next) > grace
}

// overdueTick returns j's tick that is overdue at now, given its ledger
// record (found reports whether there is one), or the zero time. A job
// is overdue when the tick after its last claim fell due more than grace
// ago, or when its record lies far ahead of now (every tick is refused
// until it is repaired). A job with no record counts from since, when
// this process started. A paused job is never overdue.
func (j *job) overdueTick(rec Record, found bool, since, now time.Time, grace time.Duration) time.Time {
	if rec.Paused {
		return time.Time{}
	}
	base := since
	if found && !rec.Claimed.IsZero() {
		if claimedAhead(j.sched, rec.Claimed, now) {
			// Every tick is refused: the latest one that fell due is.
			far := now.Add(-maxProbe)
			return latestTick(j.sched, far, far, now)
		}
		base = rec.Claimed
	}
	if base.IsZero() {
		return time.Time{} // not started, and no record
	}
	if next := j.sched.Next(base); !next.IsZero() && now.Sub(next) > grace {
		return next
	}
	return time.Time{}
}

// checkOverdue reads the ledger and reports the jobs that became overdue,
// or recovered, since the last check.
func (s *Scheduler) checkOverdue(ctx context.Context) {
	recs, err := s.observe(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.health.failed(err, time.Now())
			s.report.log.Warn("solocron: reading the ledger for the overdue check failed", "err", err)
		}
		return
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	jobs := append([]*job(nil), s.order...)
	since := s.startedAt
	s.mu.Unlock()
	for _, j := range jobs {
		rec, found := recs[j.Name]
		due := j.overdueTick(rec, found, since, now, s.opts.OverdueGrace)
		if prev := j.swapOverdue(due); prev.Equal(due) || (!prev.IsZero() && !due.IsZero()) {
			continue // no change; an overdue job stays one event until it recovers
		}
		s.report.overdue(OverdueEvent{Job: j.Name, Due: due, Claimed: rec.Claimed, At: now}, s.opts.OverdueGrace)
	}
}
