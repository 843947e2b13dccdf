package solocrontest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// runLog records the ticks a job ran.
type runLog struct {
	mu    sync.Mutex
	ticks []time.Time
}

func (l *runLog) run(ctx context.Context) error {
	r, _ := solocron.RunFrom(ctx)
	l.mu.Lock()
	l.ticks = append(l.ticks, r.Tick)
	l.mu.Unlock()
	return nil
}

func (l *runLog) get() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.ticks...)
}

// walk is Clock.Walk, failing the test on error.
func walk(t *testing.T, clock *solocrontest.Clock, end time.Time, step time.Duration, schedulers ...*solocron.Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := clock.Walk(ctx, end, step, schedulers...); err != nil {
		t.Fatal(err)
	}
}

func newScheduler(t *testing.T, clock *solocrontest.Clock, store *solocrontest.Store, jobs ...solocron.Job) *solocron.Scheduler {
	t.Helper()
	s, err := solocron.New(solocron.Options{Elector: store.Elector(), Clock: clock, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func waitLeader(t *testing.T, s *solocron.Scheduler) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Status(context.Background()).Role != solocron.Leader {
		if time.Now().After(deadline) {
			t.Fatal("no leader within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func waitRuns(t *testing.T, l *runLog, want []time.Time) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(l.get()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a run too many would show now
	got := l.get()
	if len(got) != len(want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("ran %v, want %v", got, want)
		}
	}
}

func TestClockDrivesTheSchedule(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)
	clock := solocrontest.NewClock(base)
	var runs runLog
	s := newScheduler(t, clock, solocrontest.NewStore(), solocron.Job{Name: "hourly", Spec: "0 * * * *", Run: runs.run})
	waitLeader(t, s)
	walk(t, clock, base.Add(3*time.Hour), 10*time.Minute, s)
	waitRuns(t, &runs, []time.Time{base.Add(30 * time.Minute), base.Add(90 * time.Minute), base.Add(150 * time.Minute)})
}

func TestClockTakeoverRunsTheMissedTickOnce(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)
	clock := solocrontest.NewClock(base)
	store := solocrontest.NewStore()
	var runs runLog
	job := solocron.Job{Name: "hourly", Spec: "0 * * * *", Run: runs.run}
	a := newScheduler(t, clock, store, job)
	waitLeader(t, a)
	walk(t, clock, base.Add(40*time.Minute), 10*time.Minute, a) // 01:00 runs
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour) // 03:10: nobody led at 02:00 and 03:00
	b := newScheduler(t, clock, store, job)
	waitLeader(t, b)
	// MisfireRunOnce: the latest missed tick (03:00) once; 02:00 is skipped.
	waitRuns(t, &runs, []time.Time{base.Add(30 * time.Minute), base.Add(150 * time.Minute)})
}
