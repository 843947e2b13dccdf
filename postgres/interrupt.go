package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// idleReadKey marks the context of the session's idle read.
type idleReadKey struct{}

// interrupter decides how pgx interrupts the dedicated connection when a
// context ends. A statement (a lock wait, a claim whose caller gave up) is
// cancelled on the server, so the session, and with it the lock, survives;
// only if the server does not answer within a second is the socket cut.
// The idle read runs nothing on the server and is woken by a deadline on
// the socket, which pgx treats as harmless.
type interrupter struct {
	byCancel, byDeadline, used ctxwatch.Handler
}

func newInterrupter(c *pgconn.PgConn) ctxwatch.Handler {
	return &interrupter{
		byCancel:   &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second},
		byDeadline: &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()},
	}
}

func (h *interrupter) HandleCancel(ctx context.Context) {
	h.used = h.byCancel
	if ctx.Value(idleReadKey{}) != nil {
		h.used = h.byDeadline
	}
	h.used.HandleCancel(ctx)
}

func (h *interrupter) HandleUnwatchAfterCancel() { h.used.HandleUnwatchAfterCancel() }
