package postgres

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// waitForWaiter returns once n sessions wait for the App's advisory lock,
// so that a measurement starts with the standby really blocked.
func waitForWaiter(t *testing.T, o Options, n int) {
	t.Helper()
	for start := time.Now(); waiters(t, o) < n; time.Sleep(2 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%d sessions did not wait for the lock within 10s", n)
		}
	}
}

// waiters counts the sessions waiting for the App's advisory lock.
func waiters(t *testing.T, o Options) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	classid, objid := lockID(lockKey(o))
	var n int
	err = c.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
		AND classid = $1::oid AND objid = $2::oid AND objsubid = 1`, classid, objid).Scan(&n)
	if err != nil {
		t.Fatalf("counting lock waiters: %v", err)
	}
	return n
}

// In the spirit of ShedLock's fuzz test: processes increment a shared
// counter by read, sleep, write, only while leading; leadership changes
// hands hundreds of times. A lost increment means two leaders at once.
func TestContendingProcessesNeverOverlap(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	const procs, rounds = 8, 25
	path := filepath.Join(t.TempDir(), "counter")
	if err := os.WriteFile(path, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	children := make([]*child, procs)
	for i := range children {
		children[i] = startChild(t, "counter", o, counterPathEnv+"="+path, roundsEnv+"="+strconv.Itoa(rounds))
	}
	done, refused := 0, 0
	for _, c := range children {
		f := strings.Fields(c.expect(t, "done", 120*time.Second))
		d, _ := strconv.Atoi(f[0])
		r, _ := strconv.Atoi(f[1])
		done, refused = done+d, refused+r
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(done) {
		t.Fatalf("counter = %s, but %d increments were made: two processes led at once", got, done)
	}
	if done+refused != procs*rounds {
		t.Fatalf("%d increments and %d refusals, want %d rounds in all", done, refused, procs*rounds)
	}
	t.Logf("%d processes x %d terms: counter %d, %d claims refused", procs, rounds, done, refused)
}

// Takeover latency after SIGKILL of the leader, with a standby blocked in
// pg_advisory_lock. Only a generous bound is asserted; the figures are
// logged (go test -run TakeoverAfterSIGKILL -v). SOLOCRON_PG_KILLS sets
// the number of kills, 20 by default.
func TestTakeoverAfterSIGKILL(t *testing.T) {
	o := testOptions(t)
	kills := 20
	if n, err := strconv.Atoi(os.Getenv("SOLOCRON_PG_KILLS")); err == nil && n > 0 {
		kills = n
	}
	var took []time.Duration
	e := mustNew(t, o)
	for i := range kills {
		c := startChild(t, "lead", o)
		c.expect(t, "leading", 15*time.Second)
		got := standby(t, e, 2, 30*time.Second)
		waitForWaiter(t, o, 1)
		killed := time.Now()
		if err := c.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		tk := <-got
		if tk.err != nil {
			t.Fatalf("kill %d: standby Campaign: %v", i, tk.err)
		}
		d := tk.at.Sub(killed)
		if d > 5*time.Second {
			t.Fatalf("kill %d: standby took %v to take over", i, d)
		}
		took = append(took, d)
		if err := tk.lease.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		_ = c.cmd.Wait()
	}
	slices.Sort(took)
	q := func(p float64) time.Duration { return took[int(p*float64(len(took)-1)+0.5)] }
	t.Logf("takeover after SIGKILL over %d kills: p50 %v, p90 %v, p99 %v, max %v",
		len(took), q(0.5), q(0.9), q(0.99), took[len(took)-1])
}
