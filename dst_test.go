package solocron

import (
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on machines without a zone database

	"github.com/robfig/cron/v3"
)

func dstZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// dstSchedule parses spec as the Scheduler does, with Options.Location loc.
func dstSchedule(t *testing.T, spec string, seconds bool, loc *time.Location) cron.Schedule {
	t.Helper()
	o := Options{Seconds: seconds, Location: loc}
	sched, err := parseSpec(o.parser(), spec, o.Location)
	if err != nil {
		t.Fatal(err)
	}
	return sched
}

// dstTicks walks sched through the day before day, day and the day after,
// in loc, and returns its ticks. It fails the test unless each tick comes
// after the one before, and (but for @every) unless Next from any time, not
// only a tick, returns the first tick after it, as latestTick's probes need.
func dstTicks(t *testing.T, sched cron.Schedule, day string, loc *time.Location) []time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, day) // in UTC: midnight may not exist in loc
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(d.Year(), d.Month(), d.Day()-1, 0, 0, 0, 0, loc).Add(-time.Second)
	to := time.Date(d.Year(), d.Month(), d.Day()+2, 0, 0, 0, 0, loc)
	var ticks []time.Time
	for tick := sched.Next(from); tick.Before(to); tick = sched.Next(tick) {
		if tick.IsZero() || !tick.After(from) || len(ticks) > 1000 {
			t.Fatalf("tick %v after %v", tick, from)
		}
		ticks, from = append(ticks, tick), tick
	}
	if _, every := sched.(cron.ConstantDelaySchedule); every {
		return ticks // @every counts from the time it is given
	}
	start := time.Date(d.Year(), d.Month(), d.Day()-1, 0, 0, 0, 0, loc)
	for i, tick := range ticks {
		if got := sched.Next(tick.Add(-time.Nanosecond)); !got.Equal(tick) {
			t.Errorf("Next(%v - 1ns) = %v", tick, got)
		}
		for p := start; p.Before(tick); p = p.Add(7*time.Minute + 13*time.Second) {
			if got := sched.Next(p); (i == 0 || !p.Before(ticks[i-1])) && !got.Equal(tick) {
				t.Errorf("Next(%v) = %v, want %v", p, got, tick)
			}
		}
		start = tick
	}
	return ticks
}

// TestDSTOncePerWallClockTick checks every tick around real clock changes: a
// time in the repeated hour runs at its first occurrence only, a time in the
// skipped hour runs once at the jump, and other days are untouched.
func TestDSTOncePerWallClockTick(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		zone    string // the day's and the ticks' zone
		optLoc  string // Options.Location; "" means zone
		day     string // the change day
		spec    string
		seconds bool
		want    []string
	}{
		// Berlin, spring: 02:00 CET jumps to 03:00 CEST.
		{"skipped time runs at the jump", "Europe/Berlin", "", "2026-03-29", "0 2 * * *", false,
			[]string{"Mar 28 02:00:00 +01:00", "Mar 29 03:00:00 +02:00", "Mar 30 02:00:00 +02:00"}},
		{"skipped half hour runs at the jump", "Europe/Berlin", "", "2026-03-29", "30 2 * * *", false,
			[]string{"Mar 28 02:30:00 +01:00", "Mar 29 03:00:00 +02:00", "Mar 30 02:30:00 +02:00"}},
		{"several skipped times run once", "Europe/Berlin", "", "2026-03-29", "*/15 2 * * *", false, []string{
			"Mar 28 02:00:00 +01:00", "Mar 28 02:15:00 +01:00", "Mar 28 02:30:00 +01:00", "Mar 28 02:45:00 +01:00",
			"Mar 29 03:00:00 +02:00",
			"Mar 30 02:00:00 +02:00", "Mar 30 02:15:00 +02:00", "Mar 30 02:30:00 +02:00", "Mar 30 02:45:00 +02:00"}},
		{"hour before the jump untouched", "Europe/Berlin", "", "2026-03-29", "0 1,2 * * *", false, []string{
			"Mar 28 01:00:00 +01:00", "Mar 28 02:00:00 +01:00",
			"Mar 29 01:00:00 +01:00", "Mar 29 03:00:00 +02:00",
			"Mar 30 01:00:00 +02:00", "Mar 30 02:00:00 +02:00"}},
		{"skipped time and the jump's own time are one tick", "Europe/Berlin", "", "2026-03-29", "0 2,3 * * *", false, []string{
			"Mar 28 02:00:00 +01:00", "Mar 28 03:00:00 +01:00",
			"Mar 29 03:00:00 +02:00",
			"Mar 30 02:00:00 +02:00", "Mar 30 03:00:00 +02:00"}},
		{"weekday of the change day", "Europe/Berlin", "", "2026-03-29", "0 2 * * 0", false,
			[]string{"Mar 29 03:00:00 +02:00"}},
		{"weekday after the change day", "Europe/Berlin", "", "2026-03-29", "0 2 * * 1", false,
			[]string{"Mar 30 02:00:00 +02:00"}},
		{"day of month of the change day", "Europe/Berlin", "", "2026-03-29", "0 2 29 3 *", false,
			[]string{"Mar 29 03:00:00 +02:00"}},
		{"day of month before the change day", "Europe/Berlin", "", "2026-03-29", "0 2 28 3 *", false,
			[]string{"Mar 28 02:00:00 +01:00"}},
		{"seconds field", "Europe/Berlin", "", "2026-03-29", "30 15 2 * * *", true,
			[]string{"Mar 28 02:15:30 +01:00", "Mar 29 03:00:00 +02:00", "Mar 30 02:15:30 +02:00"}},
		{"2027 spring", "Europe/Berlin", "", "2027-03-28", "0 2 * * *", false,
			[]string{"Mar 27 02:00:00 +01:00", "Mar 28 03:00:00 +02:00", "Mar 29 02:00:00 +02:00"}},
		// Berlin, autumn: 03:00 CEST goes back to 02:00 CET.
		{"repeated time runs at its first occurrence", "Europe/Berlin", "", "2026-10-25", "30 2 * * *", false,
			[]string{"Oct 24 02:30:00 +02:00", "Oct 25 02:30:00 +02:00", "Oct 26 02:30:00 +01:00"}},
		{"repeated times run once each", "Europe/Berlin", "", "2026-10-25", "*/15 2 * * *", false, []string{
			"Oct 24 02:00:00 +02:00", "Oct 24 02:15:00 +02:00", "Oct 24 02:30:00 +02:00", "Oct 24 02:45:00 +02:00",
			"Oct 25 02:00:00 +02:00", "Oct 25 02:15:00 +02:00", "Oct 25 02:30:00 +02:00", "Oct 25 02:45:00 +02:00",
			"Oct 26 02:00:00 +01:00", "Oct 26 02:15:00 +01:00", "Oct 26 02:30:00 +01:00", "Oct 26 02:45:00 +01:00"}},
		{"2027 autumn", "Europe/Berlin", "", "2027-10-31", "30 2 * * *", false,
			[]string{"Oct 30 02:30:00 +02:00", "Oct 31 02:30:00 +02:00", "Nov 1 02:30:00 +01:00"}},
		// New York, spring: 02:00 EST jumps to 03:00 EDT.
		{"skipped time runs at the jump", "America/New_York", "", "2026-03-08", "0 2 * * *", false,
			[]string{"Mar 7 02:00:00 -05:00", "Mar 8 03:00:00 -04:00", "Mar 9 02:00:00 -04:00"}},
		{"time before the jump untouched", "America/New_York", "", "2026-03-08", "30 1 * * *", false,
			[]string{"Mar 7 01:30:00 -05:00", "Mar 8 01:30:00 -05:00", "Mar 9 01:30:00 -04:00"}},
		{"2027 spring, several skipped times", "America/New_York", "", "2027-03-14", "*/15 2 * * *", false, []string{
			"Mar 13 02:00:00 -05:00", "Mar 13 02:15:00 -05:00", "Mar 13 02:30:00 -05:00", "Mar 13 02:45:00 -05:00",
			"Mar 14 03:00:00 -04:00",
			"Mar 15 02:00:00 -04:00", "Mar 15 02:15:00 -04:00", "Mar 15 02:30:00 -04:00", "Mar 15 02:45:00 -04:00"}},
		{"TZ= prefix over Options.Location", "America/New_York", "Europe/Berlin", "2026-03-08", "CRON_TZ=America/New_York 0 2 * * *", false,
			[]string{"Mar 7 02:00:00 -05:00", "Mar 8 03:00:00 -04:00", "Mar 9 02:00:00 -04:00"}},
		// New York, autumn: 02:00 EDT goes back to 01:00 EST.
		{"repeated time runs at its first occurrence", "America/New_York", "", "2026-11-01", "30 1 * * *", false,
			[]string{"Oct 31 01:30:00 -04:00", "Nov 1 01:30:00 -04:00", "Nov 2 01:30:00 -05:00"}},
		{"hour after the repeat untouched", "America/New_York", "", "2026-11-01", "0 1,2 * * *", false, []string{
			"Oct 31 01:00:00 -04:00", "Oct 31 02:00:00 -04:00",
			"Nov 1 01:00:00 -04:00", "Nov 1 02:00:00 -05:00",
			"Nov 2 01:00:00 -05:00", "Nov 2 02:00:00 -05:00"}},
		{"repeated times run once each", "America/New_York", "", "2026-11-01", "*/15 1 * * *", false, []string{
			"Oct 31 01:00:00 -04:00", "Oct 31 01:15:00 -04:00", "Oct 31 01:30:00 -04:00", "Oct 31 01:45:00 -04:00",
			"Nov 1 01:00:00 -04:00", "Nov 1 01:15:00 -04:00", "Nov 1 01:30:00 -04:00", "Nov 1 01:45:00 -04:00",
			"Nov 2 01:00:00 -05:00", "Nov 2 01:15:00 -05:00", "Nov 2 01:30:00 -05:00", "Nov 2 01:45:00 -05:00"}},
		{"weekday of the change day", "America/New_York", "", "2026-11-01", "30 1 * * 0", false,
			[]string{"Nov 1 01:30:00 -04:00"}},
		{"weekday before the change day", "America/New_York", "", "2026-11-01", "30 1 * * 6", false,
			[]string{"Oct 31 01:30:00 -04:00"}},
		{"day of month of the change day", "America/New_York", "", "2026-11-01", "30 1 1 11 *", false,
			[]string{"Nov 1 01:30:00 -04:00"}},
		{"seconds field", "America/New_York", "", "2026-11-01", "0 30 1 * * *", true,
			[]string{"Oct 31 01:30:00 -04:00", "Nov 1 01:30:00 -04:00", "Nov 2 01:30:00 -05:00"}},
		{"TZ= prefix", "America/New_York", "UTC", "2026-11-01", "TZ=America/New_York 30 1 * * *", false,
			[]string{"Oct 31 01:30:00 -04:00", "Nov 1 01:30:00 -04:00", "Nov 2 01:30:00 -05:00"}},
		{"2027 autumn", "America/New_York", "", "2027-11-07", "30 1 * * *", false,
			[]string{"Nov 6 01:30:00 -04:00", "Nov 7 01:30:00 -04:00", "Nov 8 01:30:00 -05:00"}},
		// Sydney: autumn in April, spring in October.
		{"southern autumn", "Australia/Sydney", "", "2026-04-05", "30 2 * * *", false,
			[]string{"Apr 4 02:30:00 +11:00", "Apr 5 02:30:00 +11:00", "Apr 6 02:30:00 +10:00"}},
		{"southern spring", "Australia/Sydney", "", "2026-10-04", "0 2 * * *", false,
			[]string{"Oct 3 02:00:00 +10:00", "Oct 4 03:00:00 +11:00", "Oct 5 02:00:00 +11:00"}},
		// Lord Howe shifts by 30 minutes: 02:00 goes back to 01:30 in
		// April, and 02:00 jumps to 02:30 in October.
		{"half-hour repeat", "Australia/Lord_Howe", "", "2026-04-05", "45 1 * * *", false,
			[]string{"Apr 4 01:45:00 +11:00", "Apr 5 01:45:00 +11:00", "Apr 6 01:45:00 +10:30"}},
		{"half-hour repeat: the time after it occurs once", "Australia/Lord_Howe", "", "2026-04-05", "0 2 * * *", false,
			[]string{"Apr 4 02:00:00 +11:00", "Apr 5 02:00:00 +10:30", "Apr 6 02:00:00 +10:30"}},
		{"half-hour repeat, several times", "Australia/Lord_Howe", "", "2026-04-05", "*/15 1 * * *", false, []string{
			"Apr 4 01:00:00 +11:00", "Apr 4 01:15:00 +11:00", "Apr 4 01:30:00 +11:00", "Apr 4 01:45:00 +11:00",
			"Apr 5 01:00:00 +11:00", "Apr 5 01:15:00 +11:00", "Apr 5 01:30:00 +11:00", "Apr 5 01:45:00 +11:00",
			"Apr 6 01:00:00 +10:30", "Apr 6 01:15:00 +10:30", "Apr 6 01:30:00 +10:30", "Apr 6 01:45:00 +10:30"}},
		{"half-hour jump", "Australia/Lord_Howe", "", "2026-10-04", "15 2 * * *", false,
			[]string{"Oct 3 02:15:00 +10:30", "Oct 4 02:30:00 +11:00", "Oct 5 02:15:00 +11:00"}},
		{"half-hour jump, several times", "Australia/Lord_Howe", "", "2026-10-04", "*/15 2 * * *", false, []string{
			"Oct 3 02:00:00 +10:30", "Oct 3 02:15:00 +10:30", "Oct 3 02:30:00 +10:30", "Oct 3 02:45:00 +10:30",
			"Oct 4 02:30:00 +11:00", "Oct 4 02:45:00 +11:00",
			"Oct 5 02:00:00 +11:00", "Oct 5 02:15:00 +11:00", "Oct 5 02:30:00 +11:00", "Oct 5 02:45:00 +11:00"}},
		// Santiago changes at midnight.
		{"skipped midnight", "America/Santiago", "", "2026-09-06", "@daily", false,
			[]string{"Sep 5 00:00:00 -04:00", "Sep 6 01:00:00 -03:00", "Sep 7 00:00:00 -03:00"}},
		{"repeated hour before midnight", "America/Santiago", "", "2026-04-04", "30 23 * * *", false,
			[]string{"Apr 3 23:30:00 -03:00", "Apr 4 23:30:00 -03:00", "Apr 5 23:30:00 -04:00"}},
	}
	for _, c := range cases {
		t.Run(c.zone+"/"+c.day+"/"+c.name, func(t *testing.T) {
			loc := dstZone(t, c.zone)
			optLoc := loc
			if c.optLoc != "" {
				optLoc = dstZone(t, c.optLoc)
			}
			var got []string
			for _, tick := range dstTicks(t, dstSchedule(t, c.spec, c.seconds, optLoc), c.day, loc) {
				got = append(got, tick.In(loc).Format("Jan 2 15:04:05 -07:00"))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%q ticks\n%s\nwant\n%s", c.spec, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestDSTRealTimeForEveryHour checks that specs naming every hour and @every
// run on real time across a clock change: evenly spaced ticks, 23 or 25
// hours' worth on the change day.
func TestDSTRealTimeForEveryHour(t *testing.T) {
	t.Parallel()
	cases := []struct {
		zone, day, spec string
		gap             time.Duration
		onTheDay        int
	}{
		{"America/New_York", "2026-03-08", "0 * * * *", time.Hour, 23},
		{"America/New_York", "2026-11-01", "0 * * * *", time.Hour, 25},
		{"America/New_York", "2026-11-01", "@hourly", time.Hour, 25},
		{"Europe/Berlin", "2026-03-29", "*/5 * * * *", 5 * time.Minute, 23 * 12},
		{"Europe/Berlin", "2026-10-25", "*/5 0-23 * * *", 5 * time.Minute, 25 * 12},
		{"Europe/Berlin", "2026-03-29", "@every 1h", time.Hour, 23},
		{"Europe/Berlin", "2026-10-25", "@every 1h", time.Hour, 25},
	}
	for _, c := range cases {
		t.Run(c.zone+"/"+c.day+"/"+c.spec, func(t *testing.T) {
			loc := dstZone(t, c.zone)
			ticks := dstTicks(t, dstSchedule(t, c.spec, false, loc), c.day, loc)
			onTheDay := 0
			for i, tick := range ticks {
				if tick.In(loc).Format(time.DateOnly) == c.day {
					onTheDay++
				}
				if i > 0 && tick.Sub(ticks[i-1]) != c.gap {
					t.Errorf("tick %v comes %v after %v, want %v", tick.In(loc), tick.Sub(ticks[i-1]), ticks[i-1].In(loc), c.gap)
				}
			}
			if onTheDay != c.onTheDay {
				t.Errorf("%d ticks on %s, want %d", onTheDay, c.day, c.onTheDay)
			}
		})
	}
}

// TestDSTScheduleOnlyWhereClocksChange checks that parseSpec returns
// robfig/cron's own schedule where the wall clock changes nothing.
func TestDSTScheduleOnlyWhereClocksChange(t *testing.T) {
	t.Parallel()
	berlin := dstZone(t, "Europe/Berlin")
	fixed := time.FixedZone("UTC+3", 3*60*60)
	cases := []struct {
		spec    string
		loc     *time.Location
		wrapped bool
	}{
		{"0 2 * * *", time.UTC, false},
		{"0 2 * * *", fixed, false},
		{"TZ=UTC 0 2 * * *", berlin, false},
		{"TZ=Etc/GMT-1 0 2 * * *", berlin, false},
		{"0 * * * *", berlin, false},
		{"*/5 0-23 * * *", berlin, false},
		{"@hourly", berlin, false},
		{"@every 1h", berlin, false},
		{"0 2 * * *", berlin, true},
		{"0 0-22 * * *", berlin, true},
		{"@daily", berlin, true},
		{"TZ=Europe/Berlin 0 2 * * *", time.UTC, true},
	}
	p := (&Options{}).parser()
	for _, c := range cases {
		got, err := parseSpec(p, c.spec, c.loc)
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.Parse(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := want.(*cron.SpecSchedule); ok && !strings.Contains(c.spec, "TZ=") {
			s.Location = c.loc
		}
		if wc, ok := got.(*wallClock); ok != c.wrapped {
			t.Errorf("%q in %v: %T, want wrapped %v", c.spec, c.loc, got, c.wrapped)
		} else if ok {
			got = wc.spec
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q in %v: %#v, want %#v", c.spec, c.loc, got, want)
		}
	}
}

// TestDSTCatchUp checks a takeover across a clock change: a ledger whose last
// claimed tick is a repeated time's first occurrence owes nothing for its
// second, and a skipped time is owed at the jump.
func TestDSTCatchUp(t *testing.T) {
	t.Parallel()
	at := func(month time.Month, day, h, m int) time.Time {
		return time.Date(2026, month, day, h, m, 0, 0, time.UTC)
	}
	const ny, berlin = "TZ=America/New_York ", "TZ=Europe/Berlin "
	const grace = 48 * time.Hour
	cases := []struct {
		name        string
		job         Job
		last, now   time.Time
		wantRuns    []time.Time
		wantSkipped []time.Time
		wantNext    time.Time
	}{
		// New York's 01:30 is 05:30Z, then 06:30Z again on Nov 1.
		{"first occurrence claimed: the second is not owed", Job{Spec: ny + "0 30 1 * * *"},
			at(11, 1, 5, 30), at(11, 1, 6, 45), nil, nil, at(11, 2, 6, 30)},
		{"first occurrence claimed, run all", Job{Spec: ny + "0 30 1 * * *", Misfire: MisfireRunAll},
			at(11, 1, 5, 30), at(11, 1, 6, 45), nil, nil, at(11, 2, 6, 30)},
		{"the first occurrence is owed, once", Job{Spec: ny + "0 30 1 * * *", MisfireGrace: grace},
			at(10, 31, 5, 30), at(11, 1, 6, 45), []time.Time{at(11, 1, 5, 30)}, nil, at(11, 2, 6, 30)},
		{"the first occurrence is owed, once, run all", Job{Spec: ny + "0 30 1 * * *", MisfireGrace: grace, Misfire: MisfireRunAll},
			at(10, 31, 5, 30), at(11, 1, 6, 45), []time.Time{at(11, 1, 5, 30)}, nil, at(11, 2, 6, 30)},
		{"long outage probes back past the repeat", Job{Spec: ny + "0 30 1 * * *", MisfireGrace: 1000 * time.Hour},
			at(10, 1, 5, 30), at(11, 1, 6, 45), []time.Time{at(11, 1, 5, 30)}, nil, at(11, 2, 6, 30)},
		{"taken over inside the repeat", Job{Spec: ny + "0 */15 1 * * *", MisfireGrace: grace},
			at(10, 31, 5, 45), at(11, 1, 6, 20), []time.Time{at(11, 1, 5, 45)}, nil, at(11, 2, 6, 0)},
		{"taken over inside the repeat, run all", Job{Spec: ny + "0 */15 1 * * *", MisfireGrace: grace, Misfire: MisfireRunAll},
			at(10, 31, 5, 45), at(11, 1, 6, 20),
			[]time.Time{at(11, 1, 5, 0), at(11, 1, 5, 15), at(11, 1, 5, 30), at(11, 1, 5, 45)}, nil, at(11, 2, 6, 0)},
		// Berlin's 02:00 is skipped on Mar 29: the jump is at 01:00Z.
		{"skipped time owed at the jump", Job{Spec: berlin + "0 0 2 * * *", MisfireGrace: grace},
			at(3, 28, 1, 0), at(3, 29, 1, 30), []time.Time{at(3, 29, 1, 0)}, nil, at(3, 30, 0, 0)},
		{"skipped time owed at the jump, run all", Job{Spec: berlin + "0 */15 2 * * *", MisfireGrace: grace, Misfire: MisfireRunAll},
			at(3, 28, 1, 45), at(3, 29, 1, 30), []time.Time{at(3, 29, 1, 0)}, nil, at(3, 30, 0, 0)},
		{"skipped time passed over", Job{Spec: berlin + "0 0 2 * * *", Misfire: MisfireSkip},
			at(3, 28, 1, 0), at(3, 29, 1, 30), nil, []time.Time{at(3, 29, 1, 0)}, at(3, 30, 0, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := planned(t, c.job, c.last, c.last, c.now)
			runs := func(rs []Run) (ts []time.Time) {
				for _, r := range rs {
					ts = append(ts, r.Tick.UTC())
				}
				return ts
			}
			if r := runs(got.runs); !reflect.DeepEqual(r, c.wantRuns) {
				t.Errorf("runs %v, want %v", r, c.wantRuns)
			}
			if s := runs(got.skipped); !reflect.DeepEqual(s, c.wantSkipped) {
				t.Errorf("skipped %v, want %v", s, c.wantSkipped)
			}
			if !got.next.Equal(c.wantNext) {
				t.Errorf("next %v, want %v", got.next.UTC(), c.wantNext)
			}
		})
	}
}
