package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A job that writes to the same database fences its writes by the run's
// term, as the README shows: it locks the lease row FOR SHARE in its
// transaction. A takeover waits for that transaction; once it has
// happened, the old term's check fails.
func TestJobFencesItsWritesByTerm(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	la := campaignOrFail(t, mustNew(t, o), 1)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	fence := `SELECT term FROM ` + newTables(o).lease + ` WHERE app = $1 FOR SHARE`
	current := func(tx pgx.Tx, term uint64) bool {
		var now int64
		if err := tx.QueryRow(ctx, fence, o.App).Scan(&now); err != nil {
			t.Fatal(err)
		}
		return uint64(now) == term
	}

	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !current(tx, la.Term()) {
		t.Fatal("the leader's own term failed the fence")
	}
	// Release waits for the job's transaction too (it updates the row).
	released := make(chan error, 1)
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		released <- la.Release(rctx)
	}()
	got := standby(t, mustNew(t, o), 2, 10*time.Second)
	select {
	case tk := <-got:
		t.Fatalf("took over while a job of the old term held the fence: %v", tk.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	waitTakeover(t, got)

	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if current(tx, la.Term()) {
		t.Fatal("the old term passed the fence after a takeover")
	}
}
