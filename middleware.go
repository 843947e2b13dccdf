package solocron

import (
	"context"
	"runtime/debug"
)

// RunFunc is a job's function, or a Middleware's wrapping of it.
type RunFunc func(ctx context.Context) error

// Middleware wraps every run of every job, the shape of robfig/cron's
// JobWrapper with a ctx: tracing spans, per-job loggers, metrics, limits.
// It calls next to run the job (or the next middleware) and may act before
// and after it; RunFrom(ctx) tells which job and tick. Options.Middleware
// applies them in order, the first outermost. A panic in the job reaches
// the middleware as the run's *PanicError; a panic in a middleware becomes
// the run's error too.
type Middleware func(next RunFunc) RunFunc

// chain wraps run in mw, the first outermost, with a recover innermost so
// that the middleware sees a job's panic as its error.
func chain(run RunFunc, mw []Middleware) RunFunc {
	if len(mw) == 0 {
		return run
	}
	run = recovering(run)
	for i := len(mw) - 1; i >= 0; i-- {
		run = mw[i](run)
	}
	return run
}

// recovering turns a panic of run into its *PanicError.
func recovering(run RunFunc) RunFunc {
	return func(ctx context.Context) (err error) {
		defer recoverInto(&err)
		return run(ctx)
	}
}

func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r, Stack: debug.Stack()}
	}
}
