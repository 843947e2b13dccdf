package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// TestOldLedgerFormatReads: a ledger hash written by the version before
// outcomes (only "c:<job>" and "d:<job>") reads as before, with no run
// finished; an outcome then adds the run without changing how the claimed
// and completed ticks are stored, so the previous version still reads
// them after a downgrade.
func TestOldLedgerFormatReads(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	c := admin(t, srv)
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	us := func(n int) string { s, _ := micros("", tick(n)); return s }
	if err := c.HSet(ctx, e.keys.ledger, "c:old", us(2), "d:old", us(1), "c:never-done", us(3)).Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]solocron.Record{
		"old":        {Claimed: tick(2), Completed: tick(1)},
		"never-done": {Claimed: tick(3)},
	}
	if got, err := l.Records(ctx, []string{"old", "never-done", "absent"}); err != nil || len(got) != 2 ||
		got["old"] != want["old"] || got["never-done"] != want["never-done"] {
		t.Fatalf("Records of an old-format ledger = %+v, %v; want %+v", got, err, want)
	}
	if got, err := e.Observe(ctx); err != nil || len(got) != 2 || got["old"] != want["old"] || got["never-done"] != want["never-done"] {
		t.Fatalf("Observe of an old-format ledger = %+v, %v; want %+v", got, err, want)
	}

	if err := l.Complete(ctx, []solocron.Outcome{{Job: "old", Tick: tick(2), Ran: true, Duration: time.Second, Error: "boom"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.HMGet(ctx, e.keys.ledger, "c:old", "d:old").Result(); err != nil || got[0] != us(2) || got[1] != us(2) {
		t.Fatalf("claimed and completed stored as %v (%v), want the plain µs the previous version reads", got, err)
	}
	r, err := l.Records(ctx, []string{"old"})
	if got := r["old"]; err != nil || !got.Finished.Equal(tick(2)) || got.Duration != time.Second || got.Error != "boom" {
		t.Fatalf("record after an outcome = %+v, %v", got, err)
	}
}

// TestOutcomeOfNoRecordIsIgnored: as in the reference store, an outcome
// for a job that was never claimed creates no record.
func TestOutcomeOfNoRecordIsIgnored(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "ghost", Tick: tick(1), Ran: true, Error: "x"}, {Job: "ghost2", Tick: tick(1)}}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.Observe(ctx); err != nil || len(r) != 0 {
		t.Fatalf("Observe after outcomes of jobs never claimed = %v, %v; want nothing", r, err)
	}
}

// TestControlWithoutALeader: a program that runs no Scheduler (the
// solocron command) pauses, requests and observes while nobody has ever
// led, and another Elector, as another process, sees it.
func TestControlWithoutALeader(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	cli := newElector(t, Options{URL: srv, App: app})
	other := newElector(t, Options{URL: srv, App: app})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.SetPaused(ctx, "a", true); err != nil {
		t.Fatalf("SetPaused while nobody leads: %v", err)
	}
	if err := cli.RequestRun(ctx, "b"); err != nil {
		t.Fatalf("RequestRun while nobody leads: %v", err)
	}
	c, err := other.Control(ctx)
	if err != nil || len(c) != 2 || !c["a"].Paused || !c["a"].Requested.IsZero() || c["b"].Paused || c["b"].Requested.IsZero() {
		t.Fatalf("another process's Control = %+v, %v; want a paused, b requested", c, err)
	}
	r, err := other.Observe(ctx)
	if err != nil || len(r) != 2 || r["a"].Control != c["a"] || r["b"].Control != c["b"] || !r["a"].Claimed.IsZero() {
		t.Fatalf("another process's Observe = %+v, %v; want the control state alone", r, err)
	}
	if _, err := other.Holder(ctx); err != solocron.ErrNoHolder {
		t.Fatalf("Holder = %v: steering must not make anyone lead", err)
	}
	// Resuming forgets the flag; the request stays (requests only grow).
	if err := other.SetPaused(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	if err := other.SetPaused(ctx, "a", false); err != nil {
		t.Fatalf("resuming twice: %v", err)
	}
	if c, err := cli.Control(ctx); err != nil || len(c) != 1 || c["b"].Requested.IsZero() {
		t.Fatalf("Control after resuming a = %+v, %v; want b's request alone", c, err)
	}
}

// TestAppsAreIsolated: two applications, and one application under two
// prefixes, steer and observe only their own jobs.
func TestAppsAreIsolated(t *testing.T) {
	srv := serverURL(t)
	app, other := newApp(t, srv), newApp(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	prefixed := newElector(t, Options{URL: srv, App: app, Prefix: "solocron-test-other:"})
	c := admin(t, srv)
	t.Cleanup(func() { c.Del(context.Background(), prefixed.keys.all()...) })
	electors := []*Elector{
		newElector(t, Options{URL: srv, App: app}),
		newElector(t, Options{URL: srv, App: other}),
		prefixed,
	}
	for i, e := range electors {
		l, err := e.Campaign(ctx, candidate("a"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release(context.Background())
		if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(i + 1)}}); err != nil || !ok[0] {
			t.Fatalf("claim in %s: %v %v", e, ok, err)
		}
	}
	if err := electors[0].SetPaused(ctx, "job", true); err != nil {
		t.Fatal(err)
	}
	if err := electors[1].RequestRun(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	for i, e := range electors {
		r, err := e.Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := solocron.Record{Claimed: tick(i + 1)}
		got := r["job"]
		got.Requested = time.Time{}
		want.Paused = i == 0
		if len(r) != 1 || got != want || r["job"].Requested.IsZero() != (i != 1) {
			t.Fatalf("%s observes %+v, want only its own: %+v, requested %v", e, r, want, i == 1)
		}
	}
}

// TestControlKeyDeleted: a control hash deleted (an operator's DEL, an
// eviction) means no job is paused or requested, not an error; the next
// request starts again from Redis's clock.
func TestControlKeyDeleted(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	c := admin(t, srv)
	if err := e.SetPaused(ctx, "job", true); err != nil {
		t.Fatal(err)
	}
	if err := e.RequestRun(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ctx, e.keys.control).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Control(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Control after the control key was deleted = %v, %v; want none", got, err)
	}
	if got, err := e.Observe(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Observe after the control key was deleted = %v, %v; want none", got, err)
	}
	before := time.Now().Add(-time.Minute)
	if err := e.RequestRun(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Control(ctx); err != nil || got["job"].Requested.Before(before) || got["job"].Paused {
		t.Fatalf("Control after a new request = %v, %v", got, err)
	}
}

// TestControlRefusesBadInput: an empty job name and a control hash a hand
// edit broke give clear errors, not panics or silent zeros.
func TestControlRefusesBadInput(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	if err := e.SetPaused(ctx, "", true); err == nil || !strings.Contains(err.Error(), "job name") {
		t.Fatalf("SetPaused of an empty job name: %v", err)
	}
	if err := e.RequestRun(ctx, ""); err == nil || !strings.Contains(err.Error(), "job name") {
		t.Fatalf("RequestRun of an empty job name: %v", err)
	}
	if err := admin(t, srv).HSet(ctx, e.keys.control, "r:job", "soon").Err(); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Control":    func() error { _, err := e.Control(ctx); return err },
		"Observe":    func() error { _, err := e.Observe(ctx); return err },
		"RequestRun": func() error { return e.RequestRun(ctx, "job") },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), e.keys.control) || !strings.Contains(err.Error(), "soon") {
			t.Fatalf("%s with a malformed request time: %v; want an error naming the key and the value", name, err)
		}
	}
}

// TestControlIsOneCommand: the leader reads the control state every
// second; it must be one HGETALL of a small hash. It also measures it.
func TestControlIsOneCommand(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	ro, err := goredis.ParseURL(srv)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(ro)
	defer client.Close()
	counter := &commandCounter{}
	client.AddHook(counter)
	e := newElector(t, Options{Client: client, App: app})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, job := range []string{"a", "b", "c"} {
		if err := e.SetPaused(ctx, job, true); err != nil {
			t.Fatal(err)
		}
	}
	const n = 1000
	before := counter.n.Load()
	start := time.Now()
	for range n {
		if c, err := e.Control(ctx); err != nil || len(c) != 3 {
			t.Fatalf("Control = %v, %v", c, err)
		}
	}
	took := time.Since(start)
	if sent := counter.n.Load() - before; sent != n {
		t.Fatalf("%d Control calls sent %d commands, want %d", n, sent, n)
	}
	t.Logf("Control with 3 jobs paused: %v per call (one HGETALL)", took/n)
}

// TestRequestAfterAClockStepBack: a previous request ahead of Redis's
// clock (the clock stepped back, or a failover to a host behind) is
// followed by one exactly 1µs later, so the leader still sees it as new.
func TestRequestAfterAClockStepBack(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	ahead := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	us, _ := micros("job", ahead)
	if err := admin(t, srv).HSet(ctx, e.keys.control, "r:job", us).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.RequestRun(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if c, err := e.Control(ctx); err != nil || !c["job"].Requested.Equal(ahead.Add(time.Microsecond)) {
		t.Fatalf("request after one an hour ahead = %v, %v; want %v", c, err, ahead.Add(time.Microsecond))
	}
}
