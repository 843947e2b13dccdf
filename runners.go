package solocron

import (
	"context"
	"sync/atomic"
)

// runContext is a run's ctx: the term's context and the Run in one
// allocation (context.WithValue would box the Run in a second), and the
// task a runner picks up.
type runContext struct {
	context.Context
	run    Run
	j      *job
	result chan<- error // RunNow's, or nil
}

func (c *runContext) Value(key any) any {
	if key == (runKey{}) {
		return &c.run
	}
	return c.Context.Value(key)
}

// Runners kept waiting between ticks: as many as the largest batch this
// term has launched (so a tick of 10,000 jobs starts no goroutine once the
// runners exist), at least minIdleRunners, at most maxIdleRunners (an idle
// runner costs its stack, a few KiB).
const (
	minIdleRunners = 1024
	maxIdleRunners = 1 << 16
)

// runners are the goroutines that run a term's jobs. They are kept between
// runs: starting a goroutine per run, and growing its stack on the way into
// the job, was the largest cost of a firing at 10,000 jobs. A run never
// waits for a runner: when none is idle, a new one starts.
type runners struct {
	tasks chan *runContext // unbuffered: a send succeeds only to an idle runner
	idle  atomic.Int32
	keep  atomic.Int32 // how many may stay idle
	run   func(*runContext)
}

func newRunners(run func(*runContext)) *runners {
	p := &runners{tasks: make(chan *runContext), run: run}
	p.keep.Store(minIdleRunners)
	return p
}

// expect raises the number of runners kept idle to a batch of n runs.
func (p *runners) expect(n int) {
	n = min(n, maxIdleRunners)
	if int32(n) > p.keep.Load() {
		p.keep.Store(int32(n))
	}
}

// start hands rc to an idle runner, or starts one. It must not be called
// after close.
func (p *runners) start(rc *runContext) {
	select {
	case p.tasks <- rc:
	default:
		go p.loop(rc)
	}
}

func (p *runners) loop(rc *runContext) {
	for {
		p.run(rc)
		if p.idle.Add(1) > p.keep.Load() {
			p.idle.Add(-1)
			return
		}
		var ok bool
		rc, ok = <-p.tasks
		p.idle.Add(-1)
		if !ok {
			return
		}
	}
}

// close lets the idle runners go; busy ones end after their run.
func (p *runners) close() { close(p.tasks) }
