package electortest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// The checks of outcomes and of the unfenced reads and writes any process
// makes: Observe, Control, SetPaused and RequestRun.

func complete(t *testing.T, l solocron.Lease, done ...solocron.Outcome) {
	t.Helper()
	if err := l.Complete(context.Background(), done); err != nil {
		t.Fatalf("Complete(%v): %v", done, err)
	}
}

func observe(t *testing.T, e solocron.Elector) map[string]solocron.Record {
	t.Helper()
	r, err := e.Observe(context.Background())
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return r
}

func control(t *testing.T, e solocron.Elector) map[string]solocron.Control {
	t.Helper()
	c, err := e.Control(context.Background())
	if err != nil {
		t.Fatalf("Control: %v", err)
	}
	return c
}

func outcomesAreRecorded(t *testing.T, newElector NewElector) {
	l := campaign(t, newElector(t), 1)
	t1, t2 := tick, tick.Add(time.Minute)
	claim(t, l, solocron.Claim{Job: "job", Tick: t1}, solocron.Claim{Job: "skipped", Tick: t1})
	long := strings.Repeat("é", solocron.MaxErrorLen/2) // MaxErrorLen bytes, multi-byte runes
	complete(t, l,
		solocron.Outcome{Job: "job", Tick: t1, Ran: true, Duration: 1500 * time.Millisecond, Error: long},
		solocron.Outcome{Job: "skipped", Tick: t1})
	r := records(t, l, "job", "skipped")
	if got := r["job"]; !got.Completed.Equal(t1) || !got.Finished.Equal(t1) || got.Duration != 1500*time.Millisecond || got.Error != long {
		t.Fatalf("record after a failed run = %+v, want completed and finished %v, 1.5s, the error kept whole", got, t1)
	}
	if got := r["skipped"]; !got.Completed.Equal(t1) || !got.Finished.IsZero() || got.Duration != 0 || got.Error != "" {
		t.Fatalf("record after a tick decided without a run = %+v, want completed %v and no run", got, t1)
	}
	// A later run that succeeded clears the error.
	claim(t, l, solocron.Claim{Job: "job", Tick: t2})
	complete(t, l, solocron.Outcome{Job: "job", Tick: t2, Ran: true, Duration: time.Millisecond})
	if got := records(t, l, "job")["job"]; !got.Finished.Equal(t2) || got.Error != "" || got.Duration != time.Millisecond {
		t.Fatalf("record after a run that succeeded = %+v, want finished %v, no error", got, t2)
	}
	// An outcome of an older tick arriving late does not overwrite it.
	complete(t, l, solocron.Outcome{Job: "job", Tick: t1, Ran: true, Duration: time.Hour, Error: "late"})
	if got := records(t, l, "job")["job"]; !got.Finished.Equal(t2) || got.Error != "" {
		t.Fatalf("an older outcome overwrote a newer one: %+v", got)
	}
	// Next moves forward only, with runs and with ticks decided without one.
	next := t2.Add(time.Hour + 7*time.Microsecond)
	complete(t, l, solocron.Outcome{Job: "skipped", Tick: t1, Next: next})
	complete(t, l, solocron.Outcome{Job: "skipped", Tick: t1, Next: t2})
	if got := records(t, l, "skipped")["skipped"]; !got.Next.Equal(next) {
		t.Fatalf("Next = %v, want %v (it only moves forward)", got.Next, next)
	}
	// A tick decided without a run after a run keeps the run's outcome.
	claim(t, l, solocron.Claim{Job: "job", Tick: t2.Add(time.Minute)})
	complete(t, l, solocron.Outcome{Job: "job", Tick: t2.Add(time.Minute)})
	if got := records(t, l, "job")["job"]; !got.Finished.Equal(t2) || !got.Completed.Equal(t2.Add(time.Minute)) {
		t.Fatalf("record after a skip = %+v, want finished %v, completed a minute later", got, t2)
	}
}

func observeFromAnyProcess(t *testing.T, newElector NewElector) {
	leader, standby := newElector(t), newElector(t)
	if r := observe(t, standby); len(r) != 0 {
		t.Fatalf("Observe of an empty store = %v, want nothing", r)
	}
	l := campaign(t, leader, 1)
	claim(t, l, solocron.Claim{Job: "a", Tick: tick}, solocron.Claim{Job: "b", Tick: tick.Add(time.Second)})
	complete(t, l, solocron.Outcome{Job: "a", Tick: tick, Ran: true, Duration: time.Second, Error: "boom"})
	if err := standby.SetPaused(context.Background(), "c", true); err != nil {
		t.Fatalf("SetPaused on a standby: %v", err)
	}
	r := observe(t, standby)
	if len(r) != 3 {
		t.Fatalf("a standby's Observe = %v, want records a, b and c", r)
	}
	if a := r["a"]; !a.Claimed.Equal(tick) || !a.Finished.Equal(tick) || a.Error != "boom" || a.Duration != time.Second {
		t.Fatalf("a standby observes a = %+v", a)
	}
	if b := r["b"]; !b.Claimed.Equal(tick.Add(time.Second)) || !b.Completed.IsZero() || b.Paused {
		t.Fatalf("a standby observes b = %+v", b)
	}
	if c := r["c"]; !c.Paused || !c.Claimed.IsZero() {
		t.Fatalf("a paused job with no record yet observes as %+v, want paused and nothing claimed", c)
	}
	// Nobody leading: the ledger can still be read.
	release(t, l)
	if r := observe(t, standby); !r["a"].Claimed.Equal(tick) {
		t.Fatalf("Observe while nobody leads = %v", r)
	}
}

func pauseFromAnyProcess(t *testing.T, newElector NewElector) {
	leader, standby := newElector(t), newElector(t)
	l := campaign(t, leader, 1)
	claim(t, l, solocron.Claim{Job: "job", Tick: tick})
	if c := control(t, leader); len(c) != 0 {
		t.Fatalf("Control with nothing paused or requested = %v, want empty", c)
	}
	if err := standby.SetPaused(context.Background(), "job", true); err != nil {
		t.Fatalf("SetPaused: %v", err)
	}
	if c := control(t, leader); !c["job"].Paused || len(c) != 1 {
		t.Fatalf("the leader's Control after a standby paused the job = %v", c)
	}
	if !observe(t, leader)["job"].Paused {
		t.Fatal("Observe does not show the paused flag")
	}
	// The flag is no part of the fenced ledger: claims go on, a new term
	// sees it, and pausing twice is no error.
	if ok := claim(t, l, solocron.Claim{Job: "job", Tick: tick.Add(time.Second)}); !ok[0] {
		t.Fatal("a claim of a paused job was refused: the leader decides, not the store")
	}
	if err := standby.SetPaused(context.Background(), "job", true); err != nil {
		t.Fatalf("SetPaused twice: %v", err)
	}
	release(t, l)
	l2 := campaign(t, standby, 2)
	if c := control(t, standby); !c["job"].Paused {
		t.Fatalf("the next term's Control = %v, want job paused", c)
	}
	if err := leader.SetPaused(context.Background(), "job", false); err != nil {
		t.Fatalf("SetPaused(false): %v", err)
	}
	if c := control(t, standby); c["job"].Paused {
		t.Fatalf("Control after resume = %v, want job not paused", c)
	}
	if r := records(t, l2, "job")["job"]; !r.Claimed.Equal(tick.Add(time.Second)) {
		t.Fatalf("pausing and resuming changed the job's record: %+v", r)
	}
}

func requestsOnlyGrow(t *testing.T, newElector NewElector) {
	a, b := newElector(t), newElector(t)
	before := time.Now().Add(-time.Minute) // the store's clock may differ a little
	var last time.Time
	for i := range 5 {
		e := a
		if i%2 == 1 {
			e = b
		}
		if err := e.RequestRun(context.Background(), "job"); err != nil {
			t.Fatalf("RequestRun: %v", err)
		}
		got := control(t, a)["job"].Requested
		if !got.After(last) || got.Before(before) {
			t.Fatalf("request %d at %v after one at %v: requests must grow, from about now", i, got, last)
		}
		if got.Truncate(time.Microsecond) != got {
			t.Fatalf("request time %v has a finer grain than the ledger's microsecond", got)
		}
		last = got
	}
	if r := observe(t, b)["job"]; !r.Requested.Equal(last) || r.Paused {
		t.Fatalf("Observe shows %+v, want requested %v", r, last)
	}
	// A request and a pause live side by side.
	if err := b.SetPaused(context.Background(), "job", true); err != nil {
		t.Fatal(err)
	}
	if c := control(t, a)["job"]; !c.Paused || !c.Requested.Equal(last) {
		t.Fatalf("Control = %+v, want paused with the request kept", c)
	}
}
