// Package firing measures what a scheduler costs per job firing: CPU,
// allocations and lateness, with N jobs each firing every second, for
// solocron, robfig/cron and gocron, each in its own child process.
package firing

import (
	"sync/atomic"
	"time"
)

// recorder counts firings and their lateness during the measured window.
// It is called from every job, so it neither allocates nor locks: the
// same few instructions are paid by every library.
type recorder struct {
	measuring atomic.Bool
	next      atomic.Int64    // firings counted
	written   atomic.Int64    // of them, those whose sample is written
	lateness  []time.Duration // preallocated; firings past its end are counted, not sampled
}

func newRecorder(capacity int) *recorder {
	return &recorder{lateness: make([]time.Duration, capacity)}
}

// fired records one firing meant for tick intended.
func (r *recorder) fired(intended time.Time) {
	now := time.Now()
	if !r.measuring.Load() {
		return
	}
	i := r.next.Add(1) - 1
	if i < int64(len(r.lateness)) {
		r.lateness[i] = now.Sub(intended)
	}
	r.written.Add(1)
}

// firings returns the count and the lateness samples, once measuring has
// ended and the firings that were counted have written their sample (a
// firing can pass the measuring check just before it ends).
func (r *recorder) firings() (int64, []time.Duration) {
	n := r.next.Load()
	for deadline := time.Now().Add(time.Second); r.written.Load() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	return n, r.lateness[:min(n, int64(len(r.lateness)))]
}
