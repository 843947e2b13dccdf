package member

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron/bench/internal/engine"
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
	sql := func(q string) func() error {
		return func() error {
			if _, err := conn.Exec(ctx, q, shared); err != nil {
				return fmt.Errorf("postgres-raw: %w", err)
			}
			return nil
		}
	}
	return serveRawLock(sql("SELECT pg_advisory_lock(hashtext($1))"), sql("SELECT pg_advisory_unlock(hashtext($1))"))
}
