// Package cluster runs a group of member child processes that share one
// solocron engine, and follows who leads from their events.
package cluster

import (
	"fmt"
	"time"

	"github.com/solocron/solocron/bench/internal/member"
	"github.com/solocron/solocron/bench/internal/proc"
)

// Cluster is a set of member processes. It is used from one goroutine; all
// its waits pump the members' events.
type Cluster struct {
	args    []string
	events  chan proc.Event
	members map[int]*proc.Child
	leader  int // pid of the member that last reported leading and has not lost it
}

// New returns an empty cluster whose members run `member ARGS`.
func New(args []string) *Cluster {
	return &Cluster{args: args, events: make(chan proc.Event, 4096), members: map[int]*proc.Child{}}
}

// Add starts one member and waits until its Start has returned.
func (c *Cluster) Add() (*proc.Child, error) {
	ch, err := proc.Start(member.Role, c.args, c.events)
	if err != nil {
		return nil, err
	}
	c.members[ch.PID] = ch
	if _, err := c.Await(10*time.Second, func(ev proc.Event) bool { return ev.PID == ch.PID && ev.Kind == "started" }); err != nil {
		return nil, fmt.Errorf("member %d: %w", ch.PID, err)
	}
	return ch, nil
}

// Leader returns the member that leads, if the cluster knows one.
func (c *Cluster) Leader() (*proc.Child, bool) {
	ch, ok := c.members[c.leader]
	return ch, ok
}

// AwaitLeader returns the member that leads, waiting up to timeout for
// one to report leading.
func (c *Cluster) AwaitLeader(timeout time.Duration) (*proc.Child, error) {
	if ch, ok := c.Leader(); ok {
		return ch, nil
	}
	ev, err := c.Await(timeout, func(ev proc.Event) bool { return ev.Kind == "leading" && c.members[ev.PID] != nil })
	if err != nil {
		return nil, fmt.Errorf("nobody leads: %w", err)
	}
	return c.members[ev.PID], nil
}

// Remove kills a member (if it still runs) and reaps it.
func (c *Cluster) Remove(ch *proc.Child) {
	ch.Close()
	delete(c.members, ch.PID)
	if c.leader == ch.PID {
		c.leader = 0
	}
}

// Await pumps events until match returns true for one, which it returns,
// or until timeout.
func (c *Cluster) Await(timeout time.Duration, match func(proc.Event) bool) (proc.Event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case ev := <-c.events:
			c.track(ev)
			if match(ev) {
				return ev, nil
			}
		case <-deadline.C:
			return proc.Event{}, fmt.Errorf("no matching event within %v", timeout)
		}
	}
}

// Sleep pumps events for d.
func (c *Cluster) Sleep(d time.Duration) {
	c.Await(d, func(proc.Event) bool { return false })
}

func (c *Cluster) track(ev proc.Event) {
	switch ev.Kind {
	case "leading":
		c.leader = ev.PID
	case "lost", "stopped":
		if c.leader == ev.PID {
			c.leader = 0
		}
	}
}

// Close kills and reaps every member.
func (c *Cluster) Close() {
	for _, ch := range c.members {
		c.Remove(ch)
	}
}
