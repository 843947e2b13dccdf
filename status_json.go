package solocron

import (
	"encoding/json"
	"time"
)

// Status encodes to JSON for dashboards and monitoring checks: roles by
// name, errors as their text, durations as Go duration text and in
// milliseconds, times in RFC 3339 (omitted when zero).

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

type holderJSON struct {
	PID      int        `json:"pid,omitempty"`
	Hostname string     `json:"hostname,omitempty"`
	Since    *time.Time `json:"since,omitempty"`
	Term     uint64     `json:"term,omitempty"`
	App      string     `json:"app,omitempty"`
	Jobs     string     `json:"jobs_digest,omitempty"`
}

type healthJSON struct {
	ElectorErr string     `json:"elector_error,omitempty"`
	ErrorSince *time.Time `json:"error_since,omitempty"`
	LastOK     *time.Time `json:"last_ok,omitempty"`
}

type jobJSON struct {
	Name           string     `json:"name"`
	Spec           string     `json:"spec"`
	Next           *time.Time `json:"next,omitempty"`
	LastTick       *time.Time `json:"last_tick,omitempty"`
	LastDuration   string     `json:"last_duration,omitempty"`
	LastDurationMS float64    `json:"last_duration_ms,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	Running        bool       `json:"running"`
	Runs           uint64     `json:"runs"`
	Errors         uint64     `json:"errors"`
	Skips          uint64     `json:"skips"`
	LedgerAhead    *time.Time `json:"ledger_ahead,omitempty"`
	Overdue        *time.Time `json:"overdue,omitempty"`
	Ledger         ledgerJSON `json:"ledger"`
}

type ledgerJSON struct {
	Claimed    *time.Time `json:"claimed,omitempty"`
	Next       *time.Time `json:"next,omitempty"`
	Finished   *time.Time `json:"finished,omitempty"`
	Duration   string     `json:"duration,omitempty"`
	DurationMS float64    `json:"duration_ms,omitempty"`
	Outcome    string     `json:"outcome,omitempty"` // "ok" or the error, once a run finished
	Paused     bool       `json:"paused"`
	Requested  *time.Time `json:"requested,omitempty"`
}

// MarshalJSON encodes the status as described above.
func (s Status) MarshalJSON() ([]byte, error) {
	out := struct {
		Role      Role        `json:"role"`
		Elector   string      `json:"elector"`
		Holder    *holderJSON `json:"holder,omitempty"`
		HolderErr string      `json:"holder_error,omitempty"`
		Mismatch  string      `json:"mismatch,omitempty"`
		Health    healthJSON  `json:"health"`
		LedgerErr string      `json:"ledger_error,omitempty"`
		Jobs      []JobStatus `json:"jobs"`
	}{Role: s.Role, Elector: s.Elector, HolderErr: errText(s.HolderErr), Mismatch: s.Mismatch, Jobs: s.Jobs, LedgerErr: errText(s.LedgerErr),
		Health: healthJSON{ElectorErr: errText(s.Health.ElectorErr), ErrorSince: timeOrNil(s.Health.ErrorSince), LastOK: timeOrNil(s.Health.LastOK)}}
	if h := s.Holder; h.Term != 0 {
		out.Holder = &holderJSON{PID: h.PID, Hostname: h.Hostname, Since: timeOrNil(h.Since), Term: h.Term, App: h.App, Jobs: h.Jobs}
	}
	if out.Jobs == nil {
		out.Jobs = []JobStatus{}
	}
	return json.Marshal(out)
}

// MarshalJSON encodes the job's status as described above.
func (j JobStatus) MarshalJSON() ([]byte, error) {
	out := jobJSON{
		Name: j.Name, Spec: j.Spec, Next: timeOrNil(j.Next), LastTick: timeOrNil(j.LastTick),
		LastError: errText(j.LastError), Running: j.Running, Runs: j.Runs, Errors: j.Errors, Skips: j.Skips,
		LedgerAhead: timeOrNil(j.LedgerAhead), Overdue: timeOrNil(j.Overdue),
	}
	out.LastDuration, out.LastDurationMS = durationJSON(j.LastDuration)
	l := j.Ledger
	out.Ledger = ledgerJSON{Claimed: timeOrNil(l.Claimed), Next: timeOrNil(l.Next), Finished: timeOrNil(l.Finished),
		Paused: l.Paused, Requested: timeOrNil(l.Requested)}
	out.Ledger.Duration, out.Ledger.DurationMS = durationJSON(l.Duration)
	if !l.Finished.IsZero() {
		out.Ledger.Outcome = "ok"
		if l.Error != "" {
			out.Ledger.Outcome = l.Error
		}
	}
	return json.Marshal(out)
}

// durationJSON is d as Go duration text and in milliseconds; empty when
// zero.
func durationJSON(d time.Duration) (string, float64) {
	if d <= 0 {
		return "", 0
	}
	return d.String(), float64(d) / float64(time.Millisecond)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
