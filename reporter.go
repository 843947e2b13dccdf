package solocron

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// reporter turns a Scheduler's events into log lines and hook calls. Its
// logger names the elector once (Logger.With), so no call repeats it.
type reporter struct {
	log   *slog.Logger
	hooks Hooks
}

func newReporter(log *slog.Logger, elector string, hooks Hooks) *reporter {
	return &reporter{log: log.With("elector", elector), hooks: hooks}
}

func (r *reporter) leading(term uint64, at time.Time, elector string) {
	r.log.Info("solocron: leading", "term", term)
	call(r, r.hooks.OnLeading, LeadershipEvent{Term: term, Elector: elector, At: at})
}

// ended reports the end of a term that began leading: given up by Stop,
// stepped down because the ledger failed, or lost.
func (r *reporter) ended(ev LeadershipEvent, stopping bool, failed error) {
	switch {
	case stopping:
		ev.Err = nil
		r.log.Info("solocron: gave leadership up", "term", ev.Term)
	case failed != nil:
		r.log.Error("solocron: stepped down: the ledger cannot hold the claims", "term", ev.Term, "err", failed)
	default:
		r.log.Warn("solocron: lost leadership", "term", ev.Term, "err", ev.Err)
	}
	call(r, r.hooks.OnLost, ev)
}

func (r *reporter) started(run *Run) {
	if h := r.hooks.OnJobStart; h != nil {
		call(r, h, JobEvent{Run: *run})
	}
}

// quiet reports whether a run that succeeded needs no report: no hook and
// no debug log, the common case, which then costs nothing.
func (r *reporter) quiet() bool {
	return r.hooks.OnJobFinish == nil && !r.log.Enabled(context.Background(), slog.LevelDebug)
}

func (r *reporter) finished(run *Run, d time.Duration, err error) {
	ev := JobEvent{Run: *run, Duration: d, Err: err}
	call(r, r.hooks.OnJobFinish, ev)
	if err == nil {
		r.log.Debug("solocron: job finished", "job", run.Job, "tick", run.Tick, "term", run.Term, "duration", d)
		return
	}
	attrs := []any{"job", run.Job, "tick", run.Tick, "term", run.Term, "duration", d, "err", err}
	var p *PanicError
	if errors.As(err, &p) {
		attrs = append(attrs, "stack", string(p.Stack))
	}
	r.log.Error("solocron: job failed", attrs...)
	call(r, r.hooks.OnJobError, ev)
}

func (r *reporter) skipped(run Run, why SkipReason) {
	level := slog.LevelWarn
	switch why {
	case SkipLedgerAhead:
		level = slog.LevelError
	case SkipPaused: // an operator's choice, logged once when it was made
		level = slog.LevelDebug
	}
	r.log.Log(context.Background(), level, "solocron: tick skipped", "job", run.Job, "tick", run.Tick, "reason", string(why))
	call(r, r.hooks.OnJobSkip, JobEvent{Run: run, Reason: why})
}

// overdue reports a job that became overdue (ev.Due set) or recovered.
func (r *reporter) overdue(ev OverdueEvent, grace time.Duration) {
	if ev.Due.IsZero() {
		r.log.Info("solocron: job no longer overdue", "job", ev.Job, "claimed", ev.Claimed)
	} else {
		r.log.Error("solocron: job overdue: its tick was not claimed in time; "+
			"check that a process leads and is not hung (Status, the solocron command), that the job is not stuck, and the ledger (solocron ledger check)",
			"job", ev.Job, "due", ev.Due, "claimed", ev.Claimed, "grace", grace)
	}
	call(r, r.hooks.OnOverdue, ev)
}

func (r *reporter) abandoned(run Run, why string) {
	r.log.Error("solocron: job still running after its ctx was cancelled; leadership is released anyway, "+
		"so the next leader's run may overlap it (make the job return when its ctx ends)",
		"job", run.Job, "tick", run.Tick, "term", run.Term, "why", why)
	call(r, r.hooks.OnJobAbandoned, JobEvent{Run: run})
}

// call calls a hook, logging a panic instead of spreading it.
func call[E any](r *reporter, fn func(E), ev E) {
	if fn == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("solocron: hook panicked", "panic", p)
		}
	}()
	fn(ev)
}
