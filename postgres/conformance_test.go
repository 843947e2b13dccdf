package postgres

import (
	"testing"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/electortest"
)

func TestConformance(t *testing.T) {
	electortest.Run(t, func(t *testing.T) electortest.NewElector {
		o := testOptions(t)
		return func(t *testing.T) solocron.Elector { return mustNew(t, o) }
	})
}

// TestConformanceState deletes everything the elector keeps for the App by
// dropping both tables (harsher than deleting its rows), and backs the
// ledger up as an operator would, into a table of its own, restoring it
// with a delete and an insert.
func TestConformanceState(t *testing.T) {
	electortest.RunState(t, func(t *testing.T) electortest.Store {
		o := testOptions(t)
		tb := newTables(o)
		return electortest.Store{
			New: func(t *testing.T) solocron.Elector { return mustNew(t, o) },
			DeleteAll: func(t *testing.T) {
				sqlExec(t, o.URL, `DROP TABLE `+tb.lease+`, `+tb.ledger)
			},
			BackupLedger: func(t *testing.T) func(t *testing.T) {
				backup := tb.schema + `.ledger_backup`
				sqlExec(t, o.URL, `CREATE TABLE `+backup+` AS SELECT * FROM `+tb.ledger+` WHERE app = $1`, o.App)
				return func(t *testing.T) {
					sqlExec(t, o.URL, `DELETE FROM `+tb.ledger+` WHERE app = $1`, o.App)
					sqlExec(t, o.URL, `INSERT INTO `+tb.ledger+` SELECT * FROM `+backup)
				}
			},
		}
	})
}
