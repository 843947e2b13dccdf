// Package clustertest runs a Scheduler in several real processes, the test
// binary re-executing itself, so that tests of every elector can kill,
// stop and restart leaders and then check, from a shared append-only log,
// that each tick ran exactly once.
package clustertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/solocron/solocron"
)

// Environment of a worker process.
const (
	envWorker  = "SOLOCRON_CLUSTERTEST_WORKER" // the test that started it
	envLog     = "SOLOCRON_CLUSTERTEST_LOG"    // the shared run log
	envWorkFor = "SOLOCRON_CLUSTERTEST_WORK"   // how long each run lasts
	jobName    = "tick"
)

// Options builds a worker's Scheduler options; it runs in the worker
// process, where the environment set by Config.Env is visible.
type Options func() (solocron.Options, error)

// MaybeWorker turns this process into a worker when the environment says it
// is one, and never returns then. Call it first thing in TestMain.
func MaybeWorker(opts Options) {
	if os.Getenv(envWorker) == "" {
		return
	}
	if err := work(opts); err != nil {
		fmt.Fprintln(os.Stderr, "clustertest worker:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// work runs one worker: a Scheduler with a job every second that logs each
// run, reporting leadership on stdout, until its stdin is closed (the
// controller's portable way to ask for Stop; Kill is the crash).
func work(build Options) error {
	o, err := build()
	if err != nil {
		return err
	}
	workFor, err := time.ParseDuration(os.Getenv(envWorkFor))
	if err != nil {
		return fmt.Errorf("%s: %w", envWorkFor, err)
	}
	runLog, err := os.OpenFile(os.Getenv(envLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	var out sync.Mutex // stdout lines are the controller's events
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	o.Seconds = true
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o.Hooks.OnLeading = func(e solocron.LeadershipEvent) { say("leading %d %d %d", os.Getpid(), e.Term, e.At.UnixNano()) }
	o.Hooks.OnLost = func(e solocron.LeadershipEvent) { say("lost %d %d", os.Getpid(), e.Term) }
	s, err := solocron.New(o)
	if err != nil {
		return err
	}
	// OverlapQueue: after a slow takeover (a lease TTL) the catch-up run
	// may still be going when the next tick falls due; the default
	// OverlapSkip would skip that tick by design, and the log would count
	// it as lost. The checks here are about once per tick, not overlap.
	err = s.Add(solocron.Job{Name: jobName, Spec: "* * * * * *", Overlap: solocron.OverlapQueue, Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		// One write(2) per line on an O_APPEND file: lines from several
		// processes never interleave.
		line := fmt.Sprintf("run %d %d %d %t\n", run.Tick.Unix(), os.Getpid(), run.Term, run.Retry)
		if _, err := io.WriteString(runLog, line); err != nil {
			return err
		}
		select {
		case <-time.After(workFor):
		case <-ctx.Done():
		}
		return nil
	}})
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	say("ready %d", os.Getpid())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.Stop(ctx)
	say("stopped %d %d", os.Getpid(), time.Now().UnixNano())
	return err
}
