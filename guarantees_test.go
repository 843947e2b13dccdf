package solocron_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// logBuffer captures a Scheduler's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// count returns how many lines hold every one of parts.
func (b *logBuffer) count(parts ...string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

func (b *logBuffer) wait(t *testing.T, timeout time.Duration, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for b.count(parts...) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %v; log:\n%s", parts, timeout, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ticks counts runs per tick, to tell a tick run twice.
type ticks struct {
	mu   sync.Mutex
	runs map[time.Time]int
}

func (c *ticks) job(name, spec string) Job {
	return Job{Name: name, Spec: spec, Misfire: MisfireRunAll, Run: func(ctx context.Context) error {
		r, _ := RunFrom(ctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.runs == nil {
			c.runs = make(map[time.Time]int)
		}
		c.runs[r.Tick]++
		return nil
	}}
}

func (c *ticks) twice(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for tick, n := range c.runs {
		if n > 1 {
			t.Errorf("tick %v ran %d times", tick, n)
		}
	}
}

func (c *ticks) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.runs)
}

func TestLostLeadershipCancelsRunsWhileTheLedgerHangs(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	rec := newRecorder()
	ended := make(chan time.Time, 1)
	start(t, Options{Elector: store.Elector(), Hooks: rec.hooks()},
		Job{Name: "long", Spec: "* * * * * *", Run: func(ctx context.Context) error {
			<-ctx.Done()
			select {
			case ended <- time.Now():
			default:
			}
			return ctx.Err()
		}},
		Job{Name: "tick", Spec: "* * * * * *", Run: noop})
	rec.wait(t, "the long run", 5*time.Second, func() bool { return len(rec.started) >= 1 })
	resume := store.HoldLedger() // the next claim waits: the term loop is stuck in it
	defer resume()
	time.Sleep(1200 * time.Millisecond) // a tick falls due, and its claim hangs
	revoked := time.Now()
	store.Revoke(errors.New("lease expired"))
	select {
	case at := <-ended:
		if d := at.Sub(revoked); d > 200*time.Millisecond {
			t.Fatalf("the run's ctx ended %v after leadership was lost, want at once", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the run's ctx did not end within 3s of leadership being lost while the ledger hung")
	}
}

// electorCounter counts campaigns.
type electorCounter struct {
	Elector
	campaigns atomic.Int32
}

func (e *electorCounter) Campaign(ctx context.Context, c Candidate) (Lease, error) {
	e.campaigns.Add(1)
	return e.Elector.Campaign(ctx, c)
}

func TestLeaderStepsDownWhenTheLedgerFails(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	el := &electorCounter{Elector: store.Elector()}
	var logs logBuffer
	rec := newRecorder()
	var c ticks
	start(t, Options{Elector: el, Hooks: rec.hooks(), Logger: logs.logger(),
		RetryInterval: 50 * time.Millisecond, MaxRetryInterval: 400 * time.Millisecond},
		c.job("job", "* * * * * *"))
	rec.wait(t, "a run", 5*time.Second, func() bool { return len(rec.finished) >= 1 })

	store.FailLedger(errors.New(`relation "solocron.ledger" does not exist`))
	logs.wait(t, 5*time.Second, "stepped down", "does not exist")
	rec.wait(t, "OnLost", time.Second, func() bool { return len(rec.lost) >= 1 })
	if rec.lost[0].Err == nil {
		t.Fatal("OnLost after stepping down carries no error")
	}
	before := el.campaigns.Load()
	time.Sleep(2 * time.Second)
	// With pauses doubling from 50ms to 400ms, about 7 attempts fit in 2s;
	// without backoff it would be hundreds.
	if n := el.campaigns.Load() - before; n < 2 || n > 15 {
		t.Fatalf("%d campaigns in 2s while the ledger failed, want a few (backoff)", n)
	}
	if n := logs.count("cannot lead; retrying"); n < 2 {
		t.Fatalf("%d retry lines logged while the ledger failed, want several", n)
	}

	store.FailLedger(nil)
	runs := c.count()
	rec.wait(t, "leading again", 5*time.Second, func() bool { return len(rec.leading) >= 2 })
	deadline := time.Now().Add(5 * time.Second)
	for c.count() <= runs && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if c.count() <= runs {
		t.Fatal("no tick ran after the ledger recovered")
	}
	c.twice(t)
}

func TestStaleLedgerIsNotTrustedForCatchUp(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	clock := solocrontest.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	var c ticks
	var logs logBuffer
	// each term runs ticks on the fake clock, then stops
	term := func(o Options, ticks int) {
		o.Elector, o.Clock = store.Elector(), clock
		s := start(t, o, c.job("job", "* * * * * *"))
		waitRole(t, s, Leader, 5*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := clock.Walk(ctx, clock.Now().Add(time.Duration(ticks)*time.Second), time.Second, s); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	term(Options{}, 2)
	restore := store.BackupLedger() // as the first term ended
	term(Options{}, 3)
	restore() // the ledger as it was before the second term: its ticks look unclaimed
	runs := c.count()
	term(Options{Logger: logs.logger()}, 2)
	if logs.count("level=ERROR", "ledger is stale") != 1 {
		t.Fatalf("no ERROR about the stale ledger; log:\n%s", logs.String())
	}
	c.twice(t)
	if c.count() != runs+2 {
		t.Fatalf("the third term ran %d ticks, want its own 2 and no catch-up", c.count()-runs)
	}
}

func TestFarAheadClaimIsReportedAndRepaired(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	ahead := time.Now().Add(365 * 24 * time.Hour).Truncate(time.Second).UTC()
	store.SetRecord("job", Record{Claimed: ahead, Completed: ahead})
	var logs logBuffer
	rec := newRecorder()
	standby := start(t, Options{Elector: store.Elector()}, Job{Name: "job", Spec: "* * * * * *", Run: noop})
	waitRole(t, standby, Leader, 5*time.Second)
	s := start(t, Options{Elector: store.Elector(), Hooks: rec.hooks(), Logger: logs.logger()},
		Job{Name: "job", Spec: "* * * * * *", Run: noop})
	if err := s.ResetJob(context.Background(), "job"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("ResetJob on a standby: got %v, want ErrNotLeader", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = standby.Stop(ctx) // s leads, on the far-ahead record
	waitRole(t, s, Leader, 5*time.Second)

	rec.wait(t, "two ledger-ahead skips", 5*time.Second, func() bool {
		n := 0
		for _, e := range rec.skips {
			if e.Reason == SkipLedgerAhead {
				n++
			}
		}
		return n >= 2
	})
	if n := logs.count("level=ERROR", "far ahead", "job=job"); n != 1 {
		t.Fatalf("%d ERROR lines about the far-ahead claim when the term began, want 1", n)
	}
	if n := logs.count("level=ERROR", "reason=ledger-ahead"); n < 2 {
		t.Fatalf("%d ERROR lines for refused ticks, want one per tick", n)
	}
	if got := s.Status(context.Background()).Jobs[0].LedgerAhead; !got.Equal(ahead) {
		t.Fatalf("Status LedgerAhead = %v, want %v", got, ahead)
	}
	if len(rec.finished) != 0 {
		t.Fatalf("%d runs while the ledger was ahead", len(rec.finished))
	}

	if err := s.ResetJob(context.Background(), "job"); err != nil {
		t.Fatalf("ResetJob: %v", err)
	}
	rec.wait(t, "a run after the repair", 3*time.Second, func() bool { return len(rec.finished) >= 1 })
	if got := s.Status(context.Background()).Jobs[0].LedgerAhead; !got.IsZero() {
		t.Fatalf("Status LedgerAhead = %v after the repair, want zero", got)
	}
	if err := s.ResetJob(context.Background(), "job"); !errors.Is(err, ErrNotAhead) {
		t.Fatalf("ResetJob of a healthy record: got %v, want ErrNotAhead", err)
	}
	if err := s.ResetJob(context.Background(), "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("ResetJob of an unknown job: got %v, want ErrUnknownJob", err)
	}
}

func TestSkippedTickIsRecordedSoNoLaterLeaderRunsIt(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	rec := newRecorder()
	var mu sync.Mutex
	ran := map[time.Time]bool{}
	slow := Job{Name: "slow", Spec: "* * * * * *", Misfire: MisfireRunAll, Run: func(ctx context.Context) error {
		r, _ := RunFrom(ctx)
		mu.Lock()
		ran[r.Tick] = true
		mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(2500 * time.Millisecond):
		}
		return nil
	}}
	a := start(t, Options{Elector: store.Elector(), Hooks: rec.hooks()}, slow)
	rec.wait(t, "an overlap skip", 5*time.Second, func() bool { return len(rec.skips) >= 1 })
	skipped := rec.skips[0].Tick
	if r, _ := store.Record("slow"); r.Claimed.Before(skipped) {
		t.Fatalf("ledger claimed %v after tick %v was skipped: the skip is not recorded", r.Claimed, skipped)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = a.Stop(ctx)

	rec2 := newRecorder()
	start(t, Options{Elector: store.Elector(), Hooks: rec2.hooks()}, slow)
	rec2.wait(t, "the new leader's first run", 5*time.Second, func() bool { return len(rec2.started) >= 1 })
	for _, e := range rec2.started {
		if !e.Tick.After(skipped) {
			t.Fatalf("the new leader ran tick %v, at or before the tick %v the old leader skipped", e.Tick, skipped)
		}
	}
}

func TestStopReportsRunsThatIgnoreTheirContext(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	rec := newRecorder()
	release := make(chan struct{})
	defer close(release)
	s := start(t, Options{Elector: solocrontest.NewStore().Elector(), Hooks: rec.hooks(), Logger: logs.logger()},
		Job{Name: "deaf", Spec: "* * * * * *", Run: func(ctx context.Context) error {
			<-release // ignores ctx
			return nil
		}})
	rec.wait(t, "a run", 5*time.Second, func() bool { return len(rec.started) >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: got %v, want context.DeadlineExceeded", err)
	}
	rec.mu.Lock()
	abandoned := append([]JobEvent(nil), rec.abandoned...)
	rec.mu.Unlock()
	if len(abandoned) != 1 || abandoned[0].Job != "deaf" || abandoned[0].Tick.IsZero() {
		t.Fatalf("OnJobAbandoned events = %+v, want one for the run of deaf", abandoned)
	}
	if n := logs.count("level=ERROR", "still running", "job=deaf"); n != 1 {
		t.Fatalf("%d ERROR lines naming the abandoned run, want 1; log:\n%s", n, logs.String())
	}
}

func TestStandbyReportsAnotherApplicationOrJobSet(t *testing.T) {
	t.Parallel()
	store := solocrontest.NewStore()
	leader := start(t, Options{Elector: store.Elector(), App: "example.com/billing"}, Job{Name: "invoices", Spec: "@daily", Run: noop})
	waitRole(t, leader, Leader, 5*time.Second)

	var logs logBuffer
	other := start(t, Options{Elector: store.Elector(), App: "example.com/mailer", Logger: logs.logger()},
		Job{Name: "invoices", Spec: "@daily", Run: noop})
	for range 2 {
		if m := other.Status(context.Background()).Mismatch; !strings.Contains(m, `"example.com/billing"`) {
			t.Fatalf("Status.Mismatch of another application's standby = %q", m)
		}
	}
	if n := logs.count("level=WARN", "differs from the leader"); n != 1 {
		t.Fatalf("%d WARN lines about the mismatch, want exactly 1", n)
	}

	more := start(t, Options{Elector: store.Elector(), App: "example.com/billing"},
		Job{Name: "invoices", Spec: "@daily", Run: noop}, Job{Name: "reminders", Spec: "@daily", Run: noop})
	if m := more.Status(context.Background()).Mismatch; !strings.Contains(m, "set of jobs") {
		t.Fatalf("Status.Mismatch of a standby with another job set = %q", m)
	}
	same := start(t, Options{Elector: store.Elector(), App: "example.com/billing"}, Job{Name: "invoices", Spec: "@daily", Run: noop})
	if m := same.Status(context.Background()).Mismatch; m != "" {
		t.Fatalf("Status.Mismatch of a matching standby = %q, want none", m)
	}
}
