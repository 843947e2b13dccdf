package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tables are the quoted, schema-qualified names of the three tables.
type tables struct {
	schema, lease, ledger, control     string // quoted
	leaseName, ledgerName, controlName string // qualified but unquoted, for to_regclass and String
}

func newTables(o Options) tables {
	return tables{
		schema:      pgx.Identifier{o.Schema}.Sanitize(),
		lease:       pgx.Identifier{o.Schema, o.LeaseTable}.Sanitize(),
		ledger:      pgx.Identifier{o.Schema, o.LedgerTable}.Sanitize(),
		control:     pgx.Identifier{o.Schema, o.ControlTable}.Sanitize(),
		leaseName:   o.Schema + "." + o.LeaseTable,
		ledgerName:  o.Schema + "." + o.LedgerTable,
		controlName: o.Schema + "." + o.ControlTable,
	}
}

// lockKey is the session advisory lock of one App on one lease table. It
// is a hash, so an unrelated user of advisory locks could collide with it
// (about one chance in 2^64 per key); the lease row, not the lock, holds
// the term, so a collision delays takeover but never makes two leaders.
func lockKey(o Options) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "solocron\x00%s\x00%s\x00%s", o.Schema, o.LeaseTable, o.App)
	return int64(h.Sum64())
}

// lockID splits a bigint advisory key the way pg_locks shows it.
func lockID(key int64) (classid, objid uint32) {
	return uint32(uint64(key) >> 32), uint32(uint64(key))
}

// ddlKey serialises table creation: concurrent CREATE TABLE IF NOT EXISTS
// of one name can fail with a unique violation in pg_type.
const ddlKey = int64(0x736f6c6f6372_00) // "solocr" + 0

// addedColumn is a column added after the first version of a table:
// ensureTables adds it to a table made without it, so that tables made by
// an older version keep working (a new table gets it the same way).
type addedColumn struct {
	name, decl string
}

var (
	leaseAdded = []addedColumn{
		{"holder_app", "text"},  // the holder's Candidate.App: its program
		{"holder_jobs", "text"}, // the holder's Candidate.Jobs: a digest of its job names
	}
	ledgerAdded = []addedColumn{
		{"term", "bigint"}, // on the term marker row only (see markerJob); must stay first
		// The last run that finished: its tick, how long it took and
		// its error's first line (NULL when it succeeded).
		{"finished", "timestamptz"},
		{"duration_us", "bigint"},
		{"error", "text"},
		{"next_tick", "timestamptz"}, // the job's next tick as the leader recorded it
	}
)

// tableState is what ensureTables finds.
type tableState struct {
	schema, lease, ledger, control bool // exist
	leaseCols, ledgerCols          int  // added columns present
	ledgerTerm                     bool // the ledger has the term column (of the term marker)
}

func (s tableState) complete() bool {
	return s.schema && s.lease && s.ledger && s.control && s.leaseCols == len(leaseAdded) && s.ledgerCols == len(ledgerAdded)
}

// readTableState finds which tables and added columns exist.
func readTableState(ctx context.Context, c interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, t tables) (tableState, error) {
	var s tableState
	err := c.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL, to_regclass($2) IS NOT NULL, to_regclass($3) IS NOT NULL,
		to_regclass($6) IS NOT NULL,
		(SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($2) AND attname = ANY ($4::text[]) AND NOT attisdropped),
		(SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($3) AND attname = ANY ($5::text[]) AND NOT attisdropped),
		EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($3) AND attname = 'term' AND NOT attisdropped)`,
		t.schema, t.lease, t.ledger, columnNames(leaseAdded), columnNames(ledgerAdded), t.control).
		Scan(&s.schema, &s.lease, &s.ledger, &s.control, &s.leaseCols, &s.ledgerCols, &s.ledgerTerm)
	return s, err
}

func columnNames(cols []addedColumn) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

// addColumns is the ALTER TABLE that adds cols to table.
func addColumns(table string, cols []addedColumn) string {
	adds := make([]string, len(cols))
	for i, c := range cols {
		adds[i] = "ADD COLUMN IF NOT EXISTS " + c.name + " " + c.decl
	}
	return "ALTER TABLE " + table + " " + strings.Join(adds, ", ")
}

// ensureTables creates the schema and tables if missing, and adds the
// columns a table made by an older version lacks, in one transaction. It
// checks first, so that a role without the CREATE privilege (or, once the
// columns exist, without owning the tables) can use tables an
// administrator made.
func ensureTables(ctx context.Context, c *pgx.Conn, t tables) error {
	if s, err := readTableState(ctx, c, t); err != nil || s.complete() {
		return err
	}
	return createLocked(ctx, c, t, func(s tableState) []string {
		var stmts []string
		if !s.schema {
			stmts = append(stmts, `CREATE SCHEMA IF NOT EXISTS `+t.schema)
		}
		if !s.lease {
			stmts = append(stmts, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	app      text PRIMARY KEY,
	term     bigint NOT NULL,       -- fencing token, grows with every term
	host     text,                  -- holder; NULL once released
	pid      integer,
	since    timestamptz,
	deadline timestamptz NOT NULL,  -- database clock; renewed by the holder
	backend  integer                -- pg_backend_pid() of the holder's session
)`, t.lease))
		}
		if !s.lease || s.leaseCols < len(leaseAdded) {
			stmts = append(stmts, addColumns(t.lease, leaseAdded))
		}
		if !s.ledger {
			stmts = append(stmts, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	app       text NOT NULL,
	job       text NOT NULL,
	claimed   timestamptz NOT NULL, -- last tick claimed
	completed timestamptz,          -- last tick that finished
	PRIMARY KEY (app, job)
)`, t.ledger))
		}
		if !s.ledger || s.ledgerCols < len(ledgerAdded) {
			stmts = append(stmts, addColumns(t.ledger, ledgerAdded))
		}
		if s.ledger && !s.ledgerTerm {
			// A ledger made before term markers, which is current: each
			// App's marker starts at its lease row's term, so that the
			// next term does not report it stale.
			stmts = append(stmts, fmt.Sprintf(`INSERT INTO %s (app, job, claimed, term)
	SELECT app, %s, now(), term FROM %s ON CONFLICT (app, job) DO NOTHING`, t.ledger, markerJob, t.lease))
		}
		if !s.control {
			stmts = append(stmts, createControl(t))
		}
		return stmts
	})
}

// createLocked runs the statements stmts chooses for the tables' state,
// in one transaction under the DDL advisory lock, so that processes
// starting together do not race to create or alter the same tables.
func createLocked(ctx context.Context, c *pgx.Conn, t tables, stmts func(tableState) []string) error {
	return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		// A standby's wait set lock_timeout for its session; the caller's
		// ctx bounds this transaction instead.
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = 0`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, ddlKey); err != nil {
			return err
		}
		s, err := readTableState(ctx, tx, t)
		if err != nil {
			return err
		}
		for _, stmt := range stmts(s) {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
}

// createControl creates the control table. Its rows are written by any
// process (SetPaused, RequestRun) and only read by the leader: they are
// not fenced, and a table recreated empty only forgets pauses and
// requests.
func createControl(t tables) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	app       text NOT NULL,
	job       text NOT NULL,
	paused    boolean NOT NULL DEFAULT false,
	requested timestamptz,          -- the last run requested; only grows
	PRIMARY KEY (app, job)
)`, t.control)
}

// ensureControl creates the schema and the control table if missing, for
// a write of control state that found it missing. Unlike ensureTables it
// leaves the lease and the ledger alone: a new ledger is made only by a
// campaign, which then knows it is new.
func ensureControl(ctx context.Context, c *pgx.Conn, t tables) error {
	return createLocked(ctx, c, t, func(s tableState) []string {
		var stmts []string
		if !s.schema { // checked: CREATE SCHEMA IF NOT EXISTS needs the right to create one
			stmts = append(stmts, `CREATE SCHEMA IF NOT EXISTS `+t.schema)
		}
		if !s.control {
			stmts = append(stmts, createControl(t))
		}
		return stmts
	})
}
