package main

import (
	"slices"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

// job is one job as the ledger tells it.
type job struct {
	Name string
	solocron.JobLedger
	Overdue bool // Next fell due more than the grace ago, unclaimed
}

// jobsOf returns the jobs the records tell of, by name, as a Scheduler's
// Status shows them (solocron.LedgerJobs).
func jobsOf(recs map[string]solocron.Record, now time.Time, grace time.Duration) []job {
	views := solocron.LedgerJobs(recs)
	jobs := make([]job, 0, len(views))
	for name, l := range views {
		jobs = append(jobs, job{Name: name, JobLedger: l, Overdue: recs[name].Overdue(now, grace)})
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
