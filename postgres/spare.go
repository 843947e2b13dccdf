package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// spareIdle is how long the spare connection stays open unused: longer
// than the leader's poll of the control state (every second), so that the
// poll costs a round trip, not a new connection (a few ms on localhost,
// more with TLS and a remote server); short enough that a standby, which
// observes about once a minute, does not keep a second connection.
const spareIdle = 10 * time.Second

// spare is the connection of the unfenced calls (Observe, Control,
// SetPaused, RequestRun), kept between calls. It is not the lease's
// session: a statement stuck on a locked control table must not delay a
// renewal. Calls that overlap open a connection each; one is kept.
type spare struct {
	mu     sync.Mutex
	conn   *pgx.Conn // idle; nil when none is kept
	gen    uint64    // counts puts and unpins, so that the timer of an earlier one closes nothing
	timer  *time.Timer
	pinned int // campaigns in progress: the kept connection does not expire meanwhile
}

// pin keeps the spare connection open until unpin, and reports whether
// one is kept: a campaign pins it, so that the new leader's first reads
// of the control state cost a round trip, not a new connection (a few
// milliseconds of the takeover).
func (s *spare) pin() (kept bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinned++
	if s.timer != nil {
		s.timer.Stop()
	}
	return s.conn != nil
}

// unpin undoes pin; the kept connection expires after spareIdle again.
func (s *spare) unpin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinned--
	s.armLocked()
}

// armLocked starts the kept connection's expiry, unless it is pinned.
func (s *spare) armLocked() {
	if s.conn == nil || s.pinned > 0 {
		return
	}
	s.gen++
	gen := s.gen
	s.timer = time.AfterFunc(spareIdle, func() { s.expire(gen) })
}

// take returns the kept connection, or nil.
func (s *spare) take() *pgx.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conn
	s.conn = nil
	if s.timer != nil {
		s.timer.Stop()
	}
	return c
}

// put keeps c for the next call, for spareIdle, or closes it when one is
// kept already or c is unfit (closed, or left in a transaction).
func (s *spare) put(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		closeQuietly(c)
		return
	}
	s.mu.Lock()
	if s.conn != nil {
		s.mu.Unlock()
		closeQuietly(c)
		return
	}
	s.conn = c
	s.armLocked()
	s.mu.Unlock()
}

// expire closes the connection kept by put number gen, if it is still
// kept.
func (s *spare) expire(gen uint64) {
	s.mu.Lock()
	c := s.conn
	if c == nil || s.gen != gen || s.pinned > 0 {
		s.mu.Unlock()
		return
	}
	s.conn = nil
	s.mu.Unlock()
	closeQuietly(c)
}

// unfenced runs fn on the spare connection. A kept connection may have
// died since (a server restart, idle_session_timeout, a terminated
// backend): fn is then run once more on a new one, if it is idempotent
// or the server cannot have run it.
func (e *Elector) unfenced(ctx context.Context, idempotent bool, fn func(ctx context.Context, c *pgx.Conn) error) error {
	c := e.spare.take()
	reused := c != nil
	if c == nil {
		var err error
		if c, err = e.connect(ctx); err != nil {
			return err
		}
	}
	err := fn(ctx, c)
	if err != nil && reused && c.IsClosed() && ctx.Err() == nil && (idempotent || notRun(err)) {
		if c, err = e.connect(ctx); err != nil {
			return err
		}
		err = fn(ctx, c)
	}
	e.spare.put(c)
	return err
}

// notRun reports an error that shows the statement never took effect:
// nothing was sent, or the server had ended the session (a terminated
// backend, a shutdown, idle_session_timeout: the FATAL it sent then is
// what the next statement reads). A statement it was running when it
// ended the session is rolled back, so it did not take effect either,
// barring an end in the instant between its commit and its answer.
func notRun(err error) bool {
	switch pgCode(err) {
	case "57P01", "57P05": // admin_shutdown, idle_session_timeout
		return true
	}
	return pgconn.SafeToRetry(err)
}
