package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/solocron/solocron"
)

// orphanCheck is how often a child looks whether its parent died.
const orphanCheck = 500 * time.Millisecond

// runChild is one worker: a scheduler created before serving, an HTTP
// server on the shared port, and a graceful stop on SIGINT or SIGTERM.
func runChild(index string, cfg config) error {
	pid := os.Getpid()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = stopWhenOrphaned(ctx)

	s, err := solocron.New(solocron.Options{
		LockPath: cfg.lock,
		Seconds:  true,
		// Warnings only: the demo's own lines tell the story.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Hooks: solocron.Hooks{
			// The parent reads this line to learn which child leads.
			OnLeading: func(ev solocron.LeadershipEvent) {
				fmt.Printf("%s pid=%d term=%d\n", leadingPrefix, pid, ev.Term)
			},
		},
	})
	if err != nil {
		return err
	}
	err = s.Add(solocron.Job{Name: "tick", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		fmt.Printf("pid=%d term=%d tick=%s\n", pid, run.Term, run.Tick.Format(time.TimeOnly))
		return nil
	}})
	if err != nil {
		return err
	}

	ln, err := listenReusePort(ctx, cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "pid=%d role=%s\n", pid, s.Status(r.Context()).Role)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	fmt.Printf("%s pid=%d child=%s addr=%s lock=%q: standby until it leads\n", readyPrefix, pid, index, ln.Addr(), cfg.lock)
	if err := s.Start(); err != nil {
		ln.Close()
		return err
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err = <-served:
	}

	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(err, srv.Shutdown(shutdown), s.Stop(shutdown))
	fmt.Printf("stopped pid=%d\n", pid)
	return err
}

// stopWhenOrphaned ends ctx when the parent dies: a child that outlived its
// master would hold the port and contend for leadership forever. Fiber's
// prefork children watch for Getppid() == 1 instead, which misses orphans
// taken by a subreaper; fasthttp's do not watch.
func stopWhenOrphaned(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	parent := os.Getppid()
	go func() {
		tick := time.NewTicker(orphanCheck)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if os.Getppid() != parent {
					cancel()
					return
				}
			}
		}
	}()
	return ctx
}
