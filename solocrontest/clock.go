package solocrontest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/solocron/solocron"
)

// Clock is a solocron.Clock that moves only when a test moves it, for
// Options.Clock: a schedule can be run through a DST change, a long
// outage or a takeover without waiting. Its timers fire when Set or
// Advance moves the time to or past their deadline. Safe for concurrent
// use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	armed  map[*timer]bool
	rearmd chan struct{} // closed and replaced whenever a timer is armed
}

// NewClock returns a Clock that reads now.
func NewClock(now time.Time) *Clock {
	return &Clock{now: now, armed: map[*timer]bool{}, rearmd: make(chan struct{})}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and fires the timers that fall due.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t, forward or back (a stepped clock), and fires
// the timers whose deadline is at or before t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	var due []*timer
	for tm := range c.armed {
		if !tm.deadline.After(t) {
			due = append(due, tm)
			delete(c.armed, tm)
		}
	}
	c.mu.Unlock()
	for _, tm := range due {
		tm.send(t)
	}
}

// WaitForTimer returns once some timer of the clock waits for a time
// after now: a Scheduler has handled what was due and waits for its next
// tick (its runs may still be going). It returns ctx's error if ctx ends
// first.
func (c *Clock) WaitForTimer(ctx context.Context) error {
	for {
		c.mu.Lock()
		for tm := range c.armed {
			if tm.deadline.After(c.now) {
				c.mu.Unlock()
				return nil
			}
		}
		rearmed := c.rearmd
		c.mu.Unlock()
		select {
		case <-rearmed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NewTimer returns a timer that fires once d has passed on the clock.
func (c *Clock) NewTimer(d time.Duration) solocron.Timer {
	tm := &timer{c: c, ch: make(chan time.Time, 1)}
	tm.Reset(d)
	return tm
}

type timer struct {
	c        *Clock
	ch       chan time.Time
	deadline time.Time // guarded by c.mu
}

func (tm *timer) C() <-chan time.Time { return tm.ch }

func (tm *timer) Reset(d time.Duration) {
	c := tm.c
	c.mu.Lock()
	tm.drain()
	tm.deadline = c.now.Add(d)
	if d <= 0 {
		delete(c.armed, tm)
		now := c.now
		c.mu.Unlock()
		tm.send(now)
		return
	}
	c.armed[tm] = true
	close(c.rearmd)
	c.rearmd = make(chan struct{})
	c.mu.Unlock()
}

func (tm *timer) Stop() {
	c := tm.c
	c.mu.Lock()
	delete(c.armed, tm)
	tm.drain()
	c.mu.Unlock()
}

// drain drops a value not yet received, as time.Timer does on Reset.
func (tm *timer) drain() {
	select {
	case <-tm.ch:
	default:
	}
}

func (tm *timer) send(t time.Time) {
	select {
	case tm.ch <- t:
	default:
	}
}

// Walk moves the clock to end in steps of step. After each step it waits
// until the clock has a timer armed for a later time (the leader waits for
// its next tick) and no job of schedulers is running, so that a test sees
// each tick's runs before the next step. It returns ctx's error if that
// does not happen before ctx ends.
func (c *Clock) Walk(ctx context.Context, end time.Time, step time.Duration, schedulers ...*solocron.Scheduler) error {
	if step <= 0 {
		return errors.New("solocrontest: Walk needs a positive step")
	}
	if err := c.settle(ctx, schedulers); err != nil {
		return err
	}
	for c.Now().Before(end) {
		c.Set(minTime(c.Now().Add(step), end))
		if err := c.settle(ctx, schedulers); err != nil {
			return err
		}
	}
	return nil
}

func (c *Clock) settle(ctx context.Context, schedulers []*solocron.Scheduler) error {
	if err := c.WaitForTimer(ctx); err != nil {
		return fmt.Errorf("solocrontest: no scheduler waits for a tick at %v: %w", c.Now(), err)
	}
	for _, s := range schedulers {
		for running(s) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("solocrontest: runs still going at %v: %w", c.Now(), ctx.Err())
			case <-time.After(100 * time.Microsecond):
			}
		}
	}
	return nil
}

func running(s *solocron.Scheduler) bool {
	for _, j := range s.Status(context.Background()).Jobs {
		if j.Running {
			return true
		}
	}
	return false
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
