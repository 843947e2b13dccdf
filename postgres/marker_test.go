package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
)

// queryInt64 reads one nullable bigint, as an operator would.
func queryInt64(t *testing.T, url, q string, args ...any) *int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v *int64
	if err := c.QueryRow(ctx, q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func marker(t *testing.T, o Options) *int64 {
	t.Helper()
	return queryInt64(t, o.URL, `SELECT max(term) FROM `+newTables(o).ledger+` WHERE app = $1 AND job = `+markerJob, o.App)
}

func show(v *int64) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(*v)
}

func campaignAndRelease(t *testing.T, o Options, pid int) solocron.Lease {
	t.Helper()
	l := campaignOrFail(t, mustNew(t, o), pid)
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

// A new term is the database's clock in microseconds, or the highest term
// still visible + 1 when that is greater: the lease row's, or, once the
// row is deleted, the ledger's term marker.
func TestTermIsAboveEveryTermStillVisible(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	tb := newTables(o)
	clock := func() int64 {
		return *queryInt64(t, o.URL, `SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`)
	}
	before := clock()
	la := campaignAndRelease(t, o, 1)
	if after := clock(); int64(la.Term()) < before || int64(la.Term()) > after {
		t.Fatalf("first term %d, want the database's clock in µs, between %d and %d", la.Term(), before, after)
	}

	// A lease row ahead of the marker: the term follows the row, and the
	// ledger is stale (its marker is behind) until the term claims.
	ahead := clock() + int64(24*time.Hour/time.Microsecond)
	sqlExec(t, o.URL, `UPDATE `+tb.lease+` SET term = $2 WHERE app = $1`, o.App, ahead)
	lb := campaignOrFail(t, mustNew(t, o), 2)
	if int64(lb.Term()) != ahead+1 {
		t.Fatalf("term %d after a lease row at term %d, want %d", lb.Term(), ahead, ahead+1)
	}
	if lb.LedgerStale() == nil {
		t.Fatal("a ledger whose marker is behind the lease row was not reported stale")
	}
	claimGranted(t, lb, time.Now())
	if err := lb.Release(context.Background()); err != nil {
		t.Fatal(err)
	}

	sqlExec(t, o.URL, `DELETE FROM `+tb.lease+` WHERE app = $1`, o.App)
	lc := campaignAndRelease(t, o, 3)
	if int64(lc.Term()) != ahead+2 {
		t.Fatalf("term %d after the lease row was deleted, want the ledger's marker %d + 1", lc.Term(), ahead+1)
	}
	if err := lc.LedgerStale(); err != nil {
		t.Fatalf("a deleted lease row made the surviving ledger stale: %v", err)
	}
}

// The term marker is a row of the ledger, but no ledger call sees it or
// changes it, whatever job name it is given.
func TestTermMarkerIsNoJob(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	l := campaignOrFail(t, mustNew(t, o), 1)
	ctx := context.Background()
	name := "\x1fterm"
	want := marker(t, o)
	if want == nil || uint64(*want) != l.Term() {
		t.Fatalf("term marker %s, want the term %d", show(want), l.Term())
	}
	if r, err := l.Records(ctx, []string{name, "job"}); err != nil || len(r) != 0 {
		t.Fatalf("Records = %v, %v; want no record", r, err)
	}
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	ok, err := l.Claim(ctx, []solocron.Claim{{Job: name, Tick: far}, {Job: "job", Tick: far}})
	if err != nil || ok[0] || !ok[1] {
		t.Fatalf("Claim = %v, %v; want the marker refused and the job granted", ok, err)
	}
	if err := l.Complete(ctx, []solocron.Outcome{{Job: name, Tick: far, Ran: true, Error: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Reset(ctx, name, far); err != nil {
		t.Fatal(err)
	}
	if r, err := l.Records(ctx, []string{name}); err != nil || len(r) != 0 {
		t.Fatalf("Records = %v, %v; want no record", r, err)
	}
	n := queryInt64(t, o.URL, `SELECT count(*) FROM `+newTables(o).ledger+` WHERE app = $1 AND job = `+markerJob+
		` AND term = $2 AND claimed < $3 AND finished IS NULL AND error IS NULL`, o.App, *want, far)
	if *n != 1 {
		t.Fatal("a ledger call changed the term marker")
	}
}

// A stale ledger stays stale until a term claims in it: a term that found
// it stale and claimed nothing leaves it so for the next. The error names
// the tables and both terms.
func TestStaleLedgerStaysStaleUntilAClaim(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	tb := newTables(o)
	la := campaignAndRelease(t, o, 1)
	sqlExec(t, o.URL, `DELETE FROM `+tb.ledger+` WHERE app = $1`, o.App) // as a restore of an empty backup would
	lb := campaignAndRelease(t, o, 2)
	err := lb.LedgerStale()
	if err == nil {
		t.Fatal("a ledger without the last term's marker was not reported stale")
	}
	for _, want := range []string{tb.ledgerName, tb.leaseName, "no term marker", fmt.Sprint(la.Term())} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("LedgerStale() = %v; want it to name %q", err, want)
		}
	}
	lc := campaignOrFail(t, mustNew(t, o), 3)
	if lc.LedgerStale() == nil {
		t.Fatal("the ledger was current again after a stale term that claimed nothing")
	}
	if !strings.Contains(lc.LedgerStale().Error(), fmt.Sprint(lb.Term())) {
		t.Fatalf("LedgerStale() = %v; want it to name the last term %d", lc.LedgerStale(), lb.Term())
	}
	claimGranted(t, lc, time.Now())
	if m := marker(t, o); m == nil || uint64(*m) != lc.Term() {
		t.Fatalf("term marker %s after the stale term claimed, want %d", show(m), lc.Term())
	}
	if err := lc.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ld := campaignAndRelease(t, o, 4); ld.LedgerStale() != nil {
		t.Fatalf("the ledger is still stale after a term claimed in it: %v", ld.LedgerStale())
	}
}
