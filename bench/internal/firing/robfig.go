package firing

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
)

// startRobfig runs n jobs on a raw robfig/cron with a seconds field. Its
// intended tick is the start of the second the job fires in (the spec
// fires on every second boundary).
func startRobfig(n int, rec *recorder) (func(context.Context), error) {
	c := cron.New(cron.WithSeconds())
	job := cron.FuncJob(func() { rec.fired(time.Now().Truncate(time.Second)) })
	for range n {
		if _, err := c.AddJob(everySecond, job); err != nil {
			return nil, err
		}
	}
	c.Start()
	return func(ctx context.Context) {
		select {
		case <-c.Stop().Done():
		case <-ctx.Done():
		}
	}, nil
}
