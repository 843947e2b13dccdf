package postgres

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
)

// The leader renews while it leads: a lease outlives its TTL many times.
func TestLeaseIsRenewed(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.TTL = time.Second // Margin 200ms, RenewInterval 333ms
	l := campaignOrFail(t, mustNew(t, o), 1)
	select {
	case <-l.Lost():
		t.Fatalf("lost a renewed lease: %v", l.Err())
	case <-time.After(3500 * time.Millisecond):
	}
	if d := time.Until(dbDeadline(t, o)); d < 300*time.Millisecond {
		t.Fatalf("the lease row ends in %v: not renewed", d)
	}
	claimGranted(t, l, time.Now())
}

// Holder shows the leader, and nobody once the leader's session is gone,
// although its row's deadline is still in the future.
func TestHolderIgnoresADeadSession(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	e := mustNew(t, o)
	c := startChild(t, "lead", o)
	c.expect(t, "leading", 15*time.Second)
	h, err := e.Holder(context.Background())
	if err != nil || h.PID != c.cmd.Process.Pid || h.Hostname != "child" || h.Term == 0 {
		t.Fatalf("Holder = %+v, %v; want the child, pid %d", h, err, c.cmd.Process.Pid)
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	if d := time.Until(dbDeadline(t, o)); d < 5*time.Second {
		t.Fatalf("the dead leader's row ends in %v; the test needs it in the future", d)
	}
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		_, err := e.Holder(context.Background())
		if errors.Is(err, solocron.ErrNoHolder) {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("Holder 2s after the leader was killed: %v, want ErrNoHolder", err)
		}
	}
}

// Holder reads; it never creates the tables (a new ledger made under a
// leader would take its claims unawares): without them nobody leads.
func TestHolderCreatesNoTable(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	if _, err := mustNew(t, o).Holder(context.Background()); !errors.Is(err, solocron.ErrNoHolder) {
		t.Fatalf("Holder without tables: %v, want ErrNoHolder", err)
	}
	if n := queryInt64(t, o.URL, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, o.Schema); *n != 0 {
		t.Fatal("Holder created the schema")
	}
	campaignOrFail(t, mustNew(t, o), 1)
	sqlExec(t, o.URL, `DROP TABLE `+newTables(o).ledger)
	if _, err := mustNew(t, o).Holder(context.Background()); err != nil {
		t.Fatalf("Holder: %v", err)
	}
	if n := queryInt64(t, o.URL, `SELECT count(*) FROM pg_class WHERE oid = to_regclass($1)`, newTables(o).ledger); *n != 0 {
		t.Fatal("Holder recreated the ledger")
	}
}

// A cancelled Campaign leaves no session waiting for the lock on the
// server (it would be granted the lock with nobody to use it).
func TestCancelledCampaignLeavesNoWaiter(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	campaignOrFail(t, mustNew(t, o), 1)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := mustNew(t, o).Campaign(ctx, solocron.Candidate{PID: 2, Hostname: "b"})
		got <- err
	}()
	waitForWaiter(t, o, 1)
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("Campaign: %v, want context.Canceled", err)
	}
	for start := time.Now(); waiters(t, o) > 0; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 2*time.Second {
			t.Fatal("a cancelled Campaign still waits for the lock on the server after 2s")
		}
	}
}

// A claim whose caller gives up is cancelled on the server; the session,
// and with it leadership, survives.
func TestCancelledClaimKeepsLeadership(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	l := campaignOrFail(t, mustNew(t, o), 1)
	ctx := context.Background()
	// Another session locks the lease row, so the claim waits.
	c, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+newTables(o).lease+` WHERE app = $1 FOR UPDATE`, o.App); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = l.Claim(cctx, []solocron.Claim{{Job: "job", Tick: tick}})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("Claim with an expired context: %v, want DeadlineExceeded", err)
	}
	_ = tx.Rollback(ctx)
	select {
	case <-l.Lost():
		t.Fatalf("a cancelled claim ended the term: %v", l.Err())
	case <-time.After(200 * time.Millisecond):
	}
	claimGranted(t, l, tick)
}

// Timeouts set for ordinary sessions do not end a standby's wait or an
// idle leader's session.
func TestSessionTimeoutsDoNotApply(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.URL += "&options=" + url.QueryEscape("-c statement_timeout=200 -c idle_session_timeout=300")
	o.TTL = 2 * time.Second
	l := campaignOrFail(t, mustNew(t, o), 1)
	got := standby(t, mustNew(t, o), 2, 3*time.Second)
	select {
	case <-l.Lost():
		t.Fatalf("an idle leader lost its session: %v", l.Err())
	case tk := <-got:
		t.Fatalf("standby Campaign returned while the leader led: %v", tk.err)
	case <-time.After(1500 * time.Millisecond):
	}
}
