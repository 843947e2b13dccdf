package main

import (
	"encoding/json"
	"io"
	"time"
)

// The JSON of status --json. Every field is always present, null when it
// has no value, so that a script can rely on the shape; times are in UTC.

type statusJSON struct {
	Store     string      `json:"store"`
	CheckedAt time.Time   `json:"checked_at"`
	Healthy   bool        `json:"healthy"`
	Problems  []string    `json:"problems"`
	Grace     string      `json:"grace"`
	GraceMS   float64     `json:"grace_ms"`
	Leader    *leaderJSON `json:"leader"`
	Jobs      []jobJSON   `json:"jobs"`
}

type leaderJSON struct {
	PID        int       `json:"pid"`
	Hostname   string    `json:"hostname"`
	Since      time.Time `json:"since"`
	Term       uint64    `json:"term"`
	App        string    `json:"app"`
	JobsDigest string    `json:"jobs_digest"`
}

type jobJSON struct {
	Name       string     `json:"name"`
	Claimed    *time.Time `json:"claimed"`
	Finished   *time.Time `json:"finished"`
	Duration   *string    `json:"duration"`
	DurationMS *float64   `json:"duration_ms"`
	Outcome    *string    `json:"outcome"` // "ok" or the error
	Next       *time.Time `json:"next"`
	Paused     bool       `json:"paused"`
	Requested  *time.Time `json:"run_requested"` // a requested run not started yet
	Overdue    bool       `json:"overdue"`
}

func writeJSON(w io.Writer, s *snapshot) error {
	out := statusJSON{
		Store: s.Store, CheckedAt: s.CheckedAt.UTC(), Problems: s.problems(),
		Grace: s.Grace.String(), GraceMS: ms(s.Grace), Jobs: []jobJSON{},
	}
	out.Healthy = len(out.Problems) == 0
	if out.Problems == nil {
		out.Problems = []string{}
	}
	if h := s.Leader; h != nil {
		out.Leader = &leaderJSON{PID: h.PID, Hostname: h.Hostname, Since: h.Since.UTC(), Term: h.Term, App: h.App, JobsDigest: h.Jobs}
	}
	for _, j := range s.Jobs {
		jj := jobJSON{Name: j.Name, Claimed: utc(j.Claimed), Finished: utc(j.Finished), Next: utc(j.Next),
			Paused: j.Paused, Requested: utc(j.Requested), Overdue: j.Overdue}
		if !j.Finished.IsZero() {
			text, millis, outcome := j.Duration.String(), ms(j.Duration), "ok"
			if j.Error != "" {
				outcome = j.Error
			}
			jj.Duration, jj.DurationMS, jj.Outcome = &text, &millis, &outcome
		}
		out.Jobs = append(out.Jobs, jj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// utc is t in UTC, or nil for never.
func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
