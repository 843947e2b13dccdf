package solocron

import (
	"context"
	"sync"
	"time"
)

// outcomeDelay is how long the first finished run of a batch waits for
// others before the batch is written: at 10,000 jobs a second, a ledger
// write per run would double the ledger's work.
const outcomeDelay = 50 * time.Millisecond

// outcomes collects how runs ended, for the ledger, a batch at a time:
// workers add, and one goroutine per term writes (see term.recordOutcomes).
type outcomes struct {
	mu      sync.Mutex
	pending []Outcome
	ready   chan struct{} // holds a token while outcomes wait
}

func newOutcomes() *outcomes { return &outcomes{ready: make(chan struct{}, 1)} }

func (o *outcomes) add(x Outcome) {
	o.mu.Lock()
	first := len(o.pending) == 0
	o.pending = append(o.pending, x)
	o.mu.Unlock()
	if first {
		select {
		case o.ready <- struct{}{}:
		default:
		}
	}
}

// take returns the waiting outcomes and empties the batch; spare is
// reused for the next batch.
func (o *outcomes) take(spare []Outcome) []Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	batch := o.pending
	o.pending = spare[:0]
	return batch
}

// recordOutcomes writes the term's outcomes a batch at a time until runs
// ends (leadership lost, or Stop done; Stop flushes the last batch).
func (t *term) recordOutcomes(runs context.Context) {
	var spare []Outcome
	for {
		select {
		case <-runs.Done():
			return
		case <-t.outcomes.ready:
		}
		select {
		case <-runs.Done():
			return
		case <-time.After(outcomeDelay):
		}
		spare = t.flushOutcomes(runs, spare)
	}
}

// flushOutcomes writes the outcomes waiting, if any, and returns the
// batch's slice for reuse. A write that fails is logged: an outcome is a
// report (and, for an at-least-once job, the next leader reruns the tick).
func (t *term) flushOutcomes(ctx context.Context, spare []Outcome) []Outcome {
	batch := t.outcomes.take(spare)
	if len(batch) == 0 {
		return batch
	}
	err := t.withLedger(ctx, func(ctx context.Context) error { return t.lease.Complete(ctx, batch) })
	if err != nil && ctx.Err() == nil {
		t.report.log.Warn("solocron: recording the outcome of runs failed", "runs", len(batch), "term", t.lease.Term(), "err", err)
	}
	clear(batch)
	return batch[:0]
}
