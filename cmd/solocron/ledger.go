package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

const ledgerUsage = `usage: solocron ledger check <store>
       solocron ledger repair <store> [JOB]

  check    lists the ledger's problems: records claimed ahead of now (the
           ledger then refuses every tick of the job up to that claim), and,
           for the file lock, a ledger that cannot be read
  repair   resets a job's record claimed ahead of now, while no process
           leads; without a job, moves a corrupt file ledger aside

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

// unreadableLedger says that the file ledger at path cannot be read, and,
// when it is corrupt, what to do.
func unreadableLedger(path string, err error) string {
	msg := fmt.Sprintf("the ledger %s cannot be read: %v", path, err)
	if !errors.Is(err, solocron.ErrLedgerCorrupt) {
		return msg
	}
	return msg + fmt.Sprintf(`
  No process of the application can lead while it is corrupt. Move it
  aside (it waits for the lock, so that no process leads meanwhile):
      solocron ledger repair --lock %s
  The next leader starts a new ledger and runs no tick it missed.`, strings.TrimSuffix(path, ".ledger"))
}
