package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// Claims for jobs due at the same instant go to the server in one round
// trip, however many there are; so do Complete and Records. Counted on
// the wire by the proxy.
func TestTenThousandClaimsInOneRoundTrip(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.TTL = time.Minute // no renewal during the test
	p, po := proxied(t, o)
	l := campaignOrFail(t, mustNew(t, po), 1)
	ctx := context.Background()
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	const n = 10000
	claims := make([]solocron.Claim, n)
	outcomes := make([]solocron.Outcome, n)
	jobs := make([]string, n)
	for i := range claims {
		jobs[i] = fmt.Sprintf("job-%05d", i)
		claims[i] = solocron.Claim{Job: jobs[i], Tick: tick}
		outcomes[i] = solocron.Outcome{Job: jobs[i], Tick: tick, Ran: true, Duration: time.Duration(i) * time.Millisecond,
			Next: tick.Add(time.Minute)}
		if i%2 == 1 {
			outcomes[i].Error = fmt.Sprintf("failed %d", i)
		}
	}
	// The first use of each statement also prepares it.
	if _, err := l.Claim(ctx, claims[:1]); err != nil {
		t.Fatal(err)
	}
	if err := l.Complete(ctx, outcomes[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Records(ctx, jobs[:1]); err != nil {
		t.Fatal(err)
	}

	roundTrips := func(what string, f func() error) {
		t.Helper()
		before := p.turns.Load()
		start := time.Now()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := p.turns.Load() - before; got != 1 {
			t.Fatalf("%s of %d jobs took %d round trips, want 1", what, n, got)
		}
		t.Logf("%s of %d jobs: 1 round trip, %v", what, n, time.Since(start))
	}
	var ok []bool
	roundTrips("Claim", func() (err error) { ok, err = l.Claim(ctx, claims); return err })
	for i := 1; i < n; i++ {
		if !ok[i] {
			t.Fatalf("claim %d refused", i)
		}
	}
	if ok[0] {
		t.Fatal("job-00000 was granted its tick twice")
	}
	roundTrips("Complete", func() error { return l.Complete(ctx, outcomes) })
	var recs map[string]solocron.Record
	roundTrips("Records", func() (err error) { recs, err = l.Records(ctx, jobs); return err })
	last := recs[jobs[n-1]]
	if len(recs) != n || !last.Completed.Equal(tick) || !last.Finished.Equal(tick) ||
		last.Duration != (n-1)*time.Millisecond || last.Error != fmt.Sprintf("failed %d", n-1) || !last.Next.Equal(tick.Add(time.Minute)) {
		t.Fatalf("Records: %d records, last %+v", len(recs), last)
	}
}

// A catch-up batch names a job several times: the claims are taken in
// order, as if made one after the other, and still in one round trip.
func TestBatchNamingAJobTwice(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.TTL = time.Minute
	p, po := proxied(t, o)
	l := campaignOrFail(t, mustNew(t, po), 1)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	claimGranted(t, l, at(0))
	batch := []solocron.Claim{
		{Job: "job", Tick: at(1)},
		{Job: "other", Tick: at(1)},
		{Job: "job", Tick: at(2)},
		{Job: "job", Tick: at(2)},              // the same tick again
		{Job: "job", Tick: at(2), Retry: true}, // retry of an unfinished tick
		{Job: "job", Tick: at(1)},              // earlier than the last
		{Job: "other", Tick: at(3)},
	}
	want := []bool{true, true, true, false, true, false, true}
	before := p.turns.Load()
	ok, err := l.Claim(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	turns := p.turns.Load() - before
	if fmt.Sprint(ok) != fmt.Sprint(want) {
		t.Fatalf("Claim = %v, want %v", ok, want)
	}
	if turns > 2 { // one to prepare the statement, one for the batch
		t.Fatalf("a batch of %d rounds took %d round trips", 5, turns)
	}
	r, err := l.Records(ctx, []string{"job", "other"})
	if err != nil {
		t.Fatal(err)
	}
	if !r["job"].Claimed.Equal(at(2)) || !r["other"].Claimed.Equal(at(3)) {
		t.Fatalf("records %+v", r)
	}
}

// A batch of outcomes applies them as if one after the other: a job's
// latest run counts (of two of one tick, the later given), an older run
// or a tick decided without a run leaves the last run alone, and a job
// with no record gets none.
func TestBatchOfOutcomes(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	l := campaignOrFail(t, mustNew(t, o), 1)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for _, job := range []string{"a", "b", "c"} {
		if ok, err := l.Claim(ctx, []solocron.Claim{{Job: job, Tick: at(3)}}); err != nil || !ok[0] {
			t.Fatalf("Claim(%s) = %v, %v", job, ok, err)
		}
	}
	ran := func(job string, s int, err string) solocron.Outcome {
		return solocron.Outcome{Job: job, Tick: at(s), Ran: true, Duration: time.Duration(s) * time.Millisecond, Error: err}
	}
	err := l.Complete(ctx, []solocron.Outcome{
		ran("a", 2, "second"), ran("a", 1, "first"), // the later tick counts, not the later given
		ran("b", 3, "x"), ran("b", 3, ""), // of one tick, the later given
		ran("c", 2, "ran"), {Job: "c", Tick: at(3)}, // a skip after a run
		ran("none", 1, "no record"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Records(ctx, []string{"a", "b", "c", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if a := r["a"]; !a.Completed.Equal(at(2)) || !a.Finished.Equal(at(2)) || a.Error != "second" || a.Duration != 2*time.Millisecond {
		t.Errorf("a = %+v, want its run of tick 2", a)
	}
	if b := r["b"]; !b.Finished.Equal(at(3)) || b.Error != "" {
		t.Errorf("b = %+v, want the success given last", b)
	}
	if c := r["c"]; !c.Completed.Equal(at(3)) || !c.Finished.Equal(at(2)) || c.Error != "ran" {
		t.Errorf("c = %+v, want completed 3, its run of tick 2", c)
	}
	if _, ok := r["none"]; ok {
		t.Errorf("an outcome made a record: %+v", r["none"])
	}
	if n := queryInt64(t, o.URL, `SELECT count(*) FROM `+newTables(o).ledger+` WHERE app = $1 AND error = ''`, o.App); *n != 0 {
		t.Errorf("%d successes stored as '', want NULL", *n)
	}
}

// A batch's next ticks apply as if one after the other: a job's latest
// Next counts whatever the order, a zero Next (a manual run) changes
// nothing, and a job with no record gets none.
func TestBatchOfNextTicks(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	l := campaignOrFail(t, mustNew(t, o), 1)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for _, job := range []string{"a", "b"} {
		if ok, err := l.Claim(ctx, []solocron.Claim{{Job: job, Tick: at(1)}}); err != nil || !ok[0] {
			t.Fatalf("Claim(%s) = %v, %v", job, ok, err)
		}
	}
	err := l.Complete(ctx, []solocron.Outcome{
		{Job: "a", Tick: at(1), Ran: true, Next: at(9)}, {Job: "a", Tick: at(1), Next: at(5)}, // the later Next counts, not the later given
		{Job: "b", Tick: at(1), Next: at(2)}, {Job: "b", Tick: at(1), Ran: true}, // a zero Next after one
		{Job: "none", Tick: at(1), Next: at(2)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Records(ctx, []string{"a", "b", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if !r["a"].Next.Equal(at(9)) || !r["b"].Next.Equal(at(2)) {
		t.Errorf("Next of a = %v, of b = %v; want %v and %v", r["a"].Next, r["b"].Next, at(9), at(2))
	}
	if _, ok := r["none"]; ok {
		t.Errorf("an outcome's Next made a record: %+v", r["none"])
	}
	// A batch of zero Nexts alone keeps the recorded ones.
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "a", Tick: at(1)}, {Job: "b", Tick: at(1)}}); err != nil {
		t.Fatal(err)
	}
	if r, err := l.Records(ctx, []string{"a", "b"}); err != nil || !r["a"].Next.Equal(at(9)) || !r["b"].Next.Equal(at(2)) {
		t.Errorf("Records after zero Nexts = %+v, %v; want the recorded Nexts kept", r, err)
	}
}

// A standby costs one connection and a couple of statements each time the
// leader's row would expire, not a poll loop.
func TestStandbyIsCheap(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.TTL = 3 * time.Second // renewed every second
	campaignOrFail(t, mustNew(t, o), 1)
	p, po := proxied(t, o)
	got := standby(t, mustNew(t, po), 2, 20*time.Second)
	waitForWaiter(t, o, 1)
	before := p.turns.Load()
	const watch = 9 * time.Second
	select {
	case tk := <-got:
		t.Fatalf("the standby took over from a live leader: %v", tk.err)
	case <-time.After(watch):
	}
	n := p.turns.Load() - before
	if n > 2*int64(watch/o.TTL)+4 {
		t.Fatalf("the standby made %d round trips in %v (TTL %v)", n, watch, o.TTL)
	}
	t.Logf("a standby made %d round trips in %v with TTL %v", n, watch, o.TTL)
}
