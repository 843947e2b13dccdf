package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
)

// TxBeginner starts a transaction: a *pgxpool.Pool or a *pgx.Conn on the
// Elector's database.
type TxBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

var (
	// ErrTickCompleted is returned by RunTx when the ledger does not hold
	// the run's tick as claimed and unfinished: another run completed it,
	// or RunTx was called twice in one run. The transaction was rolled
	// back.
	ErrTickCompleted = errors.New("solocron/postgres: the tick is not claimed and unfinished in the ledger")

	// ErrOtherDatabase is returned by RunTx when its transaction runs on
	// another database than the Elector's: the job's writes and the
	// tick's completion could not commit together. Nothing was run.
	ErrOtherDatabase = errors.New("solocron/postgres: RunTx's transaction is on another database than the Elector's")
)

// TxJob returns j set up for exactly-once effects: its Run runs fn through
// RunTx on db, and AtLeastOnce is set, so that a tick whose leader died
// before the commit is run again by the next leader. j.Run is replaced.
func (e *Elector) TxJob(j solocron.Job, db TxBeginner, fn func(ctx context.Context, tx pgx.Tx) error) solocron.Job {
	j.AtLeastOnce = true
	j.Run = func(ctx context.Context) error { return e.RunTx(ctx, db, fn) }
	return j
}

// RunTx runs fn, the work of a job's run, in a transaction on db, which
// must reach the Elector's database. Before it commits, it checks in the
// same transaction that the run's term still leads (locking the lease row,
// so that a takeover waits for the commit) and records the run's tick as
// completed in the ledger. So the job's writes and the tick's completion
// commit together or not at all: in a job with AtLeastOnce (see TxJob), a
// tick whose leader died before the commit is run again by the next
// leader, and one whose commit happened is not, so its effect happens
// exactly once.
//
// ctx must be the run's (solocron.RunFrom), in a term this Elector leads.
// fn must not commit or roll back tx. RunTx returns fn's error as it is,
// after rolling back; an error wrapping solocron.ErrNotLeader when the
// term no longer leads; ErrTickCompleted when the tick was completed
// already; ErrOtherDatabase when db is on another database. A manual run
// (RunNow) has no tick to complete: its transaction is fenced by the term
// only.
//
// The server ends the transaction (and its connection) when it sits idle
// for a TTL, or for Margin once the term is checked: a process cut off or
// frozen mid-transaction cannot hold its locks, or the lease row, past the
// takeover. Keep fn busy in the database, or do slow work before RunTx.
func (e *Elector) RunTx(ctx context.Context, db TxBeginner, fn func(ctx context.Context, tx pgx.Tx) error) error {
	run, ok := solocron.RunFrom(ctx)
	if !ok {
		return errors.New("solocron/postgres: RunTx: ctx carries no run (solocron.RunFrom): pass the ctx the Scheduler gave the job")
	}
	if db == nil {
		return errors.New("solocron/postgres: RunTx: db is nil")
	}
	l := e.leading.Load()
	if l == nil || l.term != run.Term {
		return fmt.Errorf("%w: RunTx: the run's term %d is not the term this Elector (%s) leads; call RunTx on the Elector the Scheduler was given",
			solocron.ErrNotLeader, run.Term, e)
	}
	if err := l.current(); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{BeginQuery: "BEGIN; SET LOCAL idle_in_transaction_session_timeout = " +
		strconv.FormatInt(e.opt.TTL.Milliseconds(), 10)})
	if err != nil {
		return e.wrap("RunTx: begin", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	id, err := readIdentity(ctx, tx, tx.Conn().Config())
	if err != nil {
		return e.wrap("RunTx: reading the database's identity", err)
	}
	if !id.same(l.id) {
		return fmt.Errorf("%w: the transaction's is %s; the Elector's is %s", ErrOtherDatabase, id, l.id)
	}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := e.finish(ctx, tx, run); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return e.wrap(fmt.Sprintf("RunTx: commit of job %q tick %s", run.Job, run.Tick.UTC().Format(time.RFC3339Nano)), err)
	}
	return nil
}

// finish fences the transaction by the run's term and completes its tick.
func (e *Elector) finish(ctx context.Context, tx pgx.Tx, run solocron.Run) error {
	var job *string
	if !run.Manual {
		job = &run.Job
	}
	tick := run.Tick.Truncate(time.Microsecond)
	var current, done bool
	var claimed, completed *time.Time
	var setting string
	err := tx.QueryRow(ctx, e.sql.finish, e.opt.App, int64(run.Term), job, tick,
		strconv.FormatInt(e.opt.Margin.Milliseconds(), 10)).Scan(&current, &done, &claimed, &completed, &setting)
	switch {
	case err != nil:
		return e.wrap(fmt.Sprintf("RunTx: fencing job %q tick %s", run.Job, tick.UTC().Format(time.RFC3339Nano)), err)
	case !current:
		return e.wrap("RunTx", fmt.Errorf("%w: term %d no longer leads in %s: job %q's transaction was rolled back",
			solocron.ErrNotLeader, run.Term, e.t.leaseName, run.Job))
	case !done && !run.Manual:
		return fmt.Errorf("%w: job %q tick %s (ledger: claimed %s, completed %s): the transaction was rolled back",
			ErrTickCompleted, run.Job, tick.UTC().Format(time.RFC3339Nano), timeOrNone(claimed), timeOrNone(completed))
	}
	return nil
}

func timeOrNone(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
