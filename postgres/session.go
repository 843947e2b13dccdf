package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
)

// session owns the dedicated connection of a lease: the one whose
// advisory lock proves leadership. A pgx.Conn serves one statement at a
// time, so statements are handed to one goroutine, which, whenever none
// runs, keeps a read outstanding on the socket. A session the server ends
// (pg_terminate_backend, a restart, a reset connection) is thus noticed
// the moment its last message or EOF arrives, not at the next renewal.
// The session never reconnects: a new session would have to contend
// again like any standby.
type session struct {
	conn *pgx.Conn
	reqs chan request
	done chan struct{} // closed when the session has ended
	err  error         // why it ended; set before done is closed

	closeConn sync.Once

	mu      sync.Mutex
	pending int                // requests announced but not yet taken
	wake    context.CancelFunc // interrupts the idle read; nil while busy
	stopped bool
}

type request struct {
	ctx  context.Context
	fn   func(ctx context.Context, c *pgx.Conn) error
	done chan error
}

// errSessionClosed is why a session ended that was closed on purpose.
var errSessionClosed = errors.New("session closed")

func startSession(c *pgx.Conn) *session {
	s := &session{conn: c, reqs: make(chan request), done: make(chan struct{})}
	go s.run()
	return s
}

// do runs fn on the connection. fn must honour ctx.
func (s *session) do(ctx context.Context, fn func(ctx context.Context, c *pgx.Conn) error) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		<-s.done
		return s.err
	}
	s.pending++
	if s.wake != nil {
		s.wake()
	}
	s.mu.Unlock()
	r := request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
		return <-r.done
	case <-s.done:
		return s.err
	}
}

// ended reports whether the session has ended, and why.
func (s *session) ended() (bool, error) {
	select {
	case <-s.done:
		return true, s.err
	default:
		return false, nil
	}
}

// close ends the session and closes the connection, which releases the
// advisory lock on the server. It may be called more than once, at once.
func (s *session) close() {
	s.mu.Lock()
	s.stopped = true
	if s.wake != nil {
		s.wake()
	}
	s.mu.Unlock()
	<-s.done
	s.closeConn.Do(func() { closeQuietly(s.conn) })
}

func (s *session) run() {
	end := func(err error) {
		s.err = err
		close(s.done)
	}
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			end(errSessionClosed)
			return
		}
		if s.pending > 0 {
			s.pending--
			s.mu.Unlock()
			r := <-s.reqs
			err := r.fn(r.ctx, s.conn)
			if s.conn.IsClosed() {
				// End first, so that the caller sees the session gone.
				end(errors.New("connection closed during a statement"))
				r.done <- err
				return
			}
			r.done <- err
			continue
		}
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), idleReadKey{}, true))
		s.wake = cancel
		s.mu.Unlock()

		// Nothing is LISTENed to, so this returns only when woken, or
		// when the server speaks first: that is a FATAL error or EOF.
		err := s.conn.PgConn().WaitForNotification(ctx)

		woken := ctx.Err() != nil
		s.mu.Lock()
		s.wake = nil
		s.mu.Unlock()
		cancel()
		if err != nil && !woken {
			end(err)
			return
		}
		if s.conn.IsClosed() {
			end(errors.New("connection closed"))
			return
		}
	}
}
