package main

import (
	"slices"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

// The ledger keeps the claims of a job's manual runs (Scheduler.RunNow)
// and requested runs (RequestRun, solocron run) apart from its ticks,
// under the job's name and one of these suffixes. Job names hold no
// control character, so they cannot collide.
const (
	manualSuffix  = "\x1fmanual"
	requestSuffix = "\x1frequest"
)

// job is one job as the ledger tells it.
type job struct {
	Name    string
	Claimed time.Time // the last tick claimed
	Next    time.Time // the next tick, as the leader last recorded it

	// The last run that finished, of its ticks, manual or requested runs.
	Finished time.Time
	Duration time.Duration
	Error    string

	Paused    bool
	Requested time.Time // a requested run not started yet; zero when none
	Overdue   bool      // Next fell due more than the grace ago, unclaimed
}

// jobsOf returns the jobs the records tell of, by name. The records of
// manual and requested runs are folded into their job's.
func jobsOf(recs map[string]solocron.Record, now time.Time, grace time.Duration) []job {
	names := map[string]bool{}
	for name := range recs {
		if b := base(name); b != "" {
			names[b] = true
		}
	}
	jobs := make([]job, 0, len(names))
	for name := range names {
		rec := recs[name]
		j := job{Name: name, Claimed: rec.Claimed, Next: rec.Next, Paused: rec.Paused,
			Finished: rec.Finished, Duration: rec.Duration, Error: rec.Error,
			Overdue: rec.Overdue(now, grace)}
		for _, suffix := range []string{manualSuffix, requestSuffix} {
			if r := recs[name+suffix]; r.Finished.After(j.Finished) {
				j.Finished, j.Duration, j.Error = r.Finished, r.Duration, r.Error
			}
		}
		if rec.Requested.After(recs[name+requestSuffix].Claimed) {
			j.Requested = rec.Requested
		}
		jobs = append(jobs, j)
	}
	slices.SortFunc(jobs, func(a, b job) int { return strings.Compare(a.Name, b.Name) })
	return jobs
}

// displayName shows a record's name: a job's, or its manual or requested
// runs'.
func displayName(record string) string {
	base, suffix, found := strings.Cut(record, "\x1f")
	if !found {
		return record
	}
	switch "\x1f" + suffix {
	case manualSuffix:
		return base + " (manual runs)"
	case requestSuffix:
		return base + " (requested runs)"
	}
	return strings.ReplaceAll(record, "\x1f", "/")
}
