package solocron

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// outcomeDelay is how long the first finished run of a batch waits for
// others before the batch is written: at 10,000 jobs a second, a ledger
// write per run would double the ledger's work.
const outcomeDelay = 50 * time.Millisecond

// outcomes collects how runs ended, for the ledger, a batch at a time:
// workers add, and one goroutine per term writes (see term.recordOutcomes).
// The batch is split into shards, a job always adding to the same one, so
// that workers finishing runs at once rarely wait for each other's lock.
type outcomes struct {
	shards [outcomeShards]outcomeShard
	armed  atomic.Bool   // ready holds, or was sent, a token for this batch
	ready  chan struct{} // holds a token while outcomes wait
}

const outcomeShards = 8

type outcomeShard struct {
	mu      sync.Mutex
	pending []Outcome
	_       [64]byte // keeps shards' locks on separate cache lines
}

func newOutcomes() *outcomes { return &outcomes{ready: make(chan struct{}, 1)} }

// add queues x in the shard of job j.
func (o *outcomes) add(j *job, x Outcome) {
	sh := &o.shards[j.shard%outcomeShards]
	sh.mu.Lock()
	sh.pending = append(sh.pending, x)
	sh.mu.Unlock()
	if !o.armed.Load() && o.armed.CompareAndSwap(false, true) {
		select {
		case o.ready <- struct{}{}:
		default:
		}
	}
}

// take appends the waiting outcomes to batch and empties the shards.
func (o *outcomes) take(batch []Outcome) []Outcome {
	o.armed.Store(false) // an add from now on signals the next batch
	for i := range o.shards {
		sh := &o.shards[i]
		sh.mu.Lock()
		batch = append(batch, sh.pending...)
		clear(sh.pending)
		sh.pending = sh.pending[:0]
		sh.mu.Unlock()
	}
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
	batch := t.outcomes.take(spare[:0])
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

// outcomeError is what the ledger keeps of a run's error: "" for success,
// else its first line, cut to MaxErrorLen bytes on a rune boundary.
func outcomeError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > MaxErrorLen {
		cut := MaxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	if msg == "" {
		msg = "error" // a non-nil error with no text still failed
	}
	return msg
}
