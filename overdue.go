package solocron

import "time"

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
