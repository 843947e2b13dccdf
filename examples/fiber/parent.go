package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/solocron/solocron"
)

// runParent runs the scheduler and Fiber's prefork master. It returns the
// exit status: 0 after SIGINT or SIGTERM, 1 when a child died (Fiber has
// then killed the others: the supervisor restarts the whole tree).
func runParent(app *fiber.App, cfg config) int {
	s, err := newScheduler(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parent:", err)
		return 1
	}
	if err := s.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "parent:", err)
		return 1
	}

	f := &forwarder{}
	app.Hooks().OnFork(f.add)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Printf("parent pid=%d got %v: stopping the children\n", os.Getpid(), sig)
		f.stop()
	}()

	fmt.Printf("parent pid=%d starting the children\n", os.Getpid())
	err = app.Listen(cfg.addr) // until the first child exits
	stopping := f.stopping()
	if !stopping {
		fmt.Printf("parent pid=%d: a child exited (%v); Fiber killed the others; stopping\n", os.Getpid(), err)
	}

	// The children are gone; let a running job finish, then release the
	// lock so that another instance takes over at once.
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "parent: stop:", err)
	}
	fmt.Printf("parent pid=%d stopped\n", os.Getpid())
	if !stopping {
		return 1
	}
	return 0
}

func newScheduler(cfg config) (*solocron.Scheduler, error) {
	pid := os.Getpid()
	s, err := solocron.New(solocron.Options{
		LockPath: cfg.lock,
		Seconds:  true,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Hooks: solocron.Hooks{OnLeading: func(ev solocron.LeadershipEvent) {
			fmt.Printf("parent pid=%d leading term=%d\n", pid, ev.Term)
		}},
	})
	if err != nil {
		return nil, err
	}
	return s, s.Add(solocron.Job{Name: "report", Spec: cfg.spec, Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		line := fmt.Sprintf("pid=%d term=%d tick=%s\n", pid, run.Term, run.Tick.UTC().Format(time.RFC3339))
		fmt.Print("ran ", line)
		if cfg.runLog == "" {
			return nil
		}
		f, err := os.OpenFile(cfg.runLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		_, err = f.WriteString(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}})
}

// forwarder learns the children's pids from Fiber's OnFork hook and sends
// them SIGTERM on stop, also to a child forked after the signal came.
type forwarder struct {
	mu   sync.Mutex
	pids []int
	done bool
}

func (f *forwarder) add(pid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pids = append(f.pids, pid)
	if f.done {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	return nil
}

func (f *forwarder) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	for _, pid := range f.pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
}

func (f *forwarder) stopping() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}
