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
	jobs := make([]string, n)
	for i := range claims {
		jobs[i] = fmt.Sprintf("job-%05d", i)
		claims[i] = solocron.Claim{Job: jobs[i], Tick: tick}
	}
	// The first use of each statement also prepares it.
	if _, err := l.Claim(ctx, claims[:1]); err != nil {
		t.Fatal(err)
	}
	if err := l.Complete(ctx, claims[:1]); err != nil {
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
	roundTrips("Complete", func() error { return l.Complete(ctx, claims) })
	var recs map[string]solocron.Record
	roundTrips("Records", func() (err error) { recs, err = l.Records(ctx, jobs); return err })
	if len(recs) != n || !recs[jobs[n-1]].Completed.Equal(tick) {
		t.Fatalf("Records: %d records, last %+v", len(recs), recs[jobs[n-1]])
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
