package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// identity tells one database of one running server from any other: a
// pool on another database, on another server, or on a copy of this one
// (a replica, a clone restored from a backup) sees another. It is the
// same through any address, proxy or pooler that reaches the server.
type identity struct {
	database string
	oid      uint32
	started  time.Time // pg_postmaster_start_time()
	addr     string    // where the client connected, to name it in errors
}

const identityQuery = `SELECT current_database(), d.oid, pg_postmaster_start_time()
	FROM pg_database d WHERE d.datname = current_database()`

// readIdentity reads the identity of c's database.
func readIdentity(ctx context.Context, c interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, cfg *pgx.ConnConfig) (identity, error) {
	id := identity{addr: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)}
	err := c.QueryRow(ctx, identityQuery).Scan(&id.database, &id.oid, &id.started)
	return id, err
}

func (a identity) same(b identity) bool {
	return a.database == b.database && a.oid == b.oid && a.started.Equal(b.started)
}

func (a identity) String() string {
	return fmt.Sprintf("database %s (oid %d) at %s, server started %s",
		a.database, a.oid, a.addr, a.started.UTC().Format(time.RFC3339Nano))
}
