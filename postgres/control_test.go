package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tableExists reads whether the table (quoted, qualified) exists.
func tableExists(t *testing.T, o Options, table string) bool {
	t.Helper()
	n := queryInt64(t, o.URL, `SELECT count(*) FROM (SELECT to_regclass($1) AS c) r WHERE c IS NOT NULL`, table)
	return *n == 1
}

// Any process steers the jobs and reads the ledger, whether anybody leads
// or not, each call from an Elector of its own (a CLI): before any
// process campaigned (only the control table is then made: a ledger made
// by a reader would be new under a leader unawares), and after a leader
// came and went.
func TestControlWithoutALeader(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	tb := newTables(o)
	ctx := ctxFor(t)
	if r, err := mustNew(t, o).Observe(ctx); err != nil || len(r) != 0 {
		t.Fatalf("Observe of a database without the tables = %v, %v; want nothing", r, err)
	}
	if c, err := mustNew(t, o).Control(ctx); err != nil || len(c) != 0 {
		t.Fatalf("Control of a database without the tables = %v, %v; want nothing", c, err)
	}
	if err := mustNew(t, o).SetPaused(ctx, "a", true); err != nil {
		t.Fatalf("SetPaused before any campaign: %v", err)
	}
	if err := mustNew(t, o).RequestRun(ctx, "b"); err != nil {
		t.Fatalf("RequestRun before any campaign: %v", err)
	}
	c, err := mustNew(t, o).Control(ctx)
	if err != nil || len(c) != 2 || !c["a"].Paused || !c["a"].Requested.IsZero() || c["b"].Paused || c["b"].Requested.IsZero() {
		t.Fatalf("Control = %v, %v; want a paused, b requested", c, err)
	}
	if tableExists(t, o, tb.lease) || tableExists(t, o, tb.ledger) {
		t.Fatal("a control write created the lease or the ledger table: only campaigns may")
	}

	l := campaignOrFail(t, mustNew(t, o), 1)
	claim := func(job string) {
		if ok, err := l.Claim(ctx, []solocron.Claim{{Job: job, Tick: oldTick}}); err != nil || !ok[0] {
			t.Fatalf("Claim(%q) = %v, %v", job, ok, err)
		}
	}
	claim("a")
	claim("a\x1fmanual") // the core's pseudo-record of a manual run: observed as stored
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "a", Tick: oldTick, Ran: true, Duration: 3 * time.Millisecond, Error: "disk full"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := mustNew(t, o).Observe(ctx)
	if err != nil || len(r) != 3 {
		t.Fatalf("Observe while nobody leads = %v, %v; want a, a\\x1fmanual and b", r, err)
	}
	if a := r["a"]; !a.Paused || !a.Finished.Equal(oldTick) || a.Duration != 3*time.Millisecond || a.Error != "disk full" {
		t.Fatalf("Observe shows a as %+v", a)
	}
	if m := r["a\x1fmanual"]; !m.Claimed.Equal(oldTick) {
		t.Fatalf("Observe shows the manual run's record as %+v", m)
	}
	if b := r["b"]; b.Requested.IsZero() || !b.Claimed.IsZero() {
		t.Fatalf("Observe shows b as %+v, want requested and no record", b)
	}
	if err := mustNew(t, o).SetPaused(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	if c, err := mustNew(t, o).Control(ctx); err != nil || len(c) != 1 || c["a"].Paused {
		t.Fatalf("Control after a resume while nobody leads = %v, %v; want only b", c, err)
	}
}

// A control table dropped under a leader reads as empty (the pauses and
// requests are gone, as a dropped ledger's records are); the ledger goes
// on, the next control write recreates the table, and so does the next
// campaign.
func TestDroppedControlTable(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	tb := newTables(o)
	ctx := ctxFor(t)
	e := mustNew(t, o)
	l := campaignOrFail(t, e, 1)
	claimGranted(t, l, oldTick)
	if err := e.SetPaused(ctx, "job", true); err != nil {
		t.Fatal(err)
	}
	if c, err := e.Control(ctx); err != nil || !c["job"].Paused { // the statements are prepared now
		t.Fatalf("Control = %v, %v", c, err)
	}
	sqlExec(t, o.URL, `DROP TABLE `+tb.control)

	if c, err := e.Control(ctx); err != nil || len(c) != 0 {
		t.Fatalf("Control without the control table = %v, %v; want nothing and no error", c, err)
	}
	r, err := e.Observe(ctx)
	if err != nil || len(r) != 1 || !r["job"].Claimed.Equal(oldTick) || r["job"].Paused {
		t.Fatalf("Observe without the control table = %v, %v; want the ledger's record, not paused", r, err)
	}
	claimGranted(t, l, oldTick.Add(time.Minute))
	if err := mustNew(t, o).RequestRun(ctx, "job"); err != nil {
		t.Fatalf("RequestRun without the control table: %v", err)
	}
	if c, err := e.Control(ctx); err != nil || c["job"].Requested.IsZero() || c["job"].Paused {
		t.Fatalf("Control after the table was recreated = %v, %v; want job requested", c, err)
	}

	sqlExec(t, o.URL, `DROP TABLE `+tb.control)
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	campaignOrFail(t, mustNew(t, o), 2)
	if !tableExists(t, o, tb.control) {
		t.Fatal("a campaign did not recreate the control table")
	}
}

// Apps that share the tables do not see each other's control state or
// records.
func TestControlIsPerApp(t *testing.T) {
	t.Parallel()
	oa := testOptions(t)
	ob := oa
	ob.App = oa.App + "-other"
	ctx := ctxFor(t)
	ea, eb := mustNew(t, oa), mustNew(t, ob)
	if err := ea.SetPaused(ctx, "job", true); err != nil {
		t.Fatal(err)
	}
	if err := eb.RequestRun(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	claimGranted(t, campaignOrFail(t, ea, 1), oldTick) // a's record of job
	if err := eb.SetPaused(ctx, "other", true); err != nil {
		t.Fatal(err)
	}
	if err := eb.SetPaused(ctx, "job", false); err != nil {
		t.Fatal(err)
	}

	if c, err := ea.Control(ctx); err != nil || len(c) != 1 || !c["job"].Paused || !c["job"].Requested.IsZero() {
		t.Fatalf("app a's Control = %v, %v; want job paused, no request", c, err)
	}
	if c, err := eb.Control(ctx); err != nil || len(c) != 2 || c["job"].Paused || c["job"].Requested.IsZero() || !c["other"].Paused {
		t.Fatalf("app b's Control = %v, %v; want job requested, other paused", c, err)
	}
	ra, err := ea.Observe(ctx)
	if err != nil || len(ra) != 1 || !ra["job"].Claimed.Equal(oldTick) || !ra["job"].Paused {
		t.Fatalf("app a's Observe = %v, %v", ra, err)
	}
	rb, err := eb.Observe(ctx)
	if err != nil || len(rb) != 2 || !rb["job"].Claimed.IsZero() || rb["job"].Requested.IsZero() {
		t.Fatalf("app b's Observe = %v, %v; want job with no record, requested, and other", rb, err)
	}
}

// Names no job can have are refused with an error that says so, before
// any round trip; the ledger's term marker cannot be steered.
func TestControlRefusesInvalidJobNames(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	e := mustNew(t, o)
	ctx := ctxFor(t)
	for _, name := range []string{"", markerName, "a\x00b", "\xff"} {
		if err := e.SetPaused(ctx, name, true); err == nil || !strings.Contains(err.Error(), "job name") {
			t.Errorf("SetPaused(%q) = %v, want an error about the job name", name, err)
		}
		if err := e.RequestRun(ctx, name); err == nil || !strings.Contains(err.Error(), "job name") {
			t.Errorf("RequestRun(%q) = %v, want an error about the job name", name, err)
		}
	}
	if r, err := e.Observe(ctx); err != nil || len(r) != 0 {
		t.Fatalf("Observe = %v, %v; want nothing", r, err)
	}
}

// The leader's poll each second costs one round trip on a kept
// connection, not a connection, and so does Observe; a kept connection
// that died is replaced within the call.
func TestControlKeepsItsConnection(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	p, po := proxied(t, o)
	e := mustNew(t, po)
	ctx := ctxFor(t)
	if err := e.SetPaused(ctx, "job", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Control(ctx); err != nil { // prepares the statement
		t.Fatal(err)
	}
	turns, conns := p.turns.Load(), p.accepted.Load()
	const polls = 5
	for range polls {
		if c, err := e.Control(ctx); err != nil || !c["job"].Paused {
			t.Fatalf("Control = %v, %v", c, err)
		}
	}
	if got := p.turns.Load() - turns; got != polls {
		t.Errorf("%d polls took %d round trips, want %d", polls, got, polls)
	}
	if got := p.accepted.Load() - conns; got != 0 {
		t.Errorf("%d polls opened %d connections, want none", polls, got)
	}
	// The ledger, as in a running application; then the first Observe
	// prepares the statement.
	claimGranted(t, campaignOrFail(t, mustNew(t, o), 1), oldTick)
	if _, err := e.Observe(ctx); err != nil {
		t.Fatal(err)
	}
	turns = p.turns.Load()
	if r, err := e.Observe(ctx); err != nil || !r["job"].Paused {
		t.Fatalf("Observe = %v, %v", r, err)
	}
	if got := p.turns.Load() - turns; got != 1 {
		t.Errorf("Observe took %d round trips, want 1", got)
	}

	p.reset() // the network drops the kept connection
	if c, err := e.Control(ctx); err != nil || !c["job"].Paused {
		t.Fatalf("Control after the kept connection was reset = %v, %v; want it to reconnect", c, err)
	}
	// The server ends it (a restart, pg_terminate_backend): even a
	// request, which is not repeated once it may have run, goes through.
	conn := e.spare.take()
	var pid int32
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	e.spare.put(conn)
	sqlExec(t, o.URL, `SELECT pg_terminate_backend($1, 5000)`, pid)
	if err := e.RequestRun(ctx, "job"); err != nil {
		t.Fatalf("RequestRun after the kept connection was terminated: %v", err)
	}
	if c, err := e.Control(ctx); err != nil || c["job"].Requested.IsZero() {
		t.Fatalf("Control = %v, %v; want job requested", c, err)
	}
}

// The kept connection is closed once idle, unless a later call kept it
// again.
func TestSpareConnectionExpires(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	e := mustNew(t, o)
	ctx := ctxFor(t)
	if _, err := e.Control(ctx); err != nil {
		t.Fatal(err)
	}
	first := e.spare.take()
	e.spare.put(first)
	gen := e.spare.gen
	e.spare.expire(gen - 1) // the timer of an earlier put
	if first.IsClosed() || e.spare.conn != first {
		t.Fatal("the timer of an earlier use closed the kept connection")
	}
	e.spare.expire(gen)
	if !first.IsClosed() || e.spare.conn != nil {
		t.Fatal("the idle connection was not closed")
	}
	if _, err := e.Control(ctx); err != nil {
		t.Fatalf("Control after the idle connection was closed: %v", err)
	}
	if c := e.spare.take(); c == nil || c == first {
		t.Fatal("no new connection was kept")
	}
}

// BenchmarkControl measures the leader's poll of the control state: on
// the kept connection, and as it would cost with a new connection each
// time.
func BenchmarkControl(b *testing.B) {
	o := testOptions(b)
	e := mustNew(b, o)
	ctx := context.Background()
	for _, job := range []string{"a", "b", "c"} {
		if err := e.SetPaused(ctx, job, true); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("kept", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.Control(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("connecting", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.Control(ctx); err != nil {
				b.Fatal(err)
			}
			closeQuietly(e.spare.take())
		}
	})
}
