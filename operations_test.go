package solocron_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// brokenElector fails every call while broken is set, as an unreachable
// database would.
type brokenElector struct {
	Elector
	broken atomic.Bool
}

var errUnreachable = errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")

func (e *brokenElector) Campaign(ctx context.Context, c Candidate) (Lease, error) {
	if e.broken.Load() {
		return nil, errUnreachable
	}
	return e.Elector.Campaign(ctx, c)
}

func (e *brokenElector) Holder(ctx context.Context) (Holder, error) {
	if e.broken.Load() {
		return Holder{}, errUnreachable
	}
	return e.Elector.Holder(ctx)
}

func TestHealthShowsAnUnreachableElector(t *testing.T) {
	t.Parallel()
	el := &brokenElector{Elector: solocrontest.NewStore().Elector()}
	el.broken.Store(true)
	began := time.Now()
	s := start(t, Options{Elector: el, RetryInterval: 20 * time.Millisecond, MaxRetryInterval: 50 * time.Millisecond},
		Job{Name: "job", Spec: "@daily", Run: noop})
	deadline := time.Now().Add(5 * time.Second)
	var h Health
	for h = s.Status(context.Background()).Health; h.ElectorErr == nil && time.Now().Before(deadline); h = s.Status(context.Background()).Health {
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(h.ElectorErr, errUnreachable) || h.ErrorSince.Before(began) || !h.LastOK.IsZero() {
		t.Fatalf("Health of a process whose elector is unreachable = %+v", h)
	}
	b, _ := json.Marshal(s.Status(context.Background()))
	if !strings.Contains(string(b), `"elector_error":"dial tcp`) {
		t.Fatalf("Status JSON does not show the elector error: %s", b)
	}

	el.broken.Store(false)
	waitRole(t, s, Leader, 5*time.Second)
	h = s.Status(context.Background()).Health
	if h.ElectorErr != nil || h.LastOK.Before(began) {
		t.Fatalf("Health after the elector came back = %+v, want no error and a recent LastOK", h)
	}
}

func TestStartContextFailsFastWhenTheElectorIsUnreachable(t *testing.T) {
	t.Parallel()
	el := &brokenElector{Elector: solocrontest.NewStore().Elector()}
	el.broken.Store(true)
	s, err := New(Options{Elector: el, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.StartContext(ctx); !errors.Is(err, errUnreachable) {
		t.Fatalf("StartContext with an unreachable elector: %v, want its error", err)
	}
	if role := s.Status(context.Background()).Role; role != Stopped {
		t.Fatalf("role after a failed StartContext = %v, want stopped (not started)", role)
	}
	el.broken.Store(false)
	if err := s.StartContext(ctx); err != nil {
		t.Fatalf("StartContext once the elector answers: %v", err)
	}
	waitRole(t, s, Leader, 5*time.Second)
	_ = s.Stop(context.Background())
}

func TestRemoveStopsTheJobsTicks(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s := start(t, Options{Elector: solocrontest.NewStore().Elector(), Hooks: rec.hooks()},
		Job{Name: "gone", Spec: "* * * * * *", Run: noop}, Job{Name: "kept", Spec: "* * * * * *", Run: noop})
	rec.wait(t, "runs of both", 5*time.Second, func() bool { return len(rec.finished) >= 2 })
	if err := s.Remove("gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("gone"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("Remove twice: %v, want ErrUnknownJob", err)
	}
	rec.mu.Lock()
	before := len(rec.finished)
	rec.mu.Unlock()
	time.Sleep(2200 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.finished[before:] {
		if e.Job == "gone" {
			t.Fatalf("a removed job ran at %v", e.Tick)
		}
	}
	if len(rec.finished)-before < 2 {
		t.Fatal("the job that was kept stopped running too")
	}
	for _, j := range s.Status(context.Background()).Jobs {
		if j.Name == "gone" {
			t.Fatal("Status still lists a removed job")
		}
	}
	if err := s.Add(Job{Name: "gone", Spec: "* * * * * *", Run: noop}); err != nil {
		t.Fatalf("Add after Remove: %v", err)
	}
}
