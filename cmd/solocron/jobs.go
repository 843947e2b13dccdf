package main

import (
	"slices"
	"strings"
	"time"

	"github.com/solocron/solocron"
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

// jobsOf returns the jobs the records tell of, by name, as a Scheduler's
// Status shows them (solocron.LedgerJobs).
func jobsOf(recs map[string]solocron.Record, now time.Time, grace time.Duration) []job {
	views := solocron.LedgerJobs(recs)
	jobs := make([]job, 0, len(views))
	for name, l := range views {
		jobs = append(jobs, job{Name: name, Claimed: l.Claimed, Next: l.Next, Paused: l.Paused,
			Finished: l.Finished, Duration: l.Duration, Error: l.Error, Requested: l.Requested,
			Overdue: recs[name].Overdue(now, grace)})
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
	case solocron.ManualRecordSuffix:
		return base + " (manual runs)"
	case solocron.RequestRecordSuffix:
		return base + " (requested runs)"
	}
	return strings.ReplaceAll(record, "\x1f", "/")
}
