package main

import (
	"context"
	"fmt"
	"time"

	"github.com/solocron/solocron"
)

const runUsage = `usage: solocron run [--wait D] <store> JOB

Asks the leader, wherever it is, for a run of the job now: the request is
written to the store, and the leader starts it within about a second,
claimed like a tick, so that it runs once even if the leader changes
meanwhile. A job that is running runs again when it ends; a request that
cannot start within ten minutes (nobody leads) is dropped. The run's ctx
carries solocron.Run.Requested.

  --wait D   wait up to D for the run to finish, and report how it ended

` + storeUsage + `
Exit status: 0 when the request is written (with --wait: when the run
succeeded); 1 with --wait when the run failed or did not finish within D;
2 usage error; 3 when the store cannot be reached.
`

// pollInterval is how often run --wait reads the ledger: a run's outcome
// reaches it about 50ms after the run ends.
const pollInterval = 200 * time.Millisecond

func cmdRun(ctx context.Context, o *output, args []string) error {
	f := newFlags("run", runUsage)
	wait := f.Duration("wait", 0, "")
	pos, err := f.parse(args, 1)
	if err != nil {
		return err
	}
	if *wait < 0 {
		return f.usageErr(fmt.Errorf("--wait must not be negative, got %v", *wait))
	}
	name := pos[0]
	st, err := f.open()
	if err != nil {
		return err
	}
	defer st.close()
	warnUnknown(ctx, o, st, name)
	call, cancel := st.call(ctx)
	err = st.RequestRun(call, name)
	cancel()
	if err != nil {
		return unreachable(fmt.Errorf("run %s: %w", name, err))
	}
	leader, err := holder(ctx, st)
	if err != nil {
		return unreachable(err)
	}
	if leader == nil {
		fmt.Fprintf(o.out, "requested a run of %s; nobody leads now: the run starts when a process leads, if within ten minutes\n", name)
	} else {
		fmt.Fprintf(o.out, "requested a run of %s: the leader (pid %d on %s) starts it within about a second\n", name, leader.PID, leader.Hostname)
	}
	if *wait == 0 {
		return nil
	}
	return awaitRun(ctx, o, st, name, *wait)
}

// awaitRun waits for the requested run to finish: the job's request record
// has finished a run at or after the request's time (a later request
// may have taken ours up: the leader runs the latest).
func awaitRun(ctx context.Context, o *output, st *store, name string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	recs, err := observe(ctx, st)
	if err != nil {
		return unreachable(fmt.Errorf("reading the ledger of %s: %w", st, err))
	}
	requested := recs[name].Requested
	if requested.IsZero() {
		return unreachable(fmt.Errorf("the store shows no request of %s after writing it", name))
	}
	timedOut := func() error {
		started := !recs[name+solocron.RequestRecordSuffix].Claimed.Before(requested)
		return problem(notFinished(context.WithoutCancel(ctx), st, name, wait, started))
	}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if r := recs[name+solocron.RequestRecordSuffix]; !r.Finished.IsZero() && !r.Finished.Before(requested) {
			if r.Error != "" {
				return problem(fmt.Errorf("the run of %s failed after %s: %s", name, duration(r.Duration), r.Error))
			}
			fmt.Fprintf(o.out, "the run of %s finished in %s: ok\n", name, duration(r.Duration))
			return nil
		}
		select {
		case <-ctx.Done():
			return timedOut()
		case <-tick.C:
		}
		next, err := observe(ctx, st)
		switch {
		case err != nil && ctx.Err() != nil:
			return timedOut()
		case err != nil:
			return unreachable(fmt.Errorf("reading the ledger of %s: %w", st, err))
		}
		recs = next
	}
}

// notFinished says why the run did not finish in time, as far as the
// store tells.
func notFinished(ctx context.Context, st *store, name string, wait time.Duration, started bool) error {
	leader, err := holder(ctx, st)
	switch {
	case started:
		return fmt.Errorf("the run of %s started but did not finish within %v; it goes on", name, wait)
	case err == nil && leader == nil:
		return fmt.Errorf("the run of %s did not start within %v: nobody leads", name, wait)
	}
	return fmt.Errorf("the run of %s did not start within %v: the job may still be running from before, and runs again when that run ends", name, wait)
}
