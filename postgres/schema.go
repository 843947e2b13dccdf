package postgres

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// tables are the quoted, schema-qualified names of the two tables.
type tables struct {
	schema, lease, ledger string // quoted
	leaseName, ledgerName string // qualified but unquoted, for to_regclass and String
}

func newTables(o Options) tables {
	return tables{
		schema:     pgx.Identifier{o.Schema}.Sanitize(),
		lease:      pgx.Identifier{o.Schema, o.LeaseTable}.Sanitize(),
		ledger:     pgx.Identifier{o.Schema, o.LedgerTable}.Sanitize(),
		leaseName:  o.Schema + "." + o.LeaseTable,
		ledgerName: o.Schema + "." + o.LedgerTable,
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

// ensureTables creates the schema and tables if missing, in one
// transaction. It checks first, so that a role without the CREATE
// privilege can use tables an administrator made.
func ensureTables(ctx context.Context, c *pgx.Conn, t tables) error {
	var haveSchema, haveLease, haveLedger bool
	check := `SELECT to_regnamespace($1) IS NOT NULL, to_regclass($2) IS NOT NULL, to_regclass($3) IS NOT NULL`
	read := func() error {
		return c.QueryRow(ctx, check, t.schema, t.lease, t.ledger).Scan(&haveSchema, &haveLease, &haveLedger)
	}
	if err := read(); err != nil {
		return err
	}
	if haveSchema && haveLease && haveLedger {
		return nil
	}
	return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, ddlKey); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, check, t.schema, t.lease, t.ledger).Scan(&haveSchema, &haveLease, &haveLedger); err != nil {
			return err
		}
		var stmts []string
		if !haveSchema {
			stmts = append(stmts, `CREATE SCHEMA IF NOT EXISTS `+t.schema)
		}
		if !haveLease {
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
		if !haveLedger {
			stmts = append(stmts, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	app       text NOT NULL,
	job       text NOT NULL,
	claimed   timestamptz NOT NULL, -- last tick claimed
	completed timestamptz,          -- last tick that finished
	PRIMARY KEY (app, job)
)`, t.ledger))
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
}
