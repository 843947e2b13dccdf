package redis

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLedgerStale is wrapped by Lease.LedgerStale when the ledger hash was
// found older than the term counter as the term began: an old copy was
// restored, or the hash was deleted or replaced while the counter
// survived. Its records may name ticks that ran as unclaimed.
var ErrLedgerStale = errors.New("solocron/redis: the ledger is older than the term counter")

// staleLedger turns the acquire script's stale ("<ledger's term>/<counter>")
// into the error LedgerStale returns; nil when it is empty.
func (e *Elector) staleLedger(stale string) error {
	if stale == "" {
		return nil
	}
	ledgerTerm, counter, _ := strings.Cut(stale, "/")
	if ledgerTerm == "" {
		return fmt.Errorf("%w: %s holds no term (deleted or replaced) while %s had reached term %s",
			ErrLedgerStale, e.keys.ledger, e.keys.term, counter)
	}
	return fmt.Errorf("%w: %s was last written in term %s, but %s had reached term %s (an older copy was restored?)",
		ErrLedgerStale, e.keys.ledger, ledgerTerm, e.keys.term, counter)
}
