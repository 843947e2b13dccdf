package member

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron/bench/internal/engine"
	"github.com/solocron/solocron/bench/internal/proc"
)

// RawPostgres is the pseudo-engine of the PostgreSQL takeover baseline: a
// process that waits in pg_advisory_lock on its own session and reports
// leading the moment it returns. What is left is the server noticing the
// dead session and waking the waiter, the floor under the postgres engine.
const RawPostgres = "postgres-raw"

func rawPostgres(shared string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, engine.PostgresURL())
	if err != nil {
		return fmt.Errorf("postgres-raw: %w", err)
	}
	defer conn.Close(ctx)
	proc.Emit("started")
	locked := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", shared)
		locked <- err
	}()
	stop := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() && sc.Text() != "stop" {
		}
		close(stop)
	}()
	select {
	case err := <-locked:
		if err != nil {
			return fmt.Errorf("postgres-raw: %w", err)
		}
		now := time.Now()
		proc.EmitAt("leading", now, "0")
		proc.EmitAt("holder", now, "0")
	case <-stop:
		return nil // the pending lock call dies with the session
	}
	<-stop
	_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext($1))", shared)
	proc.Emit("stopped")
	return err
}
