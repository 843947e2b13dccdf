package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
)

// The unfenced reads and writes any process makes, leader or not, and a
// program that runs no Scheduler: one statement each, on the spare
// connection. A table or schema that does not exist reads as empty (as in
// Holder; the next campaign creates it); a write of control state creates
// the control table if it is missing.

// missingTable reports an error of a statement on a table or schema that
// does not exist.
func missingTable(err error) bool {
	code := pgCode(err)
	return code == "42P01" || code == "3F000" // undefined_table, invalid_schema_name
}

// Observe returns every record of the App's ledger, merged with every
// job's control state, in one round trip. The ledger's term marker is
// left out; the core's own pseudo-records (names holding \x1f) are not.
func (e *Elector) Observe(ctx context.Context) (map[string]solocron.Record, error) {
	out := map[string]solocron.Record{}
	err := e.unfenced(ctx, true, func(ctx context.Context, c *pgx.Conn) error {
		clear(out)
		err := e.observeInto(ctx, c, e.sql.observe, out)
		if code := pgCode(err); !missingTable(err) && code != "42703" { // undefined_column: a ledger not upgraded yet
			return err
		}
		// A table is missing or older: read each one that exists.
		clear(out)
		for _, q := range []string{e.sql.observeLedger, e.sql.observeControl} {
			if err := e.observeInto(ctx, c, q, out); err != nil && !missingTable(err) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, e.ctxErr(ctx, "observe", err)
	}
	return out, nil
}

// observeInto adds the rows of an observe statement to out: a job's
// ledger part and its control part may come in rows of their own.
func (e *Elector) observeInto(ctx context.Context, c *pgx.Conn, q string, out map[string]solocron.Record) error {
	rs, err := c.Query(ctx, q, e.opt.App)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var job string
		var row ledgerRow
		var ctl controlRow
		if err := rs.Scan(&job, &row.claimed, &row.completed, &row.finished, &row.durationUs, &row.error,
			&row.next, &ctl.paused, &ctl.requested); err != nil {
			return err
		}
		r, seen := out[job]
		if !seen || row.claimed != nil {
			control := r.Control
			r = row.record()
			r.Control = control
		}
		if ctl != (controlRow{}) {
			r.Control = ctl.control()
		}
		out[job] = r
	}
	return rs.Err()
}

// controlRow is a control row as scanned.
type controlRow struct {
	paused    bool
	requested *time.Time
}

func (r controlRow) control() solocron.Control {
	c := solocron.Control{Paused: r.paused}
	if r.requested != nil {
		c.Requested = r.requested.UTC()
	}
	return c
}

// Control returns the jobs that are paused or have a run requested. The
// leader calls it every second: one indexed read on the kept connection.
func (e *Elector) Control(ctx context.Context) (map[string]solocron.Control, error) {
	out := map[string]solocron.Control{}
	err := e.unfenced(ctx, true, func(ctx context.Context, c *pgx.Conn) error {
		clear(out)
		rs, err := c.Query(ctx, e.sql.control, e.opt.App)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var job string
			var r controlRow
			if err := rs.Scan(&job, &r.paused, &r.requested); err != nil {
				return err
			}
			out[job] = r.control()
		}
		return rs.Err()
	})
	if missingTable(err) {
		return map[string]solocron.Control{}, nil
	}
	if err != nil {
		return nil, e.ctxErr(ctx, "control", err)
	}
	return out, nil
}

// SetPaused sets or clears the job's paused flag.
func (e *Elector) SetPaused(ctx context.Context, job string, paused bool) error {
	op := fmt.Sprintf("pausing job %q", job)
	if !paused {
		op = fmt.Sprintf("resuming job %q", job)
	}
	return e.writeControl(ctx, op, job, true, e.sql.setPaused, paused)
}

// RequestRun sets the job's requested run to the server's clock, or 1µs
// past the previous request. It is not retried once the server may have
// run it: a request made twice would run the job twice.
func (e *Elector) RequestRun(ctx context.Context, job string) error {
	return e.writeControl(ctx, fmt.Sprintf("requesting a run of job %q", job), job, false, e.sql.requestRun)
}

// writeControl runs a write of the job's control row, creating the
// control table first if it is missing.
func (e *Elector) writeControl(ctx context.Context, op, job string, idempotent bool, q string, args ...any) error {
	if err := checkJobName(job); err != nil {
		return e.wrap(op, err)
	}
	args = append([]any{e.opt.App, job}, args...)
	err := e.unfenced(ctx, idempotent, func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, q, args...)
		if !missingTable(err) {
			return err
		}
		if err := ensureControl(ctx, c, e.t); err != nil {
			return fmt.Errorf("creating the control table %s: %w", e.t.controlName, err)
		}
		_, err = c.Exec(ctx, q, args...)
		return err
	})
	if err != nil {
		return e.ctxErr(ctx, op, err)
	}
	return nil
}

// checkJobName refuses what no job can be named, before a round trip: the
// server refuses NUL and invalid UTF-8 less clearly, and the ledger's term
// marker is reserved.
func checkJobName(job string) error {
	switch {
	case job == "":
		return errors.New("the job name is empty")
	case !utf8.ValidString(job) || strings.ContainsRune(job, 0):
		return fmt.Errorf("job name %q is not valid UTF-8 without NUL", job)
	case job == markerName:
		return fmt.Errorf("job name %q is reserved for the ledger's term marker", job)
	}
	return nil
}
