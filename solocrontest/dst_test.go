package solocrontest_test

import (
	"context"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no zone data for %s: %v", name, err)
	}
	return loc
}

// TestDaylightSavingThroughTheScheduler runs schedules through real DST
// changes on a fake clock: a time in the skipped hour runs once right
// after the jump, a time in the repeated hour once, at its first
// occurrence.
func TestDaylightSavingThroughTheScheduler(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name, zone, spec string
		from, to         string
		want             []string
	}{
		{"Berlin spring, skipped hour", "Europe/Berlin", "0 2 * * *", "2027-03-27T22:00:00Z", "2027-03-29T02:00:00Z",
			[]string{"2027-03-28T01:00:00Z", "2027-03-29T00:00:00Z"}},
		{"Berlin autumn, repeated hour", "Europe/Berlin", "30 2 * * *", "2026-10-24T22:00:00Z", "2026-10-26T03:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"New York autumn, repeated hour", "America/New_York", "30 1 * * *", "2026-10-31T04:00:00Z", "2026-11-02T08:00:00Z",
			[]string{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"New York spring, every hour on real time", "America/New_York", "0 * * * *", "2027-03-14T05:30:00Z", "2027-03-14T09:10:00Z",
			[]string{"2027-03-14T06:00:00Z", "2027-03-14T07:00:00Z", "2027-03-14T08:00:00Z", "2027-03-14T09:00:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := zone(t, c.zone)
			clock := solocrontest.NewClock(utc(c.from))
			var runs runLog
			s, err := solocron.New(solocron.Options{Elector: solocrontest.NewStore().Elector(), Clock: clock, Location: loc})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Add(solocron.Job{Name: "job", Spec: c.spec, Run: runs.run}); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Stop(context.Background()) })
			waitLeader(t, s)
			walk(t, clock, utc(c.to), 10*time.Minute, s)
			var want []time.Time
			for _, w := range c.want {
				want = append(want, utc(w))
			}
			waitRuns(t, &runs, want)
		})
	}
}

// TestDaylightSavingAcrossLeaders: a new leader that takes over inside the
// repeated hour never runs the second occurrence of the tick the previous
// leader ran.
func TestDaylightSavingAcrossLeaders(t *testing.T) {
	loc := zone(t, "America/New_York")
	clock := solocrontest.NewClock(time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC)) // 01:00 EDT
	store := solocrontest.NewStore()
	var runs runLog
	job := solocron.Job{Name: "job", Spec: "30 1 * * *", Misfire: solocron.MisfireRunAll, Run: runs.run}
	start := func() *solocron.Scheduler {
		s, err := solocron.New(solocron.Options{Elector: store.Elector(), Clock: clock, Location: loc})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(job); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop(context.Background()) })
		waitLeader(t, s)
		return s
	}
	a := start()
	walk(t, clock, time.Date(2026, 11, 1, 5, 40, 0, 0, time.UTC), 10*time.Minute, a) // 01:30 EDT runs
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC)) // 01:10 EST, the hour again
	b := start()
	walk(t, clock, time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), 10*time.Minute, b)
	waitRuns(t, &runs, []time.Time{time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)})
}
