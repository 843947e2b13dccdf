package solocron

import (
	"context"
	"time"
)

// runContext is a run's ctx: the term's runs context and the Run in one
// value (context.WithValue would box the Run in a second allocation), and
// the task a worker picks up. A batch's runContexts are allocated as one
// slice: a context is immutable once made, so sharing an allocation is
// safe, and a tick of 10,000 runs makes ten allocations, not 10,000.
type runContext struct {
	context.Context
	run    Run
	j      *job
	result chan<- error // RunNow's, or nil
	next   time.Time    // the job's tick after this run's, as fire computed it once per bucket; zero: unknown
}

func (c *runContext) Value(key any) any {
	if key == (runKey{}) {
		return &c.run
	}
	return c.Context.Value(key)
}

// runSlab hands out runContexts from slices of a batch's size.
type runSlab struct{ free []runContext }

// next returns a zeroed runContext, allocating room for n more when the
// slab is empty.
func (s *runSlab) next(n int) *runContext {
	if len(s.free) == 0 {
		s.free = make([]runContext, max(n, 1))
	}
	rc := &s.free[0]
	s.free = s.free[1:]
	return rc
}
