package solocron

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// stallCheck is how long published runs may wait while every worker is
// busy before another worker starts: a run never waits behind a long one
// for more than about this.
const stallCheck = time.Millisecond

// dispatcher runs a term's runs on a few workers. A tick's granted runs
// are published as one batch, and waking the workers costs one signal
// per idle worker, not one per run (at 10,000 jobs a tick, a goroutine or
// a channel handoff per run was most of a firing's cost). Workers take
// one run at a time. GOMAXPROCS workers are kept; when all of them are
// held by long runs while runs wait, a watchdog starts another, and
// workers beyond the kept ones leave once the queue is empty.
type dispatcher struct {
	run  func(*runContext)
	keep int

	mu       sync.Mutex
	wake     sync.Cond
	queue    []*runContext // published and not taken: queue[head:]
	head     int
	workers  int
	idle     int
	taken    uint64 // runs taken so far, for the watchdog
	watching bool
	closed   bool

	inflight sync.WaitGroup // runs published and not finished
}

func newDispatcher(run func(*runContext)) *dispatcher {
	d := &dispatcher{run: run, keep: runtime.GOMAXPROCS(0)}
	d.wake.L = &d.mu
	return d
}

// publish queues runs for the workers. It reports false, queueing none,
// once the dispatcher is closed.
func (d *dispatcher) publish(runs []*runContext) bool {
	if len(runs) == 0 {
		return true
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return false
	}
	d.inflight.Add(len(runs))
	d.queue = append(d.queue, runs...)
	pending := len(d.queue) - d.head
	for range min(pending, d.idle) {
		d.wake.Signal()
	}
	start := 0
	if pending > d.idle && d.workers < d.keep {
		start = min(d.keep-d.workers, pending-d.idle)
		d.workers += start
	}
	if !d.watching {
		d.watching = true
		time.AfterFunc(stallCheck, d.watch(d.taken))
	}
	d.mu.Unlock()
	for range start {
		go d.work()
	}
	return true
}

// watch returns the watchdog's next check: while runs wait and no worker
// took one since the last check (all are held by runs), start another.
func (d *dispatcher) watch(takenBefore uint64) func() {
	return func() {
		d.mu.Lock()
		if d.closed || d.head == len(d.queue) {
			d.watching = false
			d.mu.Unlock()
			return
		}
		stalled := d.taken == takenBefore && d.idle == 0
		if stalled {
			d.workers++
		}
		time.AfterFunc(stallCheck, d.watch(d.taken))
		d.mu.Unlock()
		if stalled {
			go d.work()
		}
	}
}

// work takes runs one at a time until the dispatcher closes, or until the
// queue is empty and more workers than the kept ones remain.
func (d *dispatcher) work() {
	d.mu.Lock()
	for {
		for d.head == len(d.queue) {
			if d.closed || d.workers > d.keep {
				d.workers--
				d.mu.Unlock()
				return
			}
			d.idle++
			d.wake.Wait()
			d.idle--
		}
		rc := d.queue[d.head]
		d.queue[d.head] = nil
		if d.head++; d.head == len(d.queue) {
			d.queue, d.head = d.queue[:0], 0
		}
		d.taken++
		d.mu.Unlock()
		d.run(rc)
		d.inflight.Done()
		d.mu.Lock()
	}
}

// close stops the dispatcher: no more runs are published, idle workers
// leave, busy ones after their run. It returns the runs never taken; the
// caller settles them (they count as finished once it returns).
func (d *dispatcher) close() []*runContext {
	d.mu.Lock()
	d.closed = true
	left := append([]*runContext(nil), d.queue[d.head:]...)
	d.queue, d.head = nil, 0
	d.wake.Broadcast()
	d.mu.Unlock()
	d.inflight.Add(-len(left))
	return left
}

// wait waits until every published run has finished or ctx ends; it
// reports whether they all finished.
func (d *dispatcher) wait(ctx context.Context) bool {
	done := make(chan struct{})
	go func() {
		d.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
