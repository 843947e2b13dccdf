package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// firstVersionTables makes the tables as the first version of this
// package did, with one App's lease row at term 5 and one ledger record.
func firstVersionTables(t *testing.T, o Options) {
	t.Helper()
	tb := newTables(o)
	sqlExec(t, o.URL, `CREATE SCHEMA IF NOT EXISTS `+tb.schema)
	sqlExec(t, o.URL, `CREATE TABLE `+tb.lease+` (app text PRIMARY KEY, term bigint NOT NULL, host text,
		pid integer, since timestamptz, deadline timestamptz NOT NULL, backend integer)`)
	sqlExec(t, o.URL, `CREATE TABLE `+tb.ledger+` (app text NOT NULL, job text NOT NULL,
		claimed timestamptz NOT NULL, completed timestamptz, PRIMARY KEY (app, job))`)
	sqlExec(t, o.URL, `INSERT INTO `+tb.lease+` VALUES ($1, 5, NULL, NULL, now() - interval '1 hour', now() - interval '1 hour', NULL)`, o.App)
	sqlExec(t, o.URL, `INSERT INTO `+tb.ledger+` VALUES ($1, 'job', $2, $2)`, o.App, oldTick)
}

var oldTick = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Tables made by the first version keep working: the columns added since
// are added, the records are kept, and the new columns are used.
func TestTablesOfTheFirstVersionKeepWorking(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	firstVersionTables(t, o)
	e := mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := e.Campaign(ctx, solocron.Candidate{PID: 1, Hostname: "h", App: "example.com/app", Jobs: "digest"})
	if err != nil {
		t.Fatalf("Campaign on tables of the first version: %v", err)
	}
	defer func() { _ = l.Release(context.Background()) }()
	if l.Term() <= 5 {
		t.Fatalf("term %d, want > 5", l.Term())
	}
	if err := l.LedgerStale(); err != nil {
		t.Fatalf("the ledger of the first version is reported stale: %v", err)
	}
	r, err := l.Records(ctx, []string{"job"})
	if err != nil || !r["job"].Claimed.Equal(oldTick) {
		t.Fatalf("Records = %+v, %v; want the record made before the upgrade", r, err)
	}
	h, err := mustNew(t, o).Holder(ctx)
	if err != nil || h.App != "example.com/app" || h.Jobs != "digest" {
		t.Fatalf("Holder = %+v, %v; want the candidate's App and Jobs", h, err)
	}
	if err := l.Reset(ctx, "job", oldTick.Add(time.Hour)); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}

// Holder reads tables of the first version, which lack the identity
// columns until a process of this version campaigns (a rolling upgrade, or
// a monitoring check run first).
func TestHolderReadsTablesOfTheFirstVersion(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	firstVersionTables(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := mustNew(t, o).Holder(ctx); err != nil && !errors.Is(err, solocron.ErrNoHolder) {
		t.Fatalf("Holder on tables of the first version: %v", err)
	}
}

// A standby recreates a table dropped while it waits: the ledger at the
// takeover (it has no marker then, so the term reports it stale), the
// lease table in its wait (the leader then finds its term gone).
func TestStandbyRecreatesADroppedTable(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.TTL = time.Second
	tb := newTables(o)
	la := campaignOrFail(t, mustNew(t, o), 1)
	got := standby(t, mustNew(t, o), 2, 10*time.Second)
	waitForWaiter(t, o, 1)
	sqlExec(t, o.URL, `DROP TABLE `+tb.ledger)
	if err := la.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	lb := waitTakeover(t, got).lease
	if lb.LedgerStale() == nil {
		t.Fatal("a recreated ledger was not reported stale")
	}
	claimGranted(t, lb, oldTick)

	got = standby(t, mustNew(t, o), 3, 10*time.Second)
	waitForWaiter(t, o, 1)
	sqlExec(t, o.URL, `DROP TABLE `+tb.lease)
	select {
	case <-lb.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the leader did not lose its term within 5s of its lease table being dropped")
	}
	lc := waitTakeover(t, got).lease
	if lc.Term() <= lb.Term() {
		t.Fatalf("term %d after the lease table was dropped, want > %d", lc.Term(), lb.Term())
	}
	if err := lc.LedgerStale(); err != nil {
		t.Fatalf("the ledger survived, yet it is reported stale: %v", err)
	}
}

// previousVersionTables makes the tables as the version before outcomes
// and control state did (the lease row at term 5, its term marker, and
// one record), without the control table.
func previousVersionTables(t *testing.T, o Options) {
	t.Helper()
	tb := newTables(o)
	sqlExec(t, o.URL, `CREATE SCHEMA IF NOT EXISTS `+tb.schema)
	sqlExec(t, o.URL, `CREATE TABLE `+tb.lease+` (app text PRIMARY KEY, term bigint NOT NULL, host text,
		pid integer, since timestamptz, deadline timestamptz NOT NULL, backend integer, holder_app text, holder_jobs text)`)
	sqlExec(t, o.URL, `CREATE TABLE `+tb.ledger+` (app text NOT NULL, job text NOT NULL,
		claimed timestamptz NOT NULL, completed timestamptz, term bigint, PRIMARY KEY (app, job))`)
	sqlExec(t, o.URL, `INSERT INTO `+tb.lease+` VALUES ($1, 5, NULL, NULL, now() - interval '1 hour', now() - interval '1 hour', NULL, NULL, NULL)`, o.App)
	sqlExec(t, o.URL, `INSERT INTO `+tb.ledger+` VALUES ($1, `+markerJob+`, now(), NULL, 5), ($1, 'job', $2, $2, NULL)`, o.App, oldTick)
}

// Tables of the previous version are read before any process of this
// version campaigned (a rolling upgrade, the solocron command run first),
// and upgraded in place by the first campaign: the ledger gets the
// outcome columns and keeps its records and marker, the control table is
// made.
func TestTablesOfThePreviousVersionAreUpgraded(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	tb := newTables(o)
	previousVersionTables(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r, err := mustNew(t, o).Observe(ctx)
	if err != nil || len(r) != 1 || !r["job"].Claimed.Equal(oldTick) || !r["job"].Finished.IsZero() {
		t.Fatalf("Observe of the previous version's ledger = %v, %v; want its record", r, err)
	}
	if c, err := mustNew(t, o).Control(ctx); err != nil || len(c) != 0 {
		t.Fatalf("Control before the control table exists = %v, %v; want nothing", c, err)
	}
	if err := mustNew(t, o).SetPaused(ctx, "job", true); err != nil {
		t.Fatalf("SetPaused on the previous version's tables: %v", err)
	}
	r, err = mustNew(t, o).Observe(ctx)
	if err != nil || len(r) != 1 || !r["job"].Claimed.Equal(oldTick) || !r["job"].Paused {
		t.Fatalf("Observe of the previous version's ledger and a new control table = %v, %v", r, err)
	}

	e := mustNew(t, o)
	l, err := e.Campaign(ctx, solocron.Candidate{PID: 1, Hostname: "h"})
	if err != nil {
		t.Fatalf("Campaign on the previous version's tables: %v", err)
	}
	defer func() { _ = l.Release(context.Background()) }()
	if err := l.LedgerStale(); err != nil || l.Term() <= 5 {
		t.Fatalf("term %d, stale: %v; want a term above 5 and a current ledger", l.Term(), err)
	}
	added := queryInt64(t, o.URL, `SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1)
		AND attname IN ('finished', 'duration_us', 'error', 'next_tick') AND NOT attisdropped`, tb.ledger)
	if *added != 4 {
		t.Fatalf("%d of the 4 outcome columns were added to the ledger", *added)
	}
	tick := oldTick.Add(time.Minute)
	claimGranted(t, l, tick)
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: tick, Ran: true, Duration: 2 * time.Second, Error: "timeout"}}); err != nil {
		t.Fatalf("Complete on the upgraded ledger: %v", err)
	}
	want := func(r solocron.Record) bool {
		return r.Completed.Equal(tick) && r.Finished.Equal(tick) && r.Duration == 2*time.Second && r.Error == "timeout"
	}
	if rs, err := l.Records(ctx, []string{"job"}); err != nil || !want(rs["job"]) {
		t.Fatalf("Records = %+v, %v", rs, err)
	}
	if r, err := e.Observe(ctx); err != nil || len(r) != 1 || !want(r["job"]) || !r["job"].Paused {
		t.Fatalf("Observe = %+v, %v", r, err)
	}
}

// outcomesVersionTables makes the tables as the version that added
// outcomes and control state did, before the next tick: the lease row at
// term 5, its term marker, and one record with a failed run.
func outcomesVersionTables(t *testing.T, o Options) {
	t.Helper()
	previousVersionTables(t, o)
	tb := newTables(o)
	sqlExec(t, o.URL, `ALTER TABLE `+tb.ledger+` ADD COLUMN finished timestamptz, ADD COLUMN duration_us bigint, ADD COLUMN error text`)
	sqlExec(t, o.URL, `UPDATE `+tb.ledger+` SET finished = completed, duration_us = 1000, error = 'boom' WHERE app = $1 AND job = 'job'`, o.App)
	sqlExec(t, o.URL, createControl(tb))
}

// A ledger of the version before the next tick is read with a zero Next
// until the first campaign adds next_tick; its records keep their
// outcomes, and Complete then records the next tick.
func TestLedgerWithoutNextTickIsUpgraded(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	tb := newTables(o)
	outcomesVersionTables(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r, err := mustNew(t, o).Observe(ctx)
	if got := r["job"]; err != nil || len(r) != 1 || !got.Finished.Equal(oldTick) || got.Error != "boom" || !got.Next.IsZero() {
		t.Fatalf("Observe of a ledger without next_tick = %+v, %v; want its record and no Next", r, err)
	}

	e := mustNew(t, o)
	l, err := e.Campaign(ctx, solocron.Candidate{PID: 1, Hostname: "h"})
	if err != nil {
		t.Fatalf("Campaign on a ledger without next_tick: %v", err)
	}
	defer func() { _ = l.Release(context.Background()) }()
	if err := l.LedgerStale(); err != nil || l.Term() <= 5 {
		t.Fatalf("term %d, stale: %v; want a term above 5 and a current ledger", l.Term(), err)
	}
	added := queryInt64(t, o.URL, `SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1)
		AND attname = 'next_tick' AND NOT attisdropped`, tb.ledger)
	if *added != 1 {
		t.Fatal("next_tick was not added to the ledger")
	}
	if rs, err := l.Records(ctx, []string{"job"}); err != nil || rs["job"].Error != "boom" || !rs["job"].Next.IsZero() {
		t.Fatalf("Records after the upgrade = %+v, %v; want the old outcome and no Next", rs, err)
	}
	tick, next := oldTick.Add(time.Minute), oldTick.Add(2*time.Minute+time.Microsecond)
	claimGranted(t, l, tick)
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: tick, Next: next}}); err != nil {
		t.Fatalf("Complete on the upgraded ledger: %v", err)
	}
	want := func(r solocron.Record) bool {
		return r.Completed.Equal(tick) && r.Finished.Equal(oldTick) && r.Error == "boom" && r.Next.Equal(next)
	}
	if rs, err := l.Records(ctx, []string{"job"}); err != nil || !want(rs["job"]) {
		t.Fatalf("Records = %+v, %v; want completed %v, the old run kept, Next %v", rs, err, tick, next)
	}
	if r, err := e.Observe(ctx); err != nil || len(r) != 1 || !want(r["job"]) {
		t.Fatalf("Observe = %+v, %v", r, err)
	}
}
