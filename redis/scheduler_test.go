package redis

import (
	"context"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// startScheduler starts a Scheduler with o (Seconds on) and one job, named
// job, that runs run every second; the Scheduler is stopped when the test
// ends.
func startScheduler(t *testing.T, o solocron.Options, job string, run func(ctx context.Context) error) *solocron.Scheduler {
	t.Helper()
	o.Seconds = true
	s, err := solocron.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(solocron.Job{Name: job, Spec: "* * * * * *", Run: run}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}
