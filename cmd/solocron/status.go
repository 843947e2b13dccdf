package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/solocron/solocron"
)

const statusUsage = `usage: solocron status [--json] [--grace D] <store>

Shows who leads (pid, host, since when, term, application) or that nobody
leads, and each job as the ledger tells it: the last tick claimed, the last
run that finished (its tick, duration and outcome: ok or its error; manual
and requested runs included), the next tick, whether it is paused, whether a
requested run is pending, and whether it is overdue: its next tick fell due
more than the grace ago and was not claimed.

  --json     print JSON: snake_case fields, times in RFC 3339, durations as
             text and in milliseconds (see README.md)
  --grace D  how late a tick may be claimed before the job counts as overdue
             (default 1m, solocron.DefaultOverdueGrace)

` + storeUsage + `
Exit status: 0 when a process leads and no job is overdue; 1 when nobody
leads or a job is overdue; 2 usage error; 3 when the store cannot be reached
or read.
`

// snapshot is what status shows.
type snapshot struct {
	Store     string
	CheckedAt time.Time
	Grace     time.Duration
	Leader    *solocron.Holder // nil when nobody leads
	Jobs      []job
}

// problems lists why the snapshot is unhealthy; none when it is healthy.
func (s *snapshot) problems() []string {
	var out []string
	if s.Leader == nil {
		out = append(out, "nobody leads")
	}
	for _, j := range s.Jobs {
		if j.Overdue {
			out = append(out, fmt.Sprintf("%s is overdue: its tick at %s was not claimed within %v", j.Name, clock(j.Next), s.Grace))
		}
	}
	return out
}

func cmdStatus(ctx context.Context, o *output, args []string) error {
	f := newFlags("status", statusUsage)
	asJSON := f.Bool("json", false, "")
	grace := f.Duration("grace", solocron.DefaultOverdueGrace, "")
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	if *grace < 0 {
		return f.usageErr(fmt.Errorf("--grace must not be negative, got %v", *grace))
	}
	st, err := f.open()
	if err != nil {
		return err
	}
	defer st.close()
	snap, err := read(ctx, st, o.now(), *grace)
	if err != nil {
		return unreachable(err)
	}
	if *asJSON {
		err = writeJSON(o.out, snap)
	} else {
		err = writeText(o.out, snap)
	}
	if err != nil {
		return err
	}
	if len(snap.problems()) > 0 {
		return problem(nil)
	}
	return nil
}

// read asks the store who leads and reads the ledger.
func read(ctx context.Context, st *store, now time.Time, grace time.Duration) (*snapshot, error) {
	snap := &snapshot{Store: st.String(), CheckedAt: now, Grace: grace}
	leader, err := holder(ctx, st)
	if err != nil {
		return nil, err
	}
	snap.Leader = leader
	recs, err := observe(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("reading the ledger of %s: %w", st, err)
	}
	snap.Jobs = jobsOf(recs, now, grace)
	return snap, nil
}

// holder returns the leader, or nil when nobody leads.
func holder(ctx context.Context, st *store) (*solocron.Holder, error) {
	ctx, cancel := st.call(ctx)
	defer cancel()
	h, err := st.Holder(ctx)
	switch {
	case errors.Is(err, solocron.ErrNoHolder):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("asking %s who leads: %w", st, err)
	}
	return &h, nil
}

// observe reads every record of the ledger.
func observe(ctx context.Context, st *store) (map[string]solocron.Record, error) {
	ctx, cancel := st.call(ctx)
	defer cancel()
	return st.Observe(ctx)
}

// writeText prints the snapshot for people: the leader, then a table of
// the jobs, then the problems, if any.
func writeText(w io.Writer, s *snapshot) error {
	fmt.Fprintf(w, "store:   %s\n", s.Store)
	if h := s.Leader; h != nil {
		fmt.Fprintf(w, "leader:  pid %d on %s, term %d, since %s (%s ago), app %s\n",
			h.PID, h.Hostname, h.Term, clock(h.Since), ago(s.CheckedAt.Sub(h.Since)), orDash(h.App))
	} else {
		fmt.Fprintln(w, "leader:  nobody leads")
	}
	fmt.Fprintln(w)
	if len(s.Jobs) == 0 {
		fmt.Fprintln(w, "No jobs in the ledger: no process of this application has led yet, or the store flags name another application.")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tSTATE\tCLAIMED\tFINISHED\tTOOK\tNEXT\tOUTCOME")
		for _, j := range s.Jobs {
			took, outcome := "-", "-"
			if !j.Finished.IsZero() {
				took, outcome = duration(j.Duration), "ok"
				if j.Error != "" {
					outcome = "error: " + oneLine(j.Error)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Name, state(j), clock(j.Claimed), clock(j.Finished), took, clock(j.Next), outcome)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if p := s.problems(); len(p) > 0 {
		fmt.Fprintln(w)
		for _, line := range p {
			fmt.Fprintf(w, "problem: %s\n", line)
		}
	}
	return nil
}

// state sums a job up in a word or a few.
func state(j job) string {
	var words []string
	if j.Overdue {
		words = append(words, "OVERDUE")
	}
	if j.Paused {
		words = append(words, "paused")
	}
	if !j.Requested.IsZero() {
		words = append(words, "run-pending")
	}
	if len(words) == 0 {
		return "ok"
	}
	return strings.Join(words, ",")
}

// clock shows a time to the second in the local zone; "-" for never.
func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

// duration rounds d for reading: to the millisecond, or the microsecond
// below one.
func duration(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

// ago rounds an elapsed time to the second.
func ago(d time.Duration) string { return max(d, 0).Round(time.Second).String() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a stored error text, whoever wrote it, on one table row.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
