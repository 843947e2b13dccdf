package firing

import (
	"context"
	"fmt"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/bench/internal/engine"
)

// startSolocron runs n jobs on solocron with the file lock, leading, and
// claiming every tick in its ledger. Its intended tick is RunFrom(ctx).Tick.
func startSolocron(n int, rec *recorder, dir string) (func(context.Context), error) {
	leading := make(chan struct{}, 1)
	opts, cleanup, err := engine.Options(engine.File, dir, solocron.Options{
		Seconds: true,
		Hooks: solocron.Hooks{OnLeading: func(solocron.LeadershipEvent) {
			select {
			case leading <- struct{}{}:
			default:
			}
		}},
	})
	if err != nil {
		return nil, err
	}
	s, err := solocron.New(opts)
	if err != nil {
		cleanup()
		return nil, err
	}
	run := func(ctx context.Context) error {
		r, _ := solocron.RunFrom(ctx)
		rec.fired(r.Tick)
		return nil
	}
	for i := range n {
		if err := s.Add(solocron.Job{Name: fmt.Sprintf("job-%05d", i), Spec: everySecond, Run: run}); err != nil {
			cleanup()
			return nil, err
		}
	}
	if err := s.Start(); err != nil {
		cleanup()
		return nil, err
	}
	stop := func(ctx context.Context) { s.Stop(ctx); cleanup() }
	select {
	case <-leading:
		return stop, nil
	case <-time.After(10 * time.Second):
		stop(context.Background())
		return nil, fmt.Errorf("solocron did not lead within 10s")
	}
}
