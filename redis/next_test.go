package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestLedgerWithoutNextReads: a ledger hash written before Next was
// recorded (c:, d: and f: fields, no n:) reads with a zero Next; an
// outcome then adds n:<job> as plain µs and stores the other fields as
// before, so the previous version still reads them after a downgrade.
func TestLedgerWithoutNextReads(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	c := admin(t, srv)
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	us := func(n int) string { s, _ := micros("", tick(n)); return s }
	finished := formatFinished(us(1), time.Second, "boom")
	if err := c.HSet(ctx, e.keys.ledger, "c:job", us(2), "d:job", us(1), "f:job", finished).Err(); err != nil {
		t.Fatal(err)
	}
	want := solocron.Record{Claimed: tick(2), Completed: tick(1), Finished: tick(1), Duration: time.Second, Error: "boom"}
	if got, err := l.Records(ctx, []string{"job"}); err != nil || got["job"] != want {
		t.Fatalf("Records of a ledger without Next = %+v, %v; want %+v", got, err, want)
	}
	if got, err := e.Observe(ctx); err != nil || got["job"] != want {
		t.Fatalf("Observe of a ledger without Next = %+v, %v; want %+v", got, err, want)
	}

	next := tick(60).Add(7 * time.Microsecond)
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: tick(2), Next: next}}); err != nil {
		t.Fatal(err)
	}
	nextUs, _ := micros("", next)
	got, err := c.HMGet(ctx, e.keys.ledger, "c:job", "d:job", "f:job", "n:job").Result()
	if err != nil || got[0] != us(2) || got[1] != us(2) || got[2] != finished || got[3] != nextUs {
		t.Fatalf("fields after an outcome with Next = %q (%v); want the previous format and n: in plain µs", got, err)
	}
	want.Completed, want.Next = tick(2), next
	if got, err := e.Observe(ctx); err != nil || got["job"] != want {
		t.Fatalf("Observe after an outcome with Next = %+v, %v; want %+v", got, err, want)
	}
	// A zero Next (a manual run) keeps the recorded one.
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: tick(3), Ran: true}}); err != nil {
		t.Fatal(err)
	}
	if r, err := l.Records(ctx, []string{"job"}); err != nil || !r["job"].Next.Equal(next) {
		t.Fatalf("Next after an outcome without one = %+v, %v; want %v", r["job"], err, next)
	}
}

// TestNextOfNoRecordIsIgnored: an outcome's Next, like the rest of it,
// creates no record for a job that was never claimed.
func TestNextOfNoRecordIsIgnored(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "ghost", Tick: tick(1), Next: tick(2)}}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.Observe(ctx); err != nil || len(r) != 0 {
		t.Fatalf("Observe after an outcome with Next of a job never claimed = %v, %v; want nothing", r, err)
	}
}

// TestMalformedNext: an n: field a hand edit broke is a clear error.
func TestMalformedNext(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	if err := admin(t, srv).HSet(ctx, e.keys.ledger, "c:job", "1", "n:job", "soon").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Observe(ctx); err == nil || !strings.Contains(err.Error(), "soon") {
		t.Fatalf("Observe with a malformed next tick: %v; want an error naming the value", err)
	}
}
