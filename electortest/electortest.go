// Package electortest checks that a solocron.Elector keeps the promises a
// Scheduler relies on: one leader at a time, a term that grows, and a ledger
// fenced by that term. Every elector in this repository runs it; so can
// yours.
package electortest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// NewElector returns a new Elector on the shared store under test, as a
// different process would have it (its own connection or file handle).
// Every call within one Run sees the same store; the store starts empty.
type NewElector func(t *testing.T) solocron.Elector

// Run runs the conformance checks as subtests. Each subtest calls
// newElector for a fresh, empty store.
func Run(t *testing.T, newElector func(t *testing.T) NewElector) {
	t.Run("OneLeaderAtATime", func(t *testing.T) { oneLeaderAtATime(t, newElector(t)) })
	t.Run("HolderIsVisible", func(t *testing.T) { holderIsVisible(t, newElector(t)) })
	t.Run("ReleaseHandsOverWithHigherTerm", func(t *testing.T) { releaseHandsOver(t, newElector(t)) })
	t.Run("CampaignHonoursContext", func(t *testing.T) { campaignHonoursContext(t, newElector(t)) })
	t.Run("ClaimOnlyMovesForward", func(t *testing.T) { claimOnlyMovesForward(t, newElector(t)) })
	t.Run("RetryReclaimsUnfinishedTick", func(t *testing.T) { retryReclaims(t, newElector(t)) })
	t.Run("BatchClaims", func(t *testing.T) { batchClaims(t, newElector(t)) })
	t.Run("LedgerOutlivesTerm", func(t *testing.T) { ledgerOutlivesTerm(t, newElector(t)) })
	t.Run("OldTermIsFenced", func(t *testing.T) { oldTermIsFenced(t, newElector(t)) })
	t.Run("ResetMovesARecordBack", func(t *testing.T) { resetMovesBack(t, newElector(t)) })
	t.Run("HolderShowsIdentity", func(t *testing.T) { holderShowsIdentity(t, newElector(t)) })
	t.Run("FreshLedgerIsNotStale", func(t *testing.T) { freshLedgerIsNotStale(t, newElector(t)) })
	t.Run("OutcomesAreRecorded", func(t *testing.T) { outcomesAreRecorded(t, newElector(t)) })
	t.Run("ObserveFromAnyProcess", func(t *testing.T) { observeFromAnyProcess(t, newElector(t)) })
	t.Run("PauseFromAnyProcess", func(t *testing.T) { pauseFromAnyProcess(t, newElector(t)) })
	t.Run("RequestsOnlyGrow", func(t *testing.T) { requestsOnlyGrow(t, newElector(t)) })
}

// Store gives the state checks (RunState) the means to break the
// engine's store the way an operator's mistake, an attacker or a server
// restart would. Each function is called while nobody leads.
type Store struct {
	// New returns an Elector on the store, as NewElector does.
	New NewElector

	// DeleteAll deletes everything the engine keeps for the application
	// (files, rows, keys): a cleaned cache directory, a dropped table, a
	// Redis restart without persistence.
	DeleteAll func(t *testing.T)

	// BackupLedger copies the ledger as it is now and returns a function
	// that puts the copy back in its place (an operator restoring a
	// backup, or moving the ledger away and back).
	BackupLedger func(t *testing.T) (restore func(t *testing.T))
}

// RunState runs the checks that a term never goes back and a stale ledger
// is reported, whatever state was deleted or restored. Each subtest calls
// newStore for a fresh, empty store.
func RunState(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("TermGrowsAfterStateDeleted", func(t *testing.T) { termGrowsAfterDelete(t, newStore(t)) })
	t.Run("StaleLedgerIsReported", func(t *testing.T) { staleLedgerIsReported(t, newStore(t)) })
}

// tick is a fixed base so that records are easy to read in failures.
var tick = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func candidate(n int) solocron.Candidate {
	return solocron.Candidate{
		PID: os.Getpid()*10 + n, Hostname: fmt.Sprintf("host-%d", n),
		App: "example.com/billing/cmd/server", Jobs: fmt.Sprintf("jobs-%d", n),
	}
}

func campaign(t *testing.T, e solocron.Elector, n int) solocron.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := e.Campaign(ctx, candidate(n))
	if err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	return l
}

func release(t *testing.T, l solocron.Lease) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("second Release: %v", err)
	}
}

func claim(t *testing.T, l solocron.Lease, claims ...solocron.Claim) []bool {
	t.Helper()
	ok, err := l.Claim(context.Background(), claims)
	if err != nil {
		t.Fatalf("Claim(%v): %v", claims, err)
	}
	if len(ok) != len(claims) {
		t.Fatalf("Claim returned %d results for %d claims", len(ok), len(claims))
	}
	return ok
}

func records(t *testing.T, l solocron.Lease, jobs ...string) map[string]solocron.Record {
	t.Helper()
	r, err := l.Records(context.Background(), jobs)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	return r
}

func oneLeaderAtATime(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	campaign(t, a, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if l, err := b.Campaign(ctx, candidate(2)); err == nil {
		_ = l.Release(context.Background())
		t.Fatal("a second candidate was granted leadership while the first held it")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Campaign while another leads: got %v, want context.DeadlineExceeded", err)
	}
}

func holderIsVisible(t *testing.T, newElector NewElector) {
	a, observer := newElector(t), newElector(t)
	if _, err := observer.Holder(context.Background()); !errors.Is(err, solocron.ErrNoHolder) {
		t.Fatalf("Holder before anyone leads: got %v, want ErrNoHolder", err)
	}
	before := time.Now().Add(-time.Second)
	l := campaign(t, a, 1)
	h, err := observer.Holder(context.Background())
	if err != nil {
		t.Fatalf("Holder: %v", err)
	}
	want := candidate(1)
	if h.PID != want.PID || h.Hostname != want.Hostname || h.Term != l.Term() {
		t.Fatalf("Holder = %+v, want pid %d host %q term %d", h, want.PID, want.Hostname, l.Term())
	}
	if h.Since.Before(before) || h.Since.After(time.Now().Add(time.Second)) {
		t.Fatalf("Holder.Since = %v, want about now", h.Since)
	}
	release(t, l)
	if h, err := observer.Holder(context.Background()); !errors.Is(err, solocron.ErrNoHolder) {
		t.Fatalf("Holder after Release: got %+v, %v; want ErrNoHolder", h, err)
	}
}

func releaseHandsOver(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	la := campaign(t, a, 1)
	if la.Term() == 0 {
		t.Fatal("Term() is 0; terms start at 1")
	}
	got := make(chan solocron.Lease, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, err := b.Campaign(ctx, candidate(2))
		if err != nil {
			t.Errorf("standby Campaign: %v", err)
		}
		got <- l
	}()
	time.Sleep(50 * time.Millisecond) // let b start waiting
	release(t, la)
	select {
	case <-la.Lost():
		t.Fatal("Lost was closed by Release; it is for leadership lost, not given up")
	default:
	}
	lb := <-got
	if lb == nil {
		return
	}
	defer func() { _ = lb.Release(context.Background()) }()
	if lb.Term() <= la.Term() {
		t.Fatalf("term after handover = %d, want > %d", lb.Term(), la.Term())
	}
}

func campaignHonoursContext(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	campaign(t, a, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		l, err := b.Campaign(ctx, candidate(2))
		if err == nil {
			_ = l.Release(context.Background())
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Campaign after cancel: got %v, want context.Canceled", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Campaign did not return within 3s of its context being cancelled")
	}
}

func claimOnlyMovesForward(t *testing.T, newElector NewElector) {
	l := campaign(t, newElector(t), 1)
	if r := records(t, l, "job"); len(r) != 0 {
		t.Fatalf("Records of an empty ledger = %v, want none", r)
	}
	t1, t2 := tick, tick.Add(time.Minute)
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: t1}); !ok[0] {
		t.Fatal("first claim of a tick was refused")
	}
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: t1}); ok[0] {
		t.Fatal("the same tick was claimed twice")
	}
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: t1.Add(-time.Second)}); ok[0] {
		t.Fatal("an earlier tick was claimed after a later one")
	}
	// A claimed tick that completed cannot be retried either.
	if err := l.Complete(context.Background(), []solocron.Outcome{{Job: "job", Tick: t1}}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: t1, Retry: true}); ok[0] {
		t.Fatal("a completed tick was granted to a retry")
	}
	micro := t2.Add(123456 * time.Microsecond)
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: micro}); !ok[0] {
		t.Fatal("a later tick was refused")
	}
	r := records(t, l, "job", "other")
	if !r["job"].Claimed.Equal(micro) || !r["job"].Completed.Equal(t1) {
		t.Fatalf("record = %+v, want claimed %v completed %v", r["job"], micro, t1)
	}
	if _, ok := r["other"]; ok {
		t.Fatal("Records invented a record for a job never claimed")
	}
	// Completion never moves back.
	if err := l.Complete(context.Background(), []solocron.Outcome{{Job: "job", Tick: t1.Add(-time.Hour)}}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if r := records(t, l, "job"); !r["job"].Completed.Equal(t1) {
		t.Fatalf("completed moved back to %v", r["job"].Completed)
	}
}

func retryReclaims(t *testing.T, newElector NewElector) {
	l := campaign(t, newElector(t), 1)
	claim(t, l, solocron.Claim{Job: "job", Tick: tick})
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: tick}); ok[0] {
		t.Fatal("a claimed tick was granted again without Retry")
	}
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: tick, Retry: true}); !ok[0] {
		t.Fatal("Retry of a claimed, unfinished tick was refused")
	}
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: tick.Add(-time.Second), Retry: true}); ok[0] {
		t.Fatal("Retry granted a tick before the last claimed one")
	}
	if ok := claim(t, l, solocron.Claim{Job: "new", Tick: tick, Retry: true}); !ok[0] {
		t.Fatal("Retry of a tick of a job with no record was refused")
	}
}

func batchClaims(t *testing.T, newElector NewElector) {
	l := campaign(t, newElector(t), 1)
	const n = 2000
	claim(t, l, solocron.Claim{Job: "job-0", Tick: tick.Add(time.Hour)})
	batch := make([]solocron.Claim, n)
	names := make([]string, n)
	for i := range batch {
		names[i] = fmt.Sprintf("job-%d", i)
		batch[i] = solocron.Claim{Job: names[i], Tick: tick}
	}
	ok := claim(t, l, batch...)
	if ok[0] {
		t.Fatal("batch granted job-0 a tick before its last claimed one")
	}
	for i := 1; i < n; i++ {
		if !ok[i] {
			t.Fatalf("batch refused claim %d (%s)", i, names[i])
		}
	}
	// Claims naming one job twice in a batch apply in order.
	ok = claim(t, l,
		solocron.Claim{Job: "twice", Tick: tick}, solocron.Claim{Job: "twice", Tick: tick.Add(time.Second)},
		solocron.Claim{Job: "backwards", Tick: tick.Add(time.Second)}, solocron.Claim{Job: "backwards", Tick: tick})
	if !ok[0] || !ok[1] || !ok[2] || ok[3] {
		t.Fatalf("in-order claims of one job in a batch: got %v, want [true true true false]", ok)
	}
	if r := records(t, l, "twice"); !r["twice"].Claimed.Equal(tick.Add(time.Second)) {
		t.Fatalf("after two claims in a batch, claimed = %v, want the later tick", r["twice"].Claimed)
	}
	done := make([]solocron.Outcome, 0, n)
	for i := 1; i < n; i++ {
		done = append(done, solocron.Outcome{Job: batch[i].Job, Tick: batch[i].Tick})
	}
	if err := l.Complete(context.Background(), done); err != nil {
		t.Fatalf("Complete of a batch: %v", err)
	}
	r := records(t, l, names...)
	if len(r) != n {
		t.Fatalf("Records returned %d records, want %d", len(r), n)
	}
	if !r["job-0"].Claimed.Equal(tick.Add(time.Hour)) || !r["job-1999"].Completed.Equal(tick) {
		t.Fatalf("records after batch: job-0 %+v, job-1999 %+v", r["job-0"], r["job-1999"])
	}
}

func ledgerOutlivesTerm(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	la := campaign(t, a, 1)
	claim(t, la, solocron.Claim{Job: "job", Tick: tick}, solocron.Claim{Job: "done", Tick: tick})
	if err := la.Complete(context.Background(), []solocron.Outcome{{Job: "done", Tick: tick}}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	release(t, la)
	lb := campaign(t, b, 2)
	r := records(t, lb, "job", "done")
	if !r["job"].Claimed.Equal(tick) || !r["job"].Completed.IsZero() {
		t.Fatalf("next term sees job = %+v, want claimed %v and never completed", r["job"], tick)
	}
	if !r["done"].Completed.Equal(tick) {
		t.Fatalf("next term sees done = %+v, want completed %v", r["done"], tick)
	}
	if ok := claim(t, lb, solocron.Claim{Job: "job", Tick: tick}); ok[0] {
		t.Fatal("the next term claimed a tick the previous term had claimed")
	}
}

func oldTermIsFenced(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	la := campaign(t, a, 1)
	claim(t, la, solocron.Claim{Job: "job", Tick: tick})
	release(t, la)
	lb := campaign(t, b, 2)
	_, err := la.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: tick.Add(time.Minute)}})
	if !errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("Claim on a released lease: got %v, want ErrNotLeader", err)
	}
	if err := la.Complete(context.Background(), []solocron.Outcome{{Job: "job", Tick: tick}}); !errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("Complete on a released lease: got %v, want ErrNotLeader", err)
	}
	if ok := claim(t, lb, solocron.Claim{Job: "job", Tick: tick.Add(time.Minute)}); !ok[0] {
		t.Fatal("the new term could not claim the tick the old term was refused")
	}
}

func resetMovesBack(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	la := campaign(t, a, 1)
	ahead := tick.Add(365 * 24 * time.Hour)
	claim(t, la, solocron.Claim{Job: "job", Tick: ahead})
	if ok := claim(t, la, solocron.Claim{Job: "job", Tick: tick}); ok[0] {
		t.Fatal("a tick before a claimed one was granted")
	}
	if err := la.Reset(context.Background(), "job", tick); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if err := la.Reset(context.Background(), "unknown", tick); err != nil {
		t.Fatalf("Reset of a job with no record: %v", err)
	}
	r := records(t, la, "job", "unknown")
	for _, job := range []string{"job", "unknown"} {
		if !r[job].Claimed.Equal(tick) || !r[job].Completed.Equal(tick) {
			t.Fatalf("after Reset, %s = %+v; want claimed and completed %v", job, r[job], tick)
		}
	}
	if ok := claim(t, la, solocron.Claim{Job: "job", Tick: tick, Retry: true}); ok[0] {
		t.Fatal("the reset tick was granted again (Reset marks it completed)")
	}
	if ok := claim(t, la, solocron.Claim{Job: "job", Tick: tick.Add(time.Minute)}); !ok[0] {
		t.Fatal("a tick after the reset one was refused")
	}
	release(t, la)
	lb := campaign(t, b, 2)
	if r := records(t, lb, "job"); !r["job"].Claimed.Equal(tick.Add(time.Minute)) {
		t.Fatalf("the next term sees job = %+v, want claimed %v: Reset did not outlive its term", r["job"], tick.Add(time.Minute))
	}
	if err := la.Reset(context.Background(), "job", tick); !errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("Reset on a released lease: got %v, want ErrNotLeader", err)
	}
}

func holderShowsIdentity(t *testing.T, newElector NewElector) {
	a, observer := newElector(t), newElector(t)
	l := campaign(t, a, 1)
	h, err := observer.Holder(context.Background())
	if err != nil {
		t.Fatalf("Holder: %v", err)
	}
	if want := candidate(1); h.App != want.App || h.Jobs != want.Jobs {
		t.Fatalf("Holder shows app %q jobs %q, want %q and %q", h.App, h.Jobs, want.App, want.Jobs)
	}
	release(t, l)
}

func freshLedgerIsNotStale(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	la := campaign(t, a, 1)
	if err := la.LedgerStale(); err != nil {
		t.Fatalf("the first term on an empty store reports a stale ledger: %v", err)
	}
	claim(t, la, solocron.Claim{Job: "job", Tick: tick})
	release(t, la)
	lb := campaign(t, b, 2)
	if err := lb.LedgerStale(); err != nil {
		t.Fatalf("an ordinary handover reports a stale ledger: %v", err)
	}
}

func termGrowsAfterDelete(t *testing.T, s Store) {
	var last uint64
	for round := 1; round <= 3; round++ {
		l := campaign(t, s.New(t), round)
		if l.Term() <= last {
			t.Fatalf("round %d: term %d after all state was deleted, want > %d (a term was issued again)", round, l.Term(), last)
		}
		last = l.Term()
		claim(t, l, solocron.Claim{Job: "job", Tick: tick.Add(time.Duration(round) * time.Minute)})
		release(t, l)
		s.DeleteAll(t)
	}
	// And once more without deleting: the ordinary path still grows.
	l := campaign(t, s.New(t), 9)
	if l.Term() <= last {
		t.Fatalf("term %d after a plain handover, want > %d", l.Term(), last)
	}
}

func staleLedgerIsReported(t *testing.T, s Store) {
	la := campaign(t, s.New(t), 1)
	claim(t, la, solocron.Claim{Job: "job", Tick: tick})
	release(t, la)
	restore := s.BackupLedger(t)

	lb := campaign(t, s.New(t), 2)
	if err := lb.LedgerStale(); err != nil {
		t.Fatalf("an ordinary handover reports a stale ledger: %v", err)
	}
	claim(t, lb, solocron.Claim{Job: "job", Tick: tick.Add(time.Minute)})
	release(t, lb)
	restore(t) // the ledger as it was before term b claimed

	lc := campaign(t, s.New(t), 3)
	if lc.Term() <= lb.Term() {
		t.Fatalf("term %d after the ledger was restored, want > %d", lc.Term(), lb.Term())
	}
	if err := lc.LedgerStale(); err == nil {
		t.Fatal("a ledger restored from before the last term was not reported stale")
	}
	claim(t, lc, solocron.Claim{Job: "job", Tick: tick.Add(2 * time.Minute)})
	release(t, lc)

	ld := campaign(t, s.New(t), 4)
	if err := ld.LedgerStale(); err != nil {
		t.Fatalf("the ledger is still reported stale after a term claimed in it: %v", err)
	}
}
