package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/solocron/solocron"
)

// A *pgxpool.Pool and a *pgx.Conn are what jobs pass to RunTx.
var (
	_ TxBeginner = (*pgxpool.Pool)(nil)
	_ TxBeginner = (*pgx.Conn)(nil)
)

// txTick is the tick the tests claim.
var txTick = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// txTest is an Elector leading a term, a pool on its database and an
// effects table in the test's schema.
type txTest struct {
	o       Options
	e       *Elector
	l       solocron.Lease
	pool    *pgxpool.Pool
	effects string // qualified table name
}

func newTxTest(t *testing.T, o Options) *txTest {
	t.Helper()
	x := &txTest{o: o, e: mustNew(t, o)}
	x.l = campaignOrFail(t, x.e, 1) // creates the schema
	x.pool = newPool(t, o.URL)
	x.effects = pgx.Identifier{o.Schema, "effects"}.Sanitize()
	sqlExec(t, o.URL, `CREATE TABLE `+x.effects+` (job text NOT NULL, tick timestamptz, term bigint NOT NULL)`)
	return x
}

func newPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// claimed claims tick for job in the lease and returns the run's ctx.
func (x *txTest) claimed(t *testing.T, job string, tick time.Time) context.Context {
	t.Helper()
	ok, err := x.l.Claim(context.Background(), []solocron.Claim{{Job: job, Tick: tick}})
	if err != nil || !ok[0] {
		t.Fatalf("claim %s %v: %v, %v", job, tick, ok, err)
	}
	return solocron.ContextWithRun(context.Background(), solocron.Run{Job: job, Tick: tick, Term: x.l.Term()})
}

// insert is a job's effect: one row naming its run.
func (x *txTest) insert(ctx context.Context, tx pgx.Tx) error {
	run, _ := solocron.RunFrom(ctx)
	_, err := tx.Exec(ctx, `INSERT INTO `+x.effects+` VALUES ($1, $2, $3)`, run.Job, run.Tick, int64(run.Term))
	return err
}

// insertThen is the effect, then then's error.
func (x *txTest) insertThen(then func() error) func(context.Context, pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		if err := x.insert(ctx, tx); err != nil {
			return err
		}
		return then()
	}
}

// nothingCommitted fails unless neither an effect nor the completion of
// job's tick committed.
func (x *txTest) nothingCommitted(t *testing.T, job string) {
	t.Helper()
	if n := x.count(t); n != 0 {
		t.Fatalf("%d effects committed, want 0", n)
	}
	if r := x.record(t, job); !r.Completed.IsZero() {
		t.Fatalf("ledger record %+v: the tick was completed", r)
	}
}

func (x *txTest) count(t *testing.T) int {
	t.Helper()
	var n int
	if err := x.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+x.effects).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// record reads job's ledger record from the table, whatever the term.
func (x *txTest) record(t *testing.T, job string) solocron.Record {
	t.Helper()
	var claimed, completed *time.Time
	err := x.pool.QueryRow(context.Background(), `SELECT claimed, completed FROM `+newTables(x.o).ledger+` WHERE app = $1 AND job = $2`,
		x.o.App, job).Scan(&claimed, &completed)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	var r solocron.Record
	if claimed != nil {
		r.Claimed = claimed.UTC()
	}
	if completed != nil {
		r.Completed = completed.UTC()
	}
	return r
}

// The effect and the tick's completion commit together: afterwards the
// tick cannot be claimed again for a retry, a second RunTx in the same
// run is refused and rolled back, and the Scheduler's own completion
// after the run changes nothing.
func TestRunTxCommitsTheEffectWithTheCompletion(t *testing.T) {
	t.Parallel()
	x := newTxTest(t, testOptions(t))
	tick := txTick
	ctx := x.claimed(t, "effect", tick)

	if err := x.e.RunTx(ctx, x.pool, x.insert); err != nil {
		t.Fatalf("RunTx: %v", err)
	}
	if n := x.count(t); n != 1 {
		t.Fatalf("%d effects, want 1", n)
	}
	if r := x.record(t, "effect"); !r.Completed.Equal(tick) {
		t.Fatalf("ledger record %+v: want the tick completed", r)
	}
	ok, err := x.l.Claim(context.Background(), []solocron.Claim{{Job: "effect", Tick: tick, Retry: true}})
	if err != nil || ok[0] {
		t.Fatalf("retry claim of a tick RunTx completed: %v, %v; want refused", ok, err)
	}

	err = x.e.RunTx(ctx, x.pool, x.insert)
	if !errors.Is(err, ErrTickCompleted) {
		t.Fatalf("second RunTx of one run: %v, want ErrTickCompleted", err)
	}
	if !strings.Contains(err.Error(), `"effect"`) {
		t.Errorf("the error does not name the job: %v", err)
	}
	if n := x.count(t); n != 1 {
		t.Fatalf("%d effects after a refused RunTx, want 1: it was not rolled back", n)
	}
	if err := x.l.Complete(context.Background(), []solocron.Outcome{{Job: "effect", Tick: tick, Ran: true, Duration: time.Second}}); err != nil {
		t.Fatalf("Complete after RunTx: %v", err)
	}
	if r := x.record(t, "effect"); !r.Completed.Equal(tick) || !r.Claimed.Equal(tick) {
		t.Fatalf("ledger record %+v after Complete: want claimed and completed at the tick", r)
	}
}

// The transaction rolls back, and the tick stays unfinished, when the
// job fails (RunTx returns its error as it was) and when another term
// took over while the job worked, which this process never noticed.
func TestRunTxRollsBack(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		then func(o Options) error
		want error
	}{
		{"OnTheJobsError", func(Options) error { return boom }, boom},
		{"AfterATakeover", func(o Options) error {
			// Another process takes the row of the next term, as a
			// standby does once the leader's session is gone (which
			// this process would notice; the row is what the fence reads).
			sqlExec(t, o.URL, `UPDATE `+newTables(o).lease+` SET term = term + 1 WHERE app = $1`, o.App)
			return nil
		}, solocron.ErrNotLeader},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions(t)
			x := newTxTest(t, o)
			err := x.e.RunTx(x.claimed(t, "effect", txTick), x.pool, x.insertThen(func() error { return c.then(o) }))
			if !errors.Is(err, c.want) {
				t.Fatalf("RunTx: %v, want %v", err, c.want)
			}
			x.nothingCommitted(t, "effect")
		})
	}
}

// RunTx refuses a pool on another database before the job runs, and
// accepts the same database reached by another address.
func TestRunTxRefusesAnotherDatabase(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	x := newTxTest(t, o)
	ctx := x.claimed(t, "effect", txTick)
	other := "solocron_test_other_" + strings.TrimPrefix(o.Schema, testSchemaPrefix)
	sqlExec(t, o.URL, `CREATE DATABASE `+other)
	t.Cleanup(func() { sqlExec(t, o.URL, `DROP DATABASE IF EXISTS `+other+` WITH (FORCE)`) })
	u, err := url.Parse(o.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + other
	called := false
	err = x.e.RunTx(ctx, newPool(t, u.String()), func(context.Context, pgx.Tx) error { called = true; return nil })
	if !errors.Is(err, ErrOtherDatabase) {
		t.Fatalf("RunTx on another database: %v, want ErrOtherDatabase", err)
	}
	t.Logf("%v", err)
	if called || !strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), u.Hostname()) {
		t.Fatalf("called %v, error %q: want the job not run and both databases named", called, err)
	}

	// The same database through a TCP proxy: another address, one server.
	_, po := proxied(t, o)
	if err := x.e.RunTx(ctx, newPool(t, po.URL), x.insert); err != nil {
		t.Fatalf("RunTx on the same database through another address: %v", err)
	}
	if n := x.count(t); n != 1 {
		t.Fatalf("%d effects, want 1", n)
	}
}

// A manual run (RunNow) has no tick of the job's to complete: it is
// fenced by its term only, and leaves the job's ledger record alone.
func TestRunTxOfAManualRunIsFencedByTermOnly(t *testing.T) {
	t.Parallel()
	x := newTxTest(t, testOptions(t))
	tick := txTick
	x.claimed(t, "effect", tick)
	ctx := solocron.ContextWithRun(context.Background(),
		solocron.Run{Job: "effect", Tick: tick.Add(time.Hour), Term: x.l.Term(), Manual: true})
	if err := x.e.RunTx(ctx, x.pool, x.insert); err != nil {
		t.Fatalf("RunTx of a manual run: %v", err)
	}
	if n := x.count(t); n != 1 {
		t.Fatalf("%d effects, want 1", n)
	}
	if r := x.record(t, "effect"); !r.Completed.IsZero() || !r.Claimed.Equal(tick) {
		t.Fatalf("ledger record %+v: a manual run changed the job's ticks", r)
	}
}

// RunTx runs only in a run of the term this Elector leads.
func TestRunTxNeedsARunOfThisElectorsTerm(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	x := newTxTest(t, o)
	fn := func(context.Context, pgx.Tx) error { t.Error("the job ran"); return nil }
	if err := x.e.RunTx(context.Background(), x.pool, fn); err == nil || !strings.Contains(err.Error(), "RunFrom") {
		t.Errorf("RunTx without a run: %v", err)
	}
	stale := solocron.ContextWithRun(context.Background(), solocron.Run{Job: "effect", Tick: time.Now(), Term: x.l.Term() - 1})
	if err := x.e.RunTx(stale, x.pool, fn); !errors.Is(err, solocron.ErrNotLeader) {
		t.Errorf("RunTx of another term: %v, want ErrNotLeader", err)
	}
	current := solocron.ContextWithRun(context.Background(), solocron.Run{Job: "effect", Tick: time.Now(), Term: x.l.Term()})
	if err := mustNew(t, o).RunTx(current, x.pool, fn); !errors.Is(err, solocron.ErrNotLeader) || !strings.Contains(err.Error(), "Elector") {
		t.Errorf("RunTx on an Elector that does not lead: %v, want ErrNotLeader naming the Elector", err)
	}
	if err := x.e.RunTx(current, nil, fn); err == nil {
		t.Error("RunTx with a nil db: no error")
	}
	if err := x.l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := x.e.RunTx(current, x.pool, fn); !errors.Is(err, solocron.ErrNotLeader) {
		t.Errorf("RunTx after Release: %v, want ErrNotLeader", err)
	}
}

// stallingDB pauses before the commit, as a client cut off by the
// network (or frozen) would.
type stallingDB struct {
	*pgxpool.Pool
	stall time.Duration
}

func (d stallingDB) BeginTx(ctx context.Context, o pgx.TxOptions) (pgx.Tx, error) {
	tx, err := d.Pool.BeginTx(ctx, o)
	return stallingTx{tx, d.stall}, err
}

type stallingTx struct {
	pgx.Tx
	stall time.Duration
}

func (tx stallingTx) Commit(ctx context.Context) error {
	time.Sleep(tx.stall)
	return tx.Tx.Commit(ctx)
}

// A client that stalls in its transaction cannot hold up the next term:
// the server ends a transaction idle for Margin after the fence (which
// locks the lease row, so a takeover would wait for it), and one idle for
// a TTL before it (holding the job's own row locks).
func TestRunTxDoesNotHoldLocksWhenItsClientStalls(t *testing.T) {
	t.Parallel()
	o := faultOptions(t) // TTL 2s, Margin 400ms
	o.RenewInterval = time.Hour / 4
	o.TTL = time.Hour // no renewal, no expiry during the test
	o.Margin = 400 * time.Millisecond
	x := newTxTest(t, o)
	tick := txTick

	t.Run("AfterTheFence", func(t *testing.T) {
		ctx := x.claimed(t, "fenced", tick)
		var free atomic.Bool
		go func() {
			// While the commit stalls, the lease row is free once Margin
			// has passed.
			time.Sleep(o.Margin + 600*time.Millisecond)
			c, err := pgx.Connect(context.Background(), o.URL)
			if err != nil {
				return
			}
			defer c.Close(context.Background())
			_, err = c.Exec(context.Background(), `SELECT 1 FROM `+newTables(o).lease+` WHERE app = $1 FOR UPDATE NOWAIT`, o.App)
			free.Store(err == nil)
		}()
		err := x.e.RunTx(ctx, stallingDB{x.pool, o.Margin + 1500*time.Millisecond}, x.insert)
		if err == nil {
			t.Fatal("a commit sent long after the fence succeeded")
		}
		if !free.Load() {
			t.Fatal("the lease row stayed locked by the stalled transaction")
		}
		x.nothingCommitted(t, "fenced")
	})
	t.Run("InTheJob", func(t *testing.T) {
		o := o
		o.App += "-slow" // a term of its own, in the same tables
		o.TTL = 1500 * time.Millisecond
		o.RenewInterval, o.Margin = 300*time.Millisecond, 300*time.Millisecond
		e := mustNew(t, o)
		l := campaignOrFail(t, e, 2)
		y := &txTest{o: o, e: e, l: l, pool: x.pool, effects: x.effects}
		ctx := y.claimed(t, "slow", tick)
		err := e.RunTx(ctx, x.pool, y.insertThen(func() error {
			time.Sleep(o.TTL + 500*time.Millisecond) // idle in the transaction
			return nil
		}))
		if err == nil {
			t.Fatal("a transaction idle for more than a TTL committed")
		}
		t.Logf("RunTx after idling past the TTL: %v", err)
	})
}

// TxJob makes a job whose effect is exactly once: AtLeastOnce, run
// through RunTx. Its first tick in a Scheduler commits the effect and the
// completion together.
func TestTxJobRunsThroughRunTx(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	x := newTxTest(t, o)
	if err := x.l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := mustNew(t, o)
	j := e.TxJob(solocron.Job{Name: "effect", Spec: "* * * * * *"}, x.pool, x.insert)
	if !j.AtLeastOnce || j.Run == nil {
		t.Fatalf("TxJob returned %+v: want AtLeastOnce and a Run", j)
	}
	startScheduler(t, solocron.Options{Elector: e, Seconds: true}, j)
	if !waitFor(5*time.Second, func() bool { return x.count(t) > 0 }) {
		t.Fatal("no effect within 5s")
	}
	var tick time.Time
	if err := x.pool.QueryRow(context.Background(), `SELECT min(tick) FROM `+x.effects).Scan(&tick); err != nil {
		t.Fatal(err)
	}
	var completed time.Time
	err := x.pool.QueryRow(context.Background(), `SELECT completed FROM `+newTables(o).ledger+` WHERE app = $1 AND job = 'effect'`, o.App).Scan(&completed)
	if err != nil || completed.Before(tick) {
		t.Fatalf("ledger completed %v (%v), want at least the effect's tick %v", completed, err, tick)
	}
}
