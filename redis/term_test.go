package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestTermNeverGoesBack deletes the term counter (as eviction or an
// operator might): the next term still follows the last one, from the
// floor kept in the ledger.
func TestTermNeverGoesBack(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	var last uint64
	for range 3 {
		l, err := e.Campaign(ctx, candidate("a"))
		if err != nil {
			t.Fatal(err)
		}
		last = l.Term()
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := admin(t, srv).Del(ctx, e.keys.term).Err(); err != nil {
		t.Fatal(err)
	}
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	if l.Term() != last+1 {
		t.Fatalf("term after the counter was lost = %d, want %d", l.Term(), last+1)
	}
}

// TestTermChangedUnderLeader: if the term key no longer holds the
// leader's term, the leader's next renewal ends its term and its claims
// are refused.
func TestTermChangedUnderLeader(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	if err := admin(t, srv).Incr(ctx, e.keys.term).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(1)}}); !errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("claim after the term moved on: %v, want ErrNotLeader", err)
	}
	select {
	case <-l.Lost():
	case <-time.After(2 * time.Second):
		t.Fatal("Lost not closed after Redis refused the term")
	}
	if !errors.Is(l.Err(), ErrLeaseTaken) {
		t.Fatalf("Err() = %v, want ErrLeaseTaken", l.Err())
	}
}

// soloElector is an Elector on a fresh app, and a context for the test.
func soloElector(t *testing.T, srv string) (*Elector, context.Context) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return newElector(t, fast(Options{URL: srv, App: newApp(t, srv)})), ctx
}
