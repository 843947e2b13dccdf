package solocrontest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// A test of a schedule on a fake clock: walk through the night of the
// spring DST change in Berlin; 02:00 does not exist that night, so the
// job runs once, at the jump (03:00 CEST).
func ExampleClock() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	clock := solocrontest.NewClock(time.Date(2027, 3, 27, 23, 0, 0, 0, berlin))
	s, _ := solocron.New(solocron.Options{Elector: solocrontest.NewStore().Elector(), Clock: clock, Location: berlin})
	_ = s.Add(solocron.Job{Name: "nightly", Spec: "0 2 * * *", Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		fmt.Println("ran for", run.Tick.In(berlin).Format("2006-01-02 15:04 MST"))
		return nil
	}})
	_ = s.Start()
	defer s.Stop(context.Background())
	for s.Status(context.Background()).Role != solocron.Leader {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := clock.Walk(ctx, time.Date(2027, 3, 28, 12, 0, 0, 0, berlin), 15*time.Minute, s); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ran for 2027-03-28 03:00 CEST
}

// A job's function called directly, with the ctx a run would give it.
func ExampleRunContext() {
	job := func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		fmt.Printf("%s at %s, term %d\n", run.Job, run.Tick.Format(time.RFC3339), run.Term)
		return nil
	}
	ctx := solocrontest.RunContext(context.Background(), solocron.Run{Job: "invoices", Tick: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), Term: 7})
	_ = job(ctx)
	// Output:
	// invoices at 2026-12-01T02:00:00Z, term 7
}

// Leadership lost in a test: the store revokes the leader's lease, as an
// expired lease would; the runs are cancelled and a new term begins (on
// whichever process wins it).
func ExampleStore_Revoke() {
	store := solocrontest.NewStore()
	var schedulers []*solocron.Scheduler
	for range 2 {
		s, _ := solocron.New(solocron.Options{Elector: store.Elector()})
		_ = s.Start()
		defer s.Stop(context.Background())
		schedulers = append(schedulers, s)
	}
	term := func() uint64 { return schedulers[0].Status(context.Background()).Holder.Term }
	for term() == 0 {
		time.Sleep(time.Millisecond)
	}
	before := term()
	store.Revoke(fmt.Errorf("lease expired"))
	for term() <= before {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("a new term leads")
	// Output:
	// a new term leads
}
