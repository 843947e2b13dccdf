package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

const ledgerCheckUsage = `usage: solocron ledger check <store>

Lists the ledger's problems:
  - records claimed ahead of now (by more than a minute): the ledger refuses
    every tick of the job up to that claim. Ticks are claimed when they fall
    due, so such a record is corrupt, or a leader's clock stepped forward.
    Repair it with Scheduler.ResetJob on the leader, or solocron ledger
    repair JOB while no process leads;
  - for the file lock, a ledger that cannot be read.

` + storeUsage + `
Exit status: 0 when it finds no problem; 1 when it finds any; 2 usage error;
3 when the store cannot be reached.
`

func cmdLedgerCheck(ctx context.Context, o *output, args []string) error {
	f := newFlags("ledger check", ledgerCheckUsage)
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	st, err := f.open()
	if err != nil {
		return err
	}
	defer st.close()
	recs, err := observe(ctx, st)
	if err != nil {
		if st.ledgerPath == "" {
			return unreachable(fmt.Errorf("reading the ledger of %s: %w", st, err))
		}
		fmt.Fprintf(o.out, "problem: %s\n", unreadableLedger(st.ledgerPath, err))
		return problem(nil)
	}
	now := o.now()
	ahead := claimedAhead(recs, now)
	for _, name := range ahead {
		claimed := recs[name].Claimed
		fmt.Fprintf(o.out, "problem: %s is claimed ahead: tick %s, %s after now; every tick until then is refused.\n"+
			"  Repair: Scheduler.ResetJob(ctx, %q) on the leader, or solocron ledger repair %s while no process leads.\n",
			displayName(name), clock(claimed), ago(claimed.Sub(now)), base(name), base(name))
	}
	if len(ahead) > 0 {
		return problem(nil)
	}
	fmt.Fprintf(o.out, "ledger check: no problem in %d records of %s\n", len(recs), st)
	return nil
}

// claimedAhead returns the names of the records claimed more than
// aheadMargin after now, sorted.
func claimedAhead(recs map[string]solocron.Record, now time.Time) []string {
	var names []string
	for name, rec := range recs {
		if base(name) != "" && rec.Claimed.After(now.Add(aheadMargin)) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// base is the job a record belongs to; "" for an engine's own marker.
func base(record string) string {
	b, _, _ := strings.Cut(record, "\x1f")
	return b
}
