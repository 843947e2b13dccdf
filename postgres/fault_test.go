package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
)

// faultOptions has a short TTL so that a lease runs out within the test.
func faultOptions(t *testing.T) Options {
	o := testOptions(t)
	o.TTL = 2 * time.Second // Margin 400ms, RenewInterval 666ms
	return o
}

func campaignOrFail(t *testing.T, e *Elector, pid int) solocron.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := e.Campaign(ctx, solocron.Candidate{PID: pid, Hostname: "test"})
	if err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	return l
}

// standby campaigns in the background; the result arrives with the time
// it took over.
type takeover struct {
	lease solocron.Lease
	err   error
	at    time.Time
}

func standby(t *testing.T, e *Elector, pid int, timeout time.Duration) <-chan takeover {
	got := make(chan takeover, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		l, err := e.Campaign(ctx, solocron.Candidate{PID: pid, Hostname: "standby"})
		got <- takeover{lease: l, err: err, at: time.Now()}
	}()
	return got
}

func waitTakeover(t *testing.T, got <-chan takeover) takeover {
	t.Helper()
	tk := <-got
	if tk.err != nil {
		t.Fatalf("standby Campaign: %v", tk.err)
	}
	t.Cleanup(func() { _ = tk.lease.Release(context.Background()) })
	return tk
}

// dbDeadline reads the lease row's deadline (the database's clock, the
// same host's clock in these tests).
func dbDeadline(t *testing.T, o Options) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	var d time.Time
	if err := c.QueryRow(ctx, `SELECT deadline FROM `+newTables(o).lease+` WHERE app = $1`, o.App).Scan(&d); err != nil {
		t.Fatalf("read deadline: %v", err)
	}
	return d
}

func claimRefused(t *testing.T, l solocron.Lease, tick time.Time) {
	t.Helper()
	ok, err := l.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: tick}})
	if !errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("claim by the old lease: got %v, %v; want ErrNotLeader", ok, err)
	}
}

func claimGranted(t *testing.T, l solocron.Lease, tick time.Time) {
	t.Helper()
	ok, err := l.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: tick}})
	if err != nil || len(ok) != 1 || !ok[0] {
		t.Fatalf("claim by the leader: got %v, %v; want granted", ok, err)
	}
}

func proxied(t *testing.T, o Options) (*proxy, Options) {
	u, err := url.Parse(o.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	po := o
	po.URL = p.via(t, o.URL)
	return p, po
}

// A partition keeps the leader's server-side session (and its advisory
// lock) alive: the leader must stop before its lease row's deadline, and
// the standby take over only after it.
func TestPartitionedLeaderStopsBeforeItsLeaseEnds(t *testing.T) {
	t.Parallel()
	o := faultOptions(t)
	p, po := proxied(t, o)
	la := campaignOrFail(t, mustNew(t, po), 1)
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	claimGranted(t, la, tick)
	got := standby(t, mustNew(t, o), 2, 20*time.Second)
	time.Sleep(100 * time.Millisecond)

	p.partition()
	cut := time.Now()
	deadline := dbDeadline(t, o) // no renewal gets through any more
	var lostAt time.Time
	select {
	case <-la.Lost():
		lostAt = time.Now()
	case <-time.After(5 * time.Second):
		t.Fatal("the partitioned leader did not notice within 5s")
	}
	if !lostAt.Before(deadline) {
		t.Fatalf("Lost at %v, not before the lease row's deadline %v", lostAt, deadline)
	}
	if !errors.Is(la.Err(), solocron.ErrNotLeader) {
		t.Fatalf("Err() = %v, want ErrNotLeader", la.Err())
	}
	tk := waitTakeover(t, got)
	if !tk.at.After(deadline) {
		t.Fatalf("standby took over at %v, before the old lease's deadline %v", tk.at, deadline)
	}
	if tk.lease.Term() <= la.Term() {
		t.Fatalf("term %d after takeover, want > %d", tk.lease.Term(), la.Term())
	}
	claimRefused(t, la, tick.Add(time.Minute))
	claimGranted(t, tk.lease, tick.Add(time.Minute))
	t.Logf("cut at 0; leader stopped at %v; lease row deadline %v; standby led at %v",
		lostAt.Sub(cut), deadline.Sub(cut), tk.at.Sub(cut))
}

// A reset ends the session on both sides: the leader hears it at once.
func TestResetLeaderConnection(t *testing.T) {
	t.Parallel()
	o := faultOptions(t)
	p, po := proxied(t, o)
	la := campaignOrFail(t, mustNew(t, po), 1)
	got := standby(t, mustNew(t, o), 2, 20*time.Second)
	time.Sleep(100 * time.Millisecond)

	cut := time.Now()
	p.reset()
	var lostAt time.Time
	select {
	case <-la.Lost():
		lostAt = time.Now()
	case <-time.After(time.Second):
		t.Fatal("the leader did not notice a reset connection within 1s")
	}
	tk := waitTakeover(t, got)
	if tk.lease.Term() <= la.Term() {
		t.Fatalf("term %d after takeover, want > %d", tk.lease.Term(), la.Term())
	}
	claimRefused(t, la, time.Now())
	t.Logf("reset at 0; leader stopped at %v; standby led at %v", lostAt.Sub(cut), tk.at.Sub(cut))
}

// pg_terminate_backend of the leader's session: Lost within 1s, and the
// lock moves on.
func TestTerminatedSession(t *testing.T) {
	t.Parallel()
	o := faultOptions(t)
	la := campaignOrFail(t, mustNew(t, o), 1)
	got := standby(t, mustNew(t, o), 2, 20*time.Second)
	time.Sleep(100 * time.Millisecond)

	sqlExec(t, o.URL, `SELECT pg_terminate_backend(backend) FROM `+newTables(o).lease+` WHERE app = $1`, o.App)
	cut := time.Now()
	select {
	case <-la.Lost():
	case <-time.After(time.Second):
		t.Fatal("the leader did not notice its session was terminated within 1s")
	}
	lostAt := time.Now()
	tk := waitTakeover(t, got)
	if tk.lease.Term() <= la.Term() {
		t.Fatalf("term %d after takeover, want > %d", tk.lease.Term(), la.Term())
	}
	claimRefused(t, la, time.Now())
	t.Logf("terminated at 0; leader stopped at %v (%v); standby led at %v", lostAt.Sub(cut), la.Err(), tk.at.Sub(cut))
}

// The ledger statements check the term on the server, whatever the
// process believes: a term bumped behind its back claims nothing.
func TestClaimOfAnOldTermIsRefusedByTheServer(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	la := campaignOrFail(t, mustNew(t, o), 1)
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	claimGranted(t, la, tick)
	sqlExec(t, o.URL, `UPDATE `+newTables(o).lease+` SET term = term + 1 WHERE app = $1`, o.App)
	claimRefused(t, la, tick.Add(time.Minute))
	select {
	case <-la.Lost():
	default:
		t.Fatal("a refused claim did not end the term")
	}
	// Nothing was granted.
	var claimed time.Time
	ctx := context.Background()
	c, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, `SELECT claimed FROM `+newTables(o).ledger+` WHERE app = $1 AND job = 'job'`, o.App).Scan(&claimed); err != nil {
		t.Fatal(err)
	}
	if !claimed.Equal(tick) {
		t.Fatalf("ledger claimed = %v after a refused claim, want %v", claimed, tick)
	}
}

// A standby whose role may not end the stale session of a partitioned
// leader says so, rather than waiting in silence.
func TestStandbyWithoutSignalRightSaysSo(t *testing.T) {
	t.Parallel()
	o := faultOptions(t)
	p, po := proxied(t, o)
	campaignOrFail(t, mustNew(t, po), 1) // as a superuser
	role := "solocron_nosignal_" + o.LeaseTable[len("lease_"):]
	tb := newTables(o)
	sqlExec(t, o.URL, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() {
		sqlExec(t, o.URL, `DROP OWNED BY `+role)
		sqlExec(t, o.URL, `DROP ROLE `+role)
	})
	sqlExec(t, o.URL, `GRANT USAGE ON SCHEMA `+tb.schema+` TO `+role)
	sqlExec(t, o.URL, `GRANT SELECT, INSERT, UPDATE ON `+tb.lease+`, `+tb.ledger+` TO `+role)
	u, err := url.Parse(o.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	so := o
	so.URL = u.String()

	p.partition()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := mustNew(t, so).Campaign(ctx, solocron.Candidate{PID: 2, Hostname: "standby"})
	if err == nil {
		_ = l.Release(ctx)
		t.Fatal("a standby without the right to end the stale session took over")
	}
	if !strings.Contains(err.Error(), "pg_signal_backend") {
		t.Fatalf("Campaign: %v; want an error naming the missing right", err)
	}
	t.Logf("Campaign: %v", err)
}

// A session that took the lock but never wrote the row (a process frozen
// between the two) is ended once it has been idle for a TTL; one that has
// just taken the lock is left alone.
func TestLockHolderThatNeverWroteTheRow(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.TTL = time.Second
	// A lease row released long ago.
	l := campaignOrFail(t, mustNew(t, o), 1)
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	sqlExec(t, o.URL, `UPDATE `+newTables(o).lease+` SET deadline = now() - interval '1 hour' WHERE app = $1`, o.App)
	ctx := context.Background()
	x, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close(ctx)
	if _, err := x.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey(o)); err != nil {
		t.Fatal(err)
	}
	locked := time.Now()
	got := standby(t, mustNew(t, o), 2, 5*time.Second)
	time.Sleep(300 * time.Millisecond) // X idle for less than a TTL
	if err := x.Ping(ctx); err != nil {
		t.Fatalf("a session that had just taken the lock was ended: %v", err)
	}
	tk := waitTakeover(t, got) // once X has been idle for a TTL
	if x.Ping(ctx) == nil {
		t.Fatal("the standby leads while the idle lock holder's session lives")
	}
	t.Logf("standby led %v after the stale session took the lock (TTL %v)", tk.at.Sub(locked), o.TTL)
}
