package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

const ledgerRepairUsage = `usage: solocron ledger repair <store> JOB
       solocron ledger repair --lock PATH

With a job: resets the job's record when it is claimed ahead of now (see
solocron ledger check): its claimed and completed ticks are set to now, so
that its next tick runs. The records of the job's manual and requested
runs are reset too when they are ahead. It refuses a record that is not
ahead: moving a claim back could run a tick twice.

The reset is fenced like a claim, so the command leads for a moment: it
works only while no process of the application leads. While one does,
call Scheduler.ResetJob(ctx, JOB) on it (the dashboard's reset button
does), or stop the application's processes and run this again.

Without a job, for the file lock: moves a corrupt ledger (one that no
process can lead on; solocron ledger check says so) aside, to
PATH.ledger.corrupt-<UTC time>, holding the lock meanwhile: it waits for
the lock as long as --timeout. The next leader starts a new ledger, finds
it stale, and so runs no tick it missed: every job starts afresh from its
next tick. A ledger that can be read is left alone.

` + storeUsage + `
Exit status: 0 when repaired; 1 when refused (not ahead, a readable
ledger, or a process leads) or the repair failed; 2 usage error; 3 when
the store cannot be reached.
`

// repairApp names the command as the holder while it leads, for whoever
// asks who leads meanwhile.
const repairApp = "solocron ledger repair"

func cmdLedgerRepair(ctx context.Context, o *output, args []string) error {
	f := newFlags("ledger repair", ledgerRepairUsage)
	pos, err := f.parseRange(args, 0, 1)
	if err != nil {
		return err
	}
	if len(pos) == 0 && (f.store.postgres != "" || f.store.redis != "") {
		return f.usageErr(fmt.Errorf("ledger repair: name the job (only a file ledger is repaired whole)"))
	}
	st, err := f.open()
	if err != nil {
		return err
	}
	defer st.close()
	if len(pos) == 0 {
		return moveAside(ctx, o, st)
	}
	name := pos[0]

	records := []string{name, name + solocron.ManualRecordSuffix, name + solocron.RequestRecordSuffix}
	recs, err := observe(ctx, st)
	if err != nil {
		if st.ledgerPath != "" {
			return problem(errors.New(unreadableLedger(st.ledgerPath, err)))
		}
		return unreachable(fmt.Errorf("reading the ledger of %s: %w", st, err))
	}
	if err := refuseNotAhead(recs, name, records, o.now()); err != nil {
		return err
	}
	leader, err := holder(ctx, st)
	if err != nil {
		return unreachable(err)
	}
	if leader != nil {
		return problem(leads(*leader, name))
	}
	lease, err := campaign(ctx, st, name)
	if err != nil {
		return err
	}
	defer func() {
		release, cancel := st.call(context.WithoutCancel(ctx))
		defer cancel()
		_ = lease.Release(release)
	}()
	return reset(ctx, o, st, lease, name, records)
}

// refuseNotAhead refuses the repair unless one of the job's records is
// claimed ahead of now.
func refuseNotAhead(recs map[string]solocron.Record, name string, records []string, now time.Time) error {
	for _, r := range claimedAhead(recs, now) {
		if slices.Contains(records, r) {
			return nil
		}
	}
	rec, found := recs[name]
	if !found {
		return problem(fmt.Errorf("ledger repair %s: the ledger has no record of %q: nothing to repair", name, name))
	}
	return problem(fmt.Errorf("ledger repair %s: its record (claimed %s) is not ahead of now: nothing to repair; moving a claim back could run a tick twice",
		name, clock(rec.Claimed)))
}

// leads is the error of a repair refused because a process leads.
func leads(h solocron.Holder, name string) error {
	return fmt.Errorf("ledger repair %s: pid %d on %s leads (term %d, app %s): only the leader may move a claim. "+
		"Call Scheduler.ResetJob(ctx, %q) on it (the dashboard's reset button does), or stop the application's processes and run this again",
		name, h.PID, h.Hostname, h.Term, orDash(h.App), name)
}

// campaign leads for the repair, waiting at most the store timeout: a
// process that took the lead since Holder keeps it.
func campaign(ctx context.Context, st *store, name string) (solocron.Lease, error) {
	host, _ := os.Hostname()
	call, cancel := st.call(ctx)
	defer cancel()
	lease, err := st.Campaign(call, solocron.Candidate{PID: os.Getpid(), Hostname: host, App: repairApp})
	switch {
	case err == nil:
		return lease, nil
	case call.Err() != nil && ctx.Err() == nil:
		if leader, herr := holder(ctx, st); herr == nil && leader != nil {
			return nil, problem(leads(*leader, name))
		}
		return nil, unreachable(fmt.Errorf("could not lead within %v to repair the ledger: %w", st.timeout, err))
	case st.ledgerPath != "":
		return nil, problem(errors.New(unreadableLedger(st.ledgerPath, err)))
	}
	return nil, unreachable(fmt.Errorf("leading to repair the ledger: %w", err))
}

// reset re-reads the records under the lease, which no one else can change
// now, and resets those still ahead to now.
func reset(ctx context.Context, o *output, st *store, lease solocron.Lease, name string, records []string) error {
	call, cancel := st.call(ctx)
	defer cancel()
	recs, err := lease.Records(call, records)
	if err != nil {
		return problem(fmt.Errorf("ledger repair %s: reading the records: %w", name, err))
	}
	now := o.now()
	ahead := claimedAhead(recs, now)
	if len(ahead) == 0 {
		return refuseNotAhead(recs, name, records, now)
	}
	tick := now.Truncate(time.Microsecond)
	for _, r := range ahead {
		if err := lease.Reset(call, r, tick); err != nil {
			return problem(fmt.Errorf("ledger repair %s: resetting %s: %w", name, displayName(r), err))
		}
		fmt.Fprintf(o.out, "repaired %s: claimed %s, now %s; its next tick runs\n", displayName(r), clock(recs[r].Claimed), clock(tick))
	}
	return nil
}

// moveAside moves a corrupt file ledger aside, holding the lock.
func moveAside(ctx context.Context, o *output, st *store) error {
	lock := st.Elector.(*solocron.FileLock) // the other stores are refused before they open
	call, cancel := st.call(ctx)
	defer cancel()
	aside, err := lock.MoveLedgerAside(call)
	switch {
	case err == nil:
		fmt.Fprintf(o.out, "moved the corrupt ledger %s to %s\n", st.ledgerPath, aside)
		fmt.Fprintf(o.out, "The next leader starts a new ledger and runs no tick it missed: every job starts afresh from its next tick.\n")
		return nil
	case call.Err() != nil && ctx.Err() == nil:
		if leader, herr := holder(ctx, st); herr == nil && leader != nil {
			return problem(fmt.Errorf("ledger repair: pid %d on %s leads (term %d): stop the application's processes, then run this again", leader.PID, leader.Hostname, leader.Term))
		}
		return problem(fmt.Errorf("ledger repair: the lock %s stayed held for %v: a process holds it; stop the application's processes, then run this again", lock.Path(), st.timeout))
	}
	return problem(errors.New(strings.TrimPrefix(err.Error(), "solocron: ")))
}
