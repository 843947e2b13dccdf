package solocron

import (
	"time"

	"github.com/robfig/cron/v3"
)

// wallClock reads a cron spec on the wall clock of a zone that changes its
// UTC offset, as Vixie cron and cronie do: a time in the hour the clocks
// repeat runs once, at its first occurrence, and a time in the hour they
// skip runs once, at the instant of the jump. robfig/cron yields both
// occurrences of a repeated time and none of a skipped one.
//
// Its ticks are a fixed set of instants and Next(t) is the first of them
// after t, whatever t is: latestTick relies on that when it probes
// backwards.
type wallClock struct {
	spec *cron.SpecSchedule // the spec as parsed, in loc
	wall *cron.SpecSchedule // the same spec on wall-clock times written as UTC
	loc  *time.Location
}

// allHours is the hour field of a spec that names every hour.
const allHours = 1<<24 - 1

// maxWallSteps bounds Next's walk over wall-clock ticks. One step is enough
// in every real zone; the bound only guards against odd zone data.
const maxWallSteps = 1000

// onWallClock returns s read on the wall clock, or s itself where that
// changes nothing: a zone that never changes its offset, and a spec naming
// every hour, which runs on real time (one tick per real hour, 23 or 25 on
// a change day, like robfig/cron and cronie).
func onWallClock(s *cron.SpecSchedule) cron.Schedule {
	if s.Hour&allHours == allHours || !hasTransitions(s.Location) {
		if s.Location == time.Local {
			return localSpec{s}
		}
		return s
	}
	wall := *s
	wall.Location = time.UTC
	return &wallClock{spec: s, wall: &wall, loc: s.Location}
}

// hasTransitions reports whether loc's offset ever changes: the stretch
// before its first transition then ends there.
func hasTransitions(loc *time.Location) bool {
	_, end := time.Unix(-1<<40, 0).In(loc).ZoneBounds()
	return !end.IsZero()
}

// Next returns the first tick after from. It reads the spec in w.loc even
// for time.Local, whatever from's location: ledger times are UTC.
func (w *wallClock) Next(from time.Time) time.Time {
	after := w.wallTime(from)
	if end, ok := w.repeatEnd(from); ok {
		// Each wall time before end first occurred before from.
		after = w.wallTime(end).Add(-time.Nanosecond)
	}
	for range maxWallSteps {
		wall := w.wall.Next(after)
		if wall.IsZero() {
			return time.Time{}
		}
		if t, ok := w.instant(wall); ok && t.After(from) {
			return t.In(from.Location())
		}
		after = wall
	}
	return w.spec.Next(from)
}

// wallTime returns t's wall-clock reading in w.loc, written as UTC.
func (w *wallClock) wallTime(t time.Time) time.Time {
	_, offset := t.In(w.loc).Zone()
	return t.UTC().Add(time.Duration(offset) * time.Second)
}

// repeatEnd reports whether t is a second occurrence of its wall-clock
// time, and if so the end of the repeat.
func (w *wallClock) repeatEnd(t time.Time) (time.Time, bool) {
	s := spanAt(t, w.loc)
	prev, ok := s.before(w.loc)
	if !ok {
		return time.Time{}, false
	}
	end := s.start.Add(prev.offset - s.offset)
	return end, t.Before(end)
}

// instant returns the first instant whose wall clock in w.loc reads wall,
// or for a wall time the clocks skip, the instant they jump over it.
func (w *wallClock) instant(wall time.Time) (time.Time, bool) {
	guess := spanAt(wall, w.loc)
	s := spanAt(wall.Add(-guess.offset), w.loc)
	var spans [3]span // in time order, around the instant sought
	n := 0
	if prev, ok := s.before(w.loc); ok {
		spans[n], n = prev, n+1
	}
	spans[n], n = s, n+1
	if next, ok := s.after(w.loc); ok {
		spans[n], n = next, n+1
	}
	for _, z := range spans[:n] {
		if t := wall.Add(-z.offset); z.contains(t) {
			return t, true
		}
	}
	for i := 1; i < n; i++ {
		jump := spans[i].start
		if !wall.Before(jump.Add(spans[i-1].offset)) && wall.Before(jump.Add(spans[i].offset)) {
			return jump, true
		}
	}
	return time.Time{}, false
}

// span is a stretch of time over which a location keeps one UTC offset.
type span struct {
	start, end time.Time // the zero time: unbounded
	offset     time.Duration
}

func spanAt(t time.Time, loc *time.Location) span {
	t = t.In(loc)
	_, offset := t.Zone()
	start, end := t.ZoneBounds()
	return span{start: start, end: end, offset: time.Duration(offset) * time.Second}
}

func (s span) contains(t time.Time) bool {
	return (s.start.IsZero() || !t.Before(s.start)) && (s.end.IsZero() || t.Before(s.end))
}

func (s span) before(loc *time.Location) (span, bool) {
	if s.start.IsZero() {
		return span{}, false
	}
	return spanAt(s.start.Add(-time.Nanosecond), loc), true
}

func (s span) after(loc *time.Location) (span, bool) {
	if s.end.IsZero() {
		return span{}, false
	}
	return spanAt(s.end, loc), true
}

// localSpec reads a spec in time.Local whatever the location of the time
// it is given: robfig/cron reads a spec whose Location is time.Local in
// the location of the time passed to Next, and ledger times are UTC, so a
// new leader's catch-up would read "0 2 * * *" as 02:00 UTC.
type localSpec struct{ *cron.SpecSchedule }

func (l localSpec) Next(t time.Time) time.Time {
	n := l.SpecSchedule.Next(t.In(time.Local))
	if n.IsZero() {
		return n
	}
	return n.In(t.Location())
}
