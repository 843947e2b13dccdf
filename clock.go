package solocron

import "time"

// Clock is where a Scheduler reads the time its ticks are computed from
// and waits for the next one: real time by default. solocrontest.Clock is
// one a test advances by hand, to run a schedule through a DST change or
// a takeover without waiting. Lease timing (renewals, deadlines) and run
// durations always use real time.
type Clock interface {
	Now() time.Time
	// NewTimer returns a stopped-or-running timer like time.NewTimer's,
	// firing once d has passed on this clock.
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's timer.
type Timer interface {
	C() <-chan time.Time
	// Reset makes the timer fire once d has passed from now; like
	// time.Timer's since Go 1.23, no stale value is received after it.
	Reset(d time.Duration)
	Stop()
}

// realClock is the system's clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }
