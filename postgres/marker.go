package postgres

import "fmt"

// markerJob is the job name (an SQL literal) of the ledger's term marker:
// one row per App whose term column holds the last term that began with
// this ledger current, or claimed in it. Job names cannot hold control
// characters, so no job is ever named so, and every ledger statement
// leaves the row alone.
//
// The marker is written in the same statement as the lease row, so a
// ledger whose marker is behind the lease row's term (or missing while
// the row exists) is older than the last term: restored from a backup,
// replaced, or dropped and recreated. Its records may name ticks as
// unclaimed that ran, so the term that finds it reports it stale.
const markerJob = `E'\x1fterm'`

// markerName is markerJob's name in Go.
const markerName = "\x1fterm"

// staleLedger explains why the ledger is stale, given the lease row's
// term and the ledger's marker before this term began, or returns nil.
func (e *Elector) staleLedger(leaseTerm, marker *int64) error {
	if leaseTerm == nil || (marker != nil && *marker >= *leaseTerm) {
		return nil
	}
	found := "no term marker"
	if marker != nil {
		found = fmt.Sprintf("term marker %d", *marker)
	}
	return fmt.Errorf("solocron/postgres: the ledger %s holds %s for app %s, but the lease row in %s was at term %d: "+
		"the ledger was restored from a backup, replaced, or dropped and recreated since; its records are not trusted",
		e.t.ledgerName, found, e.opt.App, e.t.leaseName, *leaseTerm)
}
