package main

import (
	"context"
	"fmt"
	"time"
)

const ledgerUsage = `usage: solocron ledger check <store>
       solocron ledger repair <store> JOB

  check    lists the ledger's problems: records claimed ahead of now (the
           ledger then refuses every tick of the job up to that claim), and,
           for the file lock, a ledger that cannot be read
  repair   resets a job's record claimed ahead of now, while no process
           leads

Run 'solocron ledger check -h' or 'solocron ledger repair -h' for details.
`

// aheadMargin is how far ahead of now a claim may lie before it is a
// problem: ticks are claimed when they fall due, so only clock skew
// between hosts explains a small lead.
const aheadMargin = time.Minute

func cmdLedger(ctx context.Context, o *output, args []string) error {
	if len(args) == 0 {
		return &usageError{command: "ledger", err: fmt.Errorf("ledger: name a subcommand, check or repair")}
	}
	switch args[0] {
	case "check":
		return cmdLedgerCheck(ctx, o, args[1:])
	case "repair":
		return cmdLedgerRepair(ctx, o, args[1:])
	case "-h", "-help", "--help":
		return &helpRequest{text: ledgerUsage}
	}
	return &usageError{command: "ledger", err: fmt.Errorf("ledger: unknown subcommand %q (check or repair)", args[0])}
}

// unreadableLedger is what to do about a file ledger that cannot be read.
func unreadableLedger(path string, err error) string {
	return fmt.Sprintf("the ledger %s cannot be read: %v\n"+
		"  No process can lead while it cannot be read. Stop every process of the\n"+
		"  application, move the file aside (mv %s %s.bad), and start them again:\n"+
		"  the next leader starts a new ledger and treats every job as new (a tick\n"+
		"  due then may run although it ran before).", path, err, path, path)
}
