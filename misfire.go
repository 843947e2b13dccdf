package solocron

import (
	"time"

	"github.com/robfig/cron/v3"
)

// catchUp is what a new leader owes one job for the time nobody led.
type catchUp struct {
	runs    []Run     // to run in order: an at-least-once retry, then missed ticks
	skipped []Run     // missed ticks passed over (one stands for all older than the grace window)
	next    time.Time // the first tick after now
}

// maxCatchUpScan bounds the ticks MisfireRunAll walks through.
const maxCatchUpScan = 100_000

// maxProbe keeps latestTick's doubling steps far from overflowing.
const maxProbe = 100 * 365 * 24 * time.Hour

// planCatchUp applies j's misfire policy to its ledger record. last is the
// last claimed tick and done the last completed one.
func planCatchUp(j *job, last, done, now time.Time) catchUp {
	var c catchUp
	if j.AtLeastOnce && done.Before(last) {
		c.runs = append(c.runs, Run{Job: j.Name, Tick: last, Retry: true})
	}
	c.next = continueAfter(j.sched, last, latest(now, last))
	first := j.sched.Next(last)
	if first.IsZero() || first.After(now) {
		return c // nothing was missed
	}
	oldest := now.Add(-j.MisfireGrace)
	from := last
	if !first.After(oldest) {
		c.skipped = append(c.skipped, Run{Job: j.Name, Tick: first})
		from = oldest
	}
	switch j.Misfire {
	case MisfireSkip:
		if len(c.skipped) == 0 {
			c.skipped = append(c.skipped, Run{Job: j.Name, Tick: first})
		}
	case MisfireRunOnce:
		if t := latestTick(j.sched, last, from, now); !t.IsZero() {
			c.runs = append(c.runs, Run{Job: j.Name, Tick: t})
		}
	case MisfireRunAll:
		var ticks []time.Time
		for t, n := continueAfter(j.sched, last, from), 0; !t.IsZero() && !t.After(now) && n < maxCatchUpScan; t, n = j.sched.Next(t), n+1 {
			ticks = append(ticks, t)
		}
		if over := len(ticks) - j.MaxCatchUp; over > 0 {
			c.skipped = append(c.skipped, Run{Job: j.Name, Tick: ticks[0]})
			ticks = ticks[over:]
		}
		for _, t := range ticks {
			c.runs = append(c.runs, Run{Job: j.Name, Tick: t})
		}
	}
	return c
}

// continueAfter returns the first tick of s after t. An @every schedule
// counts from its previous tick, so its series goes on from the last
// claimed tick: restarting it at a takeover would stretch an interval or
// skip a tick.
func continueAfter(s cron.Schedule, last, t time.Time) time.Time {
	every, ok := s.(cron.ConstantDelaySchedule)
	if !ok {
		return s.Next(t)
	}
	first := s.Next(last)
	if first.After(t) {
		return first
	}
	return first.Add((t.Sub(first)/every.Delay + 1) * every.Delay)
}

// latestTick returns the last tick t of s with after < t <= now, or the zero
// time (ticks of @every schedules continue from last). It probes backwards
// from now in doubling steps so that a long outage costs a few Next calls
// rather than one per missed tick.
func latestTick(s cron.Schedule, last, after, now time.Time) time.Time {
	if every, ok := s.(cron.ConstantDelaySchedule); ok {
		if t := continueAfter(s, last, now).Add(-every.Delay); t.After(after) {
			return t
		}
		return time.Time{}
	}
	for d := time.Second; ; d *= 2 {
		from := now.Add(-d)
		if d > maxProbe || !from.After(after) {
			from = after
		}
		if t := s.Next(from); !t.IsZero() && !t.After(now) {
			for {
				n := s.Next(t)
				if n.IsZero() || n.After(now) {
					return t
				}
				t = n
			}
		}
		if from.Equal(after) {
			return time.Time{}
		}
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
