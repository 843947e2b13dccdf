package solocron_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

func TestMiddlewareWrapsEveryRunInOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var trace []string
	note := func(s string) {
		mu.Lock()
		trace = append(trace, s)
		mu.Unlock()
	}
	wrap := func(name string) Middleware {
		return func(next RunFunc) RunFunc {
			return func(ctx context.Context) error {
				r, _ := RunFrom(ctx)
				note(name + " before " + r.Job)
				err := next(ctx)
				note(name + " after")
				return err
			}
		}
	}
	s := start(t, Options{Elector: solocrontest.NewStore().Elector(), Middleware: []Middleware{wrap("a"), wrap("b")}},
		Job{Name: "job", Spec: "@daily", Run: func(context.Context) error { note("job"); return nil }})
	waitRole(t, s, Leader, 5*time.Second)
	if err := s.RunNow(context.Background(), "job"); err != nil {
		t.Fatal(err)
	}
	want := "a before job,b before job,job,b after,a after"
	mu.Lock()
	got := strings.Join(trace, ",")
	mu.Unlock()
	if got != want {
		t.Fatalf("trace %q, want %q", got, want)
	}
}

func TestPanicsReachMiddlewareAndTheLogWithTheirStack(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	var seen error
	mw := func(next RunFunc) RunFunc {
		return func(ctx context.Context) error {
			seen = next(ctx)
			return seen
		}
	}
	s := start(t, Options{Elector: solocrontest.NewStore().Elector(), Middleware: []Middleware{mw}, Logger: logs.logger()},
		Job{Name: "boom", Spec: "@daily", Run: func(context.Context) error { panic("kaboom") }})
	waitRole(t, s, Leader, 5*time.Second)
	err := s.RunNow(context.Background(), "boom")
	var p *PanicError
	if !errors.As(err, &p) || p.Value != "kaboom" {
		t.Fatalf("RunNow of a panicking job: %v, want a *PanicError", err)
	}
	if !errors.As(seen, &p) {
		t.Fatalf("the middleware saw %v, want the *PanicError", seen)
	}
	logs.wait(t, time.Second, "level=ERROR", "job failed", "stack=", "middleware_test.go")
}

func TestPanickingMiddlewareFailsTheRunOnly(t *testing.T) {
	t.Parallel()
	bad := func(next RunFunc) RunFunc {
		return func(context.Context) error { panic("bad middleware") }
	}
	s := start(t, Options{Elector: solocrontest.NewStore().Elector(), Middleware: []Middleware{bad}},
		Job{Name: "job", Spec: "@daily", Run: noop})
	waitRole(t, s, Leader, 5*time.Second)
	var p *PanicError
	if err := s.RunNow(context.Background(), "job"); !errors.As(err, &p) {
		t.Fatalf("RunNow through a panicking middleware: %v, want a *PanicError", err)
	}
	if err := s.RunNow(context.Background(), "job"); !errors.As(err, &p) {
		t.Fatalf("the second run: %v; the scheduler should go on", err)
	}
}

func TestJoinHooksCallsEachConsumerInOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []string
	hooks := func(name string) Hooks {
		return Hooks{OnJobFinish: func(e JobEvent) {
			mu.Lock()
			calls = append(calls, name+":"+e.Job)
			mu.Unlock()
		}}
	}
	s := start(t, Options{Elector: solocrontest.NewStore().Elector(), Hooks: JoinHooks(hooks("metrics"), Hooks{}, hooks("audit"))},
		Job{Name: "job", Spec: "@daily", Run: noop})
	waitRole(t, s, Leader, 5*time.Second)
	if err := s.RunNow(context.Background(), "job"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(calls, ","); got != "metrics:job,audit:job" {
		t.Fatalf("hooks called %q, want both consumers in order", got)
	}
}
