package solocron

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// A ledger record claimed far ahead of now (a corrupt record, a leader
// whose clock stepped forward and back) makes the ledger refuse every
// tick of the job up to it. A term that finds one schedules the job from
// now anyway, so that each refused tick is reported (SkipLedgerAhead, at
// ERROR) rather than silently waited for, and ResetJob repairs it.

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

// resetJob sets j's record to now, through the serve goroutine, if it is
// still ahead of now.
func (t *term) resetJob(ctx context.Context, j *job) error {
	result := make(chan error, 1)
	if err := t.submit(ctx, func(runs context.Context) { result <- t.resetLocked(runs, j) }); err != nil {
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resetLocked runs on the serve goroutine, which owns the schedule.
func (t *term) resetLocked(runs context.Context, j *job) error {
	now := t.clock.Now()
	var rec Record
	var found bool
	err := t.withLedger(runs, func(ctx context.Context) error {
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
	if err := t.withLedger(runs, func(ctx context.Context) error { return t.lease.Reset(ctx, j.Name, tick) }); err != nil {
		return err
	}
	j.clearAhead()
	t.report.log.Warn("solocron: job's ledger record reset", "job", j.Name, "was_claimed", rec.Claimed, "now", tick)
	return nil
}
