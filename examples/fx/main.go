// Command fx runs solocron in a go.uber.org/fx application: the Scheduler
// is provided by a constructor that registers the jobs of the
// "solocron.jobs" value group and ties Start and Stop to fx's lifecycle.
// fx.App.Run stops on SIGINT or SIGTERM; OnStop's ctx ends at
// fx.StopTimeout, and Stop waits for running jobs until then.
//
//	go run . -spec '*/5 * * * * *'
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/solocron/solocron"
)

// stopTimeout bounds OnStop, and so how long Stop waits for running jobs.
// A supervisor's stop timeout (systemd's TimeoutStopSec) must be longer.
const stopTimeout = 10 * time.Second

type config struct {
	lock    string
	spec    string
	jobTime time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.lock, "lock", "", "absolute lock path (default: solocron's, under the user's cache directory)")
	flag.StringVar(&cfg.spec, "spec", "*/5 * * * * *", "the job's spec, with seconds")
	flag.DurationVar(&cfg.jobTime, "jobtime", 0, "how long each run of the job takes")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stdout, nil))
	fx.New(
		fx.Supply(cfg, logger),
		fx.WithLogger(func() fxevent.Logger { // fx's own events: warnings and errors only
			return &fxevent.SlogLogger{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		}),
		fx.StopTimeout(stopTimeout),
		fx.Provide(
			newScheduler,
			asJob(newReportJob),
		),
		// Nothing else asks for the Scheduler here; an HTTP handler that
		// serves its Status would.
		fx.Invoke(func(*solocron.Scheduler) {}),
	).Run()
}

// asJob annotates a constructor of a solocron.Job for the group that
// newScheduler registers.
func asJob(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"solocron.jobs"`))
}

type schedulerParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    config
	Logger    *slog.Logger
	Jobs      []solocron.Job `group:"solocron.jobs"`
}

// newScheduler makes the Scheduler with every job of the group and starts
// and stops it with the application. Start returns at once (leadership is
// contended in the background), so it never holds up OnStart.
func newScheduler(p schedulerParams) (*solocron.Scheduler, error) {
	s, err := solocron.New(solocron.Options{LockPath: p.Config.lock, Seconds: true, Logger: p.Logger})
	if err != nil {
		return nil, err
	}
	for _, j := range p.Jobs {
		if err := s.Add(j); err != nil {
			return nil, err
		}
	}
	p.Lifecycle.Append(fx.StartStopHook(s.Start, s.Stop))
	return s, nil
}

// newReportJob is a job with its own dependencies, as any fx constructor.
func newReportJob(cfg config, logger *slog.Logger) solocron.Job {
	return solocron.Job{Name: "report", Spec: cfg.spec, Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		logger.InfoContext(ctx, "report started", "tick", run.Tick, "term", run.Term)
		select {
		case <-time.After(cfg.jobTime):
		case <-ctx.Done():
			return ctx.Err()
		}
		logger.InfoContext(ctx, "report finished", "tick", run.Tick)
		return nil
	}}
}
