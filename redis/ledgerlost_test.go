package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestLedgerLostMidTerm deletes the ledger hash, then restores an old
// copy, under a leader: its ledger calls fail with ErrLedgerLost (not
// ErrNotLeader: the lease is still its own, so Lost stays open) and write
// nothing.
func TestLedgerLostMidTerm(t *testing.T) {
	srv := serverURL(t)
	e, ctx := soloElector(t, srv)
	c := admin(t, srv)
	l, err := e.Campaign(ctx, candidate("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	first := []solocron.Claim{{Job: "job", Tick: tick(1)}}
	if ok, err := l.Claim(ctx, first); err != nil || !ok[0] {
		t.Fatalf("claim: %v %v", ok, err)
	}
	backup, err := c.HGetAll(ctx, e.keys.ledger).Result()
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Claim": func() error {
			_, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(2)}})
			return err
		},
		"Complete": func() error {
			return l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: tick(1), Ran: true, Error: "boom"}})
		},
		"Records": func() error {
			_, err := l.Records(ctx, []string{"job"})
			return err
		},
		"Reset": func() error { return l.Reset(ctx, "job", tick(1)) },
	}
	for _, how := range []string{"deleted", "replaced by an older copy"} {
		if err := c.Del(ctx, e.keys.ledger).Err(); err != nil {
			t.Fatal(err)
		}
		if how != "deleted" {
			backup["term"] = "1" // as written by an earlier term
			if err := c.HSet(ctx, e.keys.ledger, backup).Err(); err != nil {
				t.Fatal(err)
			}
		}
		for name, call := range calls {
			err := call()
			if !errors.Is(err, ErrLedgerLost) || errors.Is(err, solocron.ErrNotLeader) {
				t.Fatalf("ledger %s: %s = %v, want ErrLedgerLost", how, name, err)
			}
			if !strings.Contains(err.Error(), e.keys.ledger) || !strings.Contains(err.Error(), fmt.Sprint(l.Term())) {
				t.Fatalf("ledger %s: %s = %q: does not name the ledger key and the term", how, name, err)
			}
		}
		want := map[string]string{}
		if how != "deleted" {
			want = backup
		}
		if got, err := c.HGetAll(ctx, e.keys.ledger).Result(); err != nil || !maps.Equal(got, want) {
			t.Fatalf("ledger %s: holds %v after the failed calls (%v), want %v", how, got, err, want)
		}
		select {
		case <-l.Lost():
			t.Fatalf("ledger %s: Lost closed (%v); the lease is still ours", how, l.Err())
		default:
		}
	}
}

// TestLedgerDeletedSchedulerStepsDown deletes the ledger hash under two
// Schedulers' leader: it must not go on silently. Its claims fail, it
// steps down (ERROR "stepped down"), a new term leads on a ledger it
// reports stale, and every later tick runs exactly once.
func TestLedgerDeletedSchedulerStepsDown(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	logs := &syncBuffer{}
	var mu sync.Mutex
	runs := map[int64][]uint64{} // tick (Unix s) -> terms that ran it
	perTerm := map[uint64]int{}  // term -> runs
	terms := make(chan uint64, 16)
	start := func(name string) {
		o := solocron.Options{
			Elector:       newElector(t, fast(Options{URL: srv, App: app})),
			RetryInterval: 200 * time.Millisecond, MaxRetryInterval: time.Second,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})).With("scheduler", name),
		}
		o.Hooks.OnLeading = func(e solocron.LeadershipEvent) { terms <- e.Term }
		startScheduler(t, o, "tick", func(ctx context.Context) error {
			r, _ := solocron.RunFrom(ctx)
			mu.Lock()
			runs[r.Tick.Unix()] = append(runs[r.Tick.Unix()], r.Term)
			perTerm[r.Term]++
			mu.Unlock()
			return nil
		})
	}
	start("a")
	start("b")
	ranIn := func(term uint64, n int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := perTerm[term]
			mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("term %d did not run %d ticks within %v; log:\n%s", term, n, within, logs)
	}
	var first uint64
	select {
	case first = <-terms:
	case <-time.After(10 * time.Second):
		t.Fatal("nobody led within 10s")
	}
	ranIn(first, 2, 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin(t, srv).Del(ctx, newKeys(DefaultPrefix, app).ledger).Err(); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	var next uint64
	select {
	case next = <-terms:
	case <-time.After(10 * time.Second):
		t.Fatalf("no new term within 10s of deleting the ledger; log:\n%s", logs)
	}
	t.Logf("term %d stepped down; term %d leads %v after the ledger was deleted", first, next, time.Since(deleted))
	if next <= first {
		t.Fatalf("new term %d, want > %d", next, first)
	}
	if !strings.Contains(logs.String(), "stepped down") {
		t.Fatalf("no \"stepped down\" in the log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "the ledger is stale") {
		t.Fatalf("the new term did not report the deleted ledger as stale:\n%s", logs)
	}
	ranIn(next, 3, 6*time.Second)

	mu.Lock()
	defer mu.Unlock()
	var later []int64 // the ticks from the new term's first run on
	for tick, ts := range runs {
		if len(ts) != 1 {
			t.Errorf("tick %d ran %d times (terms %v)", tick, len(ts), ts)
		}
		if ts[0] == next {
			later = append(later, tick)
		}
	}
	slices.Sort(later)
	for i := 1; i < len(later); i++ {
		if later[i] != later[i-1]+1 {
			t.Errorf("term %d: tick %d ran, then %d: a tick was skipped", next, later[i-1], later[i])
		}
	}
}

// syncBuffer is a log sink the Schedulers' goroutines share.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
