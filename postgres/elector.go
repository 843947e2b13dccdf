package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/redact"
)

// Elector elects one leader among the processes that share a PostgreSQL
// database and an App name. See the package documentation for how.
type Elector struct {
	opt     Options
	cfg     *pgx.ConnConfig
	secrets []string // to scrub from errors
	t       tables
	sql     statements
	key     int64 // advisory lock key
	classid uint32
	objid   uint32

	// leading is the last term this Elector began: RunTx fences a run's
	// transaction by it.
	leading atomic.Pointer[lease]

	spare spare // the connection of Observe, Control, SetPaused, RequestRun
}

// New returns an Elector. It parses the URL and checks the options but
// does not connect: a server that is down is reported by Campaign and
// Holder.
func New(opt Options) (*Elector, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	secrets := redact.Secrets(opt.URL)
	cfg, err := pgx.ParseConfig(opt.URL)
	if err != nil {
		// A ParseConfigError quotes the connection string (redacted by
		// pgx); only its cause is kept, scrubbed again.
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) && pe.Unwrap() != nil {
			err = pe.Unwrap()
		}
		return nil, redact.Error(fmt.Errorf("solocron/postgres: bad Options.URL: %v", err), secrets)
	}
	if cfg.Password != "" {
		secrets = append(secrets, cfg.Password)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "solocron " + opt.App
	}
	// A statement whose context ends is cancelled on the server, so that
	// the session and its lock survive it.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler { return newInterrupter(c) }
	e := &Elector{opt: opt, cfg: cfg, secrets: secrets, t: newTables(opt), key: lockKey(opt)}
	e.sql = newStatements(e.t)
	e.classid, e.objid = lockID(e.key)
	return e, nil
}

// String names where leadership lives, without credentials, for example
// "postgres db.internal:5432/app app billing (public.solocron_lease)".
func (e *Elector) String() string {
	return fmt.Sprintf("postgres %s:%d/%s app %s (%s)", e.cfg.Host, e.cfg.Port, e.cfg.Database, e.opt.App, e.t.leaseName)
}

// wrap adds context to an error and scrubs credentials from it.
func (e *Elector) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return redact.Error(fmt.Errorf("solocron/postgres: %s on %s: %w", op, e, err), e.secrets)
}

// connect opens a connection of its own, not a pool slot: the advisory
// lock belongs to the session.
func (e *Elector) connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.ConnectConfig(ctx, e.cfg.Copy())
}

func closeQuietly(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// ensureTables creates the tables if missing, at every campaign: an
// operator may have dropped one since, and a leader whose claims then
// failed campaigns again (the data of a dropped table is gone: a new
// ledger has no term marker, so the next term reports it stale). Only
// campaigns create the lease and the ledger: Holder or Observe, readers,
// must not make a new ledger under a leader that would then claim in it
// unawares. (SetPaused and RequestRun create the control table alone.)
func (e *Elector) ensureTables(ctx context.Context, c *pgx.Conn) error {
	if err := ensureTables(ctx, c, e.t); err != nil {
		return fmt.Errorf("creating the tables: %w", err)
	}
	return nil
}

// Campaign blocks until this process leads. It waits in pg_advisory_lock
// on its own connection, so the server wakes it as soon as the holder's
// session ends; it looks at the lease row again whenever the row's
// deadline passes.
func (e *Elector) Campaign(ctx context.Context, cand solocron.Candidate) (solocron.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !e.spare.pin() {
		go e.warmSpare(ctx)
	}
	defer e.spare.unpin()
	c, err := e.connect(ctx)
	if err != nil {
		return nil, e.ctxErr(ctx, "campaign", err)
	}
	l, err := e.campaign(ctx, c, cand)
	if err != nil {
		closeQuietly(c) // frees the lock if it was taken
		return nil, e.ctxErr(ctx, "campaign", err)
	}
	return l, nil
}

// warmSpare opens the spare connection for a campaign (see spare.pin); a
// failure is left for the first call that needs it to report.
func (e *Elector) warmSpare(ctx context.Context) {
	if c, err := e.connect(ctx); err == nil {
		e.spare.put(c)
	}
}

func (e *Elector) campaign(ctx context.Context, c *pgx.Conn, cand solocron.Candidate) (*lease, error) {
	ttl := e.opt.TTL.Milliseconds()
	if err := e.ensureTables(ctx, c); err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, e.sql.sessionSettings); err != nil {
		return nil, err
	}
	// Read before the wait, so as to cost the takeover nothing.
	id, err := readIdentity(ctx, c, e.cfg)
	if err != nil {
		return nil, err
	}
	// Prepared now, so that the takeover after the wait is one round
	// trip, and explicitly, because pgx drops a cached statement that
	// failed: each lock_timeout would cost two more round trips.
	for _, q := range []string{e.sql.take, e.sql.lock} {
		if _, err := c.Prepare(ctx, q, q); err != nil {
			return nil, err
		}
	}
	// A table dropped since connect (the wait reads the lease table, the
	// takeover writes both) is made again, once.
	locked, recreated := false, false
	for {
		var err error
		if !locked {
			err = e.waitForLock(ctx, c, ttl)
			locked = err == nil
		}
		if locked {
			var l *lease
			if l, err = e.take(ctx, c, cand, ttl, id); err == nil {
				return l, nil
			}
		}
		if pgCode(err) != "42P01" || recreated { // undefined_table
			return nil, err
		}
		recreated = true
		if err := e.ensureTables(ctx, c); err != nil {
			return nil, err
		}
	}
}

// waitForLock waits until this session holds the advisory lock, ending
// the session of a leader whose lease row expired.
func (e *Elector) waitForLock(ctx context.Context, c *pgx.Conn, ttl int64) error {
	for {
		var terminated *bool
		var timeout string
		err := c.QueryRow(ctx, e.sql.wait, e.opt.App, e.classid, e.objid, ttl).Scan(&terminated, &timeout)
		if pgCode(err) == "42501" { // insufficient_privilege
			return fmt.Errorf("the leader's lease expired but its session still holds the lock and this role may not end it (use one role for all processes, or grant pg_signal_backend): %w", err)
		}
		if err != nil {
			return err
		}
		_, err = c.Exec(ctx, e.sql.lock, e.key)
		if pgCode(err) != "55P03" { // lock_not_available: lock_timeout ran out
			return err
		}
	}
}

// take writes the lease row of a new term, as the holder of the lock.
func (e *Elector) take(ctx context.Context, c *pgx.Conn, cand solocron.Candidate, ttl int64, id identity) (*lease, error) {
	start := time.Now()
	var term int64
	var prevTerm, marker *int64
	err := c.QueryRow(ctx, e.sql.take, e.opt.App, cand.Hostname, cand.PID, ttl, e.classid, e.objid, cand.App, cand.Jobs).
		Scan(&term, &prevTerm, &marker)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errors.New("the advisory lock is not held by the session that took it: is a pooler in transaction mode between this process and the server? Connect directly or in session mode")
	}
	if err != nil {
		return nil, err
	}
	l := newLease(e, startSession(c), uint64(term), start, e.staleLedger(prevTerm, marker), id)
	e.leading.Store(l)
	return l, nil
}

// pgCode is the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// ctxErr returns ctx's error if it ended, else err with context.
func (e *Elector) ctxErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return e.wrap(op, err)
}

// Holder reports who leads, or solocron.ErrNoHolder. A row whose session
// no longer holds the lock (a crashed leader) is not a holder, and
// neither is anyone while the lease table does not exist (Holder never
// creates it).
func (e *Elector) Holder(ctx context.Context) (solocron.Holder, error) {
	c, err := e.connect(ctx)
	if err != nil {
		return solocron.Holder{}, e.ctxErr(ctx, "holder", err)
	}
	defer closeQuietly(c)
	var h solocron.Holder
	var term int64
	err = c.QueryRow(ctx, e.sql.holder, e.opt.App, e.classid, e.objid).Scan(&h.Hostname, &h.PID, &h.Since, &term, &h.App, &h.Jobs)
	if code := pgCode(err); errors.Is(err, pgx.ErrNoRows) || code == "42P01" || code == "3F000" { // undefined_table, invalid_schema_name
		return solocron.Holder{}, solocron.ErrNoHolder
	}
	if err != nil {
		return solocron.Holder{}, e.ctxErr(ctx, "holder", err)
	}
	h.Since, h.Term = h.Since.UTC(), uint64(term)
	return h, nil
}
