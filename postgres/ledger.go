package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
)

// The ledger methods run on the lease's own session, one statement each,
// fenced by the term in that statement: a term that has ended claims
// nothing, even if this process has not noticed yet.

// Records returns the records of the named jobs.
func (l *lease) Records(ctx context.Context, jobs []string) (map[string]solocron.Record, error) {
	if err := l.current(); err != nil {
		return nil, err
	}
	out := make(map[string]solocron.Record, len(jobs))
	rows := 0
	err := l.run(ctx, func(ctx context.Context, c *pgx.Conn) error {
		rs, err := c.Query(ctx, l.e.sql.records, l.e.opt.App, int64(l.term), jobs)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			rows++
			var job *string
			var r ledgerRow
			if err := rs.Scan(&job, &r.claimed, &r.completed, &r.finished, &r.durationUs, &r.error, &r.next); err != nil {
				return err
			}
			if job == nil {
				continue
			}
			out[*job] = r.record()
		}
		return rs.Err()
	})
	if err != nil {
		return nil, l.fail(ctx, "records", err)
	}
	if rows == 0 {
		return nil, l.fenced()
	}
	return out, nil
}

// Claim claims ticks for several jobs in one round trip. A batch that
// names a job more than once (a catch-up of several missed ticks) is
// claimed in rounds, each naming a job once, in the order given; the
// rounds go in one pipeline, in one transaction.
func (l *lease) Claim(ctx context.Context, claims []solocron.Claim) ([]bool, error) {
	if err := l.current(); err != nil {
		return nil, err
	}
	rounds := claimRounds(claims)
	out := make([]bool, len(claims))
	current := true
	mark := l.unmarked.Load()
	err := l.run(ctx, func(ctx context.Context, c *pgx.Conn) error {
		b := &pgx.Batch{}
		for i, r := range rounds {
			jobs, ticks, retry := claimArgs(claims, r)
			b.Queue(l.e.sql.claim, l.e.opt.App, int64(l.term), jobs, ticks, retry, mark && i == 0)
		}
		br := c.SendBatch(ctx, b)
		for _, r := range rounds {
			var ok bool
			var granted []string
			if err := br.QueryRow().Scan(&ok, &granted); err != nil {
				_ = br.Close()
				return err
			}
			current = current && ok
			markGranted(out, claims, r, granted)
		}
		return br.Close()
	})
	if err != nil {
		return nil, l.fail(ctx, "claim", err)
	}
	if !current {
		return nil, l.fenced()
	}
	if mark {
		l.unmarked.Store(false)
	}
	return out, nil
}

// claimRounds splits a batch into rounds that name each job once: the
// n-th claim of a job goes in round n. Usually there is one round.
func claimRounds(claims []solocron.Claim) [][]int {
	seen := make(map[string]int, len(claims))
	var rounds [][]int
	for i, c := range claims {
		n := seen[c.Job]
		seen[c.Job] = n + 1
		if n == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[n] = append(rounds[n], i)
	}
	return rounds
}

// markGranted sets out[i] for the claims at idx whose job was granted.
func markGranted(out []bool, claims []solocron.Claim, idx []int, granted []string) {
	set := make(map[string]bool, len(granted))
	for _, j := range granted {
		set[j] = true
	}
	for _, i := range idx {
		out[i] = set[claims[i].Job]
	}
}

// claimArgs are the claim statement's arrays for the claims at idx.
func claimArgs(claims []solocron.Claim, idx []int) (jobs []string, ticks []time.Time, retry []string) {
	jobs, ticks = make([]string, len(idx)), make([]time.Time, len(idx))
	for k, i := range idx {
		jobs[k], ticks[k] = claims[i].Job, claims[i].Tick.Truncate(time.Microsecond)
		if claims[i].Retry {
			retry = append(retry, claims[i].Job)
		}
	}
	return jobs, ticks, retry
}

// Complete records how claimed ticks ended, in one statement.
func (l *lease) Complete(ctx context.Context, done []solocron.Outcome) error {
	if err := l.current(); err != nil {
		return err
	}
	n := len(done)
	jobs, ticks, ran := make([]string, n), make([]time.Time, n), make([]bool, n)
	durations, errs, nexts := make([]int64, n), make([]string, n), make([]*time.Time, n)
	for i, o := range done {
		jobs[i], ticks[i], ran[i] = o.Job, o.Tick.Truncate(time.Microsecond), o.Ran
		durations[i], errs[i] = o.Duration.Microseconds(), o.Error
		if !o.Next.IsZero() { // NULL: a zero Next changes nothing
			next := o.Next.Truncate(time.Microsecond)
			nexts[i] = &next
		}
	}
	var current bool
	var updated int64
	err := l.run(ctx, func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, l.e.sql.complete, l.e.opt.App, int64(l.term), jobs, ticks, ran, durations, errs, nexts).
			Scan(&current, &updated)
	})
	if err != nil {
		return l.fail(ctx, "complete", err)
	}
	if !current {
		return l.fenced()
	}
	return nil
}

// ledgerRow is a ledger record as scanned; columns that may be NULL are
// pointers.
type ledgerRow struct {
	claimed, completed, finished, next *time.Time
	durationUs                         *int64
	error                              *string
}

func (r ledgerRow) record() solocron.Record {
	var rec solocron.Record
	if r.claimed != nil {
		rec.Claimed = r.claimed.UTC()
	}
	if r.completed != nil {
		rec.Completed = r.completed.UTC()
	}
	if r.finished != nil {
		rec.Finished = r.finished.UTC()
	}
	if r.durationUs != nil {
		rec.Duration = time.Duration(*r.durationUs) * time.Microsecond
	}
	if r.error != nil {
		rec.Error = *r.error
	}
	if r.next != nil {
		rec.Next = r.next.UTC()
	}
	return rec
}

// Reset sets the job's claimed and completed ticks to tick, even when
// that moves them back.
func (l *lease) Reset(ctx context.Context, job string, tick time.Time) error {
	if err := l.current(); err != nil {
		return err
	}
	var current bool
	err := l.run(ctx, func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, l.e.sql.reset, l.e.opt.App, int64(l.term), job, tick.Truncate(time.Microsecond)).Scan(&current)
	})
	if err != nil {
		return l.fail(ctx, "reset", err)
	}
	if !current {
		return l.fenced()
	}
	return nil
}

// fail explains an error of a ledger statement. If the term ended
// meanwhile, or the statement ended the session, the error wraps
// ErrNotLeader; if the caller's ctx ended, it wraps ctx.Err().
func (l *lease) fail(ctx context.Context, op string, err error) error {
	if gone, why := l.s.ended(); gone {
		l.lose(fmt.Errorf("session ended: %w", why))
	}
	if cur := l.current(); cur != nil {
		err = fmt.Errorf("%w (%v)", cur, err)
	} else if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return l.e.wrap(op, err)
}

// fenced ends a term the server no longer knows and returns why.
func (l *lease) fenced() error {
	l.lose(fmt.Errorf("term %d is no longer current in %s", l.term, l.e.t.leaseName))
	return l.current()
}
