package solocron_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// Every process of the application runs the same main: one of them leads
// and runs each tick once; Stop waits for running jobs and hands
// leadership over.
func Example() {
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)

	s, err := solocron.New(solocron.Options{LockPath: filepath.Join(dir, "billing.lock")})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Add(solocron.Job{Name: "send-invoices", Spec: "0 2 * * *", Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		fmt.Println("sending invoices; manual run:", run.Manual)
		return nil
	}})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	for s.Status(context.Background()).Role != solocron.Leader { // alone, it leads at once
		time.Sleep(time.Millisecond)
	}
	if err := s.RunNow(context.Background(), "send-invoices"); err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		log.Print(err)
	}
	fmt.Println("role after Stop:", s.Status(context.Background()).Role)
	// Output:
	// sending invoices; manual run: true
	// role after Stop: stopped
}

// Status encodes to JSON for a health endpoint or a monitoring check.
func ExampleScheduler_Status() {
	s, _ := solocron.New(solocron.Options{Elector: solocrontest.NewStore().Elector(), Location: time.UTC,
		Clock: solocrontest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))})
	_ = s.Add(solocron.Job{Name: "report", Spec: "30 9 * * *", Run: func(context.Context) error { return nil }})
	st := s.Status(context.Background())
	b, _ := json.MarshalIndent(st.Jobs[0], "", "  ")
	fmt.Println(st.Role)
	fmt.Println(string(b))
	// Output:
	// stopped
	// {
	//   "name": "report",
	//   "spec": "30 9 * * *",
	//   "next": "2026-12-01T09:30:00Z",
	//   "running": false,
	//   "runs": 0,
	//   "errors": 0,
	//   "skips": 0,
	//   "ledger": {
	//     "paused": false
	//   }
	// }
}

// A middleware wraps every run: here a log line with the job and tick; a
// tracing span or a per-job logger has the same shape.
func ExampleMiddleware() {
	logRuns := func(next solocron.RunFunc) solocron.RunFunc {
		return func(ctx context.Context) error {
			run, _ := solocron.RunFrom(ctx)
			err := next(ctx)
			fmt.Printf("job %s done, err=%v\n", run.Job, err)
			return err
		}
	}
	s, _ := solocron.New(solocron.Options{
		Elector:    solocrontest.NewStore().Elector(),
		Middleware: []solocron.Middleware{logRuns},
	})
	_ = s.Add(solocron.Job{Name: "cleanup", Spec: "@hourly", Run: func(context.Context) error { return nil }})
	_ = s.Start()
	defer s.Stop(context.Background())
	for s.Status(context.Background()).Role != solocron.Leader {
		time.Sleep(time.Millisecond)
	}
	_ = s.RunNow(context.Background(), "cleanup")
	// Output:
	// job cleanup done, err=<nil>
}

// Several consumers hook in side by side.
func ExampleJoinHooks() {
	metrics := solocron.Hooks{OnJobFinish: func(e solocron.JobEvent) { fmt.Println("metrics:", e.Job) }}
	audit := solocron.Hooks{OnJobFinish: func(e solocron.JobEvent) { fmt.Println("audit:", e.Job) }}
	s, _ := solocron.New(solocron.Options{Elector: solocrontest.NewStore().Elector(), Hooks: solocron.JoinHooks(metrics, audit)})
	_ = s.Add(solocron.Job{Name: "sync", Spec: "@daily", Run: func(context.Context) error { return nil }})
	_ = s.Start()
	defer s.Stop(context.Background())
	for s.Status(context.Background()).Role != solocron.Leader {
		time.Sleep(time.Millisecond)
	}
	_ = s.RunNow(context.Background(), "sync")
	// Output:
	// metrics: sync
	// audit: sync
}

// Any process pauses a job for the whole cluster, and any process asks
// for a run: the leader, wherever it is, reads both from the ledger.
func ExampleScheduler_RequestRun() {
	store := solocrontest.NewStore() // stands for the processes' shared elector
	ran := make(chan solocron.Run, 1)
	job := solocron.Job{Name: "rebuild-index", Spec: "@daily", Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		ran <- run
		return nil
	}}
	leader, _ := solocron.New(solocron.Options{Elector: store.Elector()})
	_ = leader.Add(job)
	_ = leader.Start()
	defer leader.Stop(context.Background())
	for leader.Status(context.Background()).Role != solocron.Leader {
		time.Sleep(time.Millisecond)
	}
	standby, _ := solocron.New(solocron.Options{Elector: store.Elector()})
	_ = standby.Add(job)
	_ = standby.Start()
	defer standby.Stop(context.Background())

	_ = standby.Pause(context.Background(), "rebuild-index")
	fmt.Println("paused:", standby.Status(context.Background()).Jobs[0].Ledger.Paused)
	_ = standby.Resume(context.Background(), "rebuild-index")

	if err := standby.RequestRun(context.Background(), "rebuild-index"); err != nil {
		log.Fatal(err)
	}
	run := <-ran // within about a second
	fmt.Println("requested run:", run.Requested)
	// Output:
	// paused: true
	// requested run: true
}
