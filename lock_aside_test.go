package solocron

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// A corrupt ledger keeps every process from leading; MoveLedgerAside
// moves it out of the way, keeping its bytes, and the next leader starts
// a new ledger that it knows is stale, so it runs no missed tick.
func TestMoveLedgerAsideLetsTheNextLeaderStartAfresh(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick})
	mustRelease(t, l)
	corruptLedger(t, f.ledgerPath)
	damaged, err := os.ReadFile(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := f.Campaign(ctx, Candidate{PID: os.Getpid()}); !errors.Is(err, ErrLedgerCorrupt) {
		t.Fatalf("Campaign on a corrupt ledger: %v, want ErrLedgerCorrupt", err)
	}

	cli, err := NewFileLock(FileLockOptions{Path: f.Path()})
	if err != nil {
		t.Fatal(err)
	}
	aside, err := cli.MoveLedgerAside(ctx)
	if err != nil {
		t.Fatalf("MoveLedgerAside: %v", err)
	}
	if !strings.HasPrefix(aside, f.ledgerPath+".corrupt-") {
		t.Fatalf("moved to %s", aside)
	}
	if kept, err := os.ReadFile(aside); err != nil || string(kept) != string(damaged) {
		t.Fatalf("the ledger moved aside holds %q (%v), want its damaged bytes", kept, err)
	}
	next := leadLedger(t, f)
	if next.LedgerStale() == nil {
		t.Fatal("the new ledger is not known to be stale: the next leader would trust it")
	}
	if recs := allRecords(t, next); len(recs) != 0 {
		t.Fatalf("the new ledger holds %v", recs)
	}
	mustRelease(t, next)
	if err := os.Remove(f.ledgerPath); err != nil {
		t.Fatal(err)
	}
	if aside, err := cli.MoveLedgerAside(ctx); err == nil || !strings.Contains(err.Error(), "no ledger") {
		t.Fatalf("MoveLedgerAside without a ledger: %q, %v", aside, err)
	}
	if _, err := os.Lstat(f.ledgerPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("MoveLedgerAside made a ledger: %v", err)
	}
}

// MoveLedgerAside moves nothing while the ledger can be read, or while a
// process holds the lock.
func TestMoveLedgerAsideRefuses(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick})
	other, err := NewFileLock(FileLockOptions{Path: f.Path()})
	if err != nil {
		t.Fatal(err)
	}
	corruptLedger(t, f.ledgerPath) // under a leader, which holds the lock
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if aside, err := other.MoveLedgerAside(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("MoveLedgerAside while a process leads: %q, %v", aside, err)
	}
	if _, err := os.Stat(f.ledgerPath); err != nil {
		t.Fatalf("the ledger was touched: %v", err)
	}
	mustRelease(t, l)

	g := ledgerLock(t, false)
	mustRelease(t, leadLedger(t, g))
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if aside, err := g.MoveLedgerAside(ctx); err == nil || !strings.Contains(err.Error(), "can be read") {
		t.Fatalf("MoveLedgerAside of a readable ledger: %q, %v", aside, err)
	}
	if _, err := os.Stat(g.ledgerPath); err != nil {
		t.Fatalf("a readable ledger was moved: %v", err)
	}
}

// corruptLedger breaks the first record's checksum, with valid records
// after it: the ledger is corrupt, not torn.
func corruptLedger(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("zzzz"), 0); err != nil {
		t.Fatal(err)
	}
}
