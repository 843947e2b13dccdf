package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

const pauseUsage = `usage: solocron pause <store> JOB

Pauses the job across the application: the flag is written to the store, and
the leader, wherever it is, skips the job's ticks from its next read of it,
within about a second (a run in progress finishes). Every later leader
honours it until solocron resume JOB (or Scheduler.Resume).

` + storeUsage + `
Exit status: 0 when the flag is written; 2 usage error; 3 when the store
cannot be reached.
`

const resumeUsage = `usage: solocron resume <store> JOB

Resumes a paused job: the leader runs it on its schedule again from its next
read of the flag, within about a second. The ticks missed while it was
paused follow the job's misfire policy, as after a time with nobody leading.

` + storeUsage + `
Exit status: 0 when the flag is written; 2 usage error; 3 when the store
cannot be reached.
`

func cmdPause(ctx context.Context, o *output, args []string) error {
	return setPaused(ctx, o, newFlags("pause", pauseUsage), args, true)
}

func cmdResume(ctx context.Context, o *output, args []string) error {
	return setPaused(ctx, o, newFlags("resume", resumeUsage), args, false)
}

func setPaused(ctx context.Context, o *output, f *flags, args []string, paused bool) error {
	pos, err := f.parse(args, 1)
	if err != nil {
		return err
	}
	name := pos[0]
	st, err := f.open()
	if err != nil {
		return err
	}
	defer st.close()
	warnUnknown(ctx, o, st, name)
	call, cancel := st.call(ctx)
	defer cancel()
	if err := st.SetPaused(call, name, paused); err != nil {
		return unreachable(fmt.Errorf("%s %s: %w", f.command, name, err))
	}
	if paused {
		fmt.Fprintf(o.out, "paused %s: the leader skips its ticks within about a second, until solocron resume %s\n", name, name)
	} else {
		fmt.Fprintf(o.out, "resumed %s: the leader runs it on its schedule again within about a second\n", name)
	}
	return nil
}

// warnUnknown warns when the ledger has no record of the job: a mistyped
// name, which the leader would ignore, or a job no leader has run yet.
// The ledger is only read for the warning: a failure to read it is left
// to the command's own call to report.
func warnUnknown(ctx context.Context, o *output, st *store, name string) {
	recs, err := observe(ctx, st)
	if err != nil {
		return
	}
	var known []string
	for _, j := range jobsOf(recs, o.now(), 0) {
		if j.Name == name {
			return
		}
		known = append(known, j.Name)
	}
	slices.Sort(known)
	list := "none"
	if len(known) > 0 {
		list = strings.Join(known, ", ")
	}
	fmt.Fprintf(o.err, "solocron: warning: the ledger has no record of job %q, which the leader ignores unless it has such a job (jobs in the ledger: %s)\n", name, list)
}
