package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestTermNeverGoesBack deletes the term counter (as eviction or an
// operator might): the next term is still greater than the last one.
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
	if l.Term() <= last {
		t.Fatalf("term after the counter was lost = %d, want > %d", l.Term(), last)
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

// TestTermIsExactAboveLuaPrecision: terms come from Redis TIME in µs
// (above 1e15), where Lua's default number formatting would round them
// ("1.7960832001235e+15"). The term must read back exactly everywhere it
// is stored, or the fence would refuse the leader's own claims.
func TestTermIsExactAboveLuaPrecision(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	before := time.Now()
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	term := l.Term()
	if term < 1e15 || term < uint64(before.Add(-time.Minute).UnixMicro()) {
		t.Fatalf("term %d: want Redis TIME in µs (about %d)", term, before.UnixMicro())
	}
	want := strconv.FormatUint(term, 10)
	c := admin(t, srv)
	if got, err := c.Get(ctx, e.keys.term).Result(); err != nil || got != want {
		t.Fatalf("term key holds %q (%v), want %q", got, err, want)
	}
	if got, err := c.HGet(ctx, e.keys.ledger, "term").Result(); err != nil || got != want {
		t.Fatalf("ledger's term field holds %q (%v), want %q", got, err, want)
	}
	if h, err := e.Holder(ctx); err != nil || h.Term != term {
		t.Fatalf("Holder = %+v, %v; want term %d", h, err, term)
	}
	if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(1)}}); err != nil || !ok[0] {
		t.Fatalf("claim fenced by term %d: %v %v", term, ok, err)
	}
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: tick(1), Ran: true}}); err != nil {
		t.Fatalf("complete fenced by term %d: %v", term, err)
	}
}

// TestTermGrowsAcrossServerRestart restarts a private redis-server without
// persistence between two terms: every key is gone, and the second term
// must still be greater than the first.
func TestTermGrowsAcrossServerRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := spawnRedis(t, dir, "--port", fmt.Sprint(port))
	waitReady(t, ctx, url)
	e := newElector(t, fast(Options{URL: url, App: "restart"}))
	la, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := la.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(1)}}); err != nil || !ok[0] {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}

	_ = srv.Process.Kill()
	_ = srv.Wait()
	spawnRedis(t, dir, "--port", fmt.Sprint(port))
	waitReady(t, ctx, url)
	lb, err := newElector(t, fast(Options{URL: url, App: "restart"})).Campaign(ctx, candidate("b"))
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Release(context.Background())
	if lb.Term() <= la.Term() {
		t.Fatalf("term %d after the server restarted empty, want > %d (a term was issued twice)", lb.Term(), la.Term())
	}
	// Nothing survived to compare with: the ledger is new, not stale.
	if err := lb.LedgerStale(); err != nil {
		t.Fatalf("LedgerStale after a restart that lost everything: %v", err)
	}
	t.Logf("terms %d then %d across the restart", la.Term(), lb.Term())
}
