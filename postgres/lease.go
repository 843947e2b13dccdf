package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/redact"
)

// lease is one term: the advisory lock held by its session and the lease
// row that carries the term.
type lease struct {
	e     *Elector
	s     *session
	term  uint64
	stale error    // the ledger was older than the last term as this one began
	id    identity // of the session's database

	// unmarked: the ledger's term marker still names an earlier term
	// (the ledger was stale); the first claim moves it to this one.
	unmarked atomic.Bool

	ctx    context.Context // ends with the term: aborts statements in flight
	cancel context.CancelFunc

	mu       sync.Mutex
	valid    time.Time   // monotonic: start of last renewal + TTL - Margin
	expiry   *time.Timer // loses the lease at valid
	ended    bool        // lost or released
	released bool
	lost     chan struct{}
	err      error
}

// newLease starts a term whose row was written by a statement sent at
// start.
func newLease(e *Elector, s *session, term uint64, start time.Time, stale error, id identity) *lease {
	l := &lease{e: e, s: s, term: term, stale: stale, id: id, lost: make(chan struct{})}
	l.unmarked.Store(stale != nil)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.valid = start.Add(e.opt.TTL - e.opt.Margin)
	l.expiry = time.AfterFunc(time.Until(l.valid), func() {
		l.lose(fmt.Errorf("no renewal succeeded for TTL - Margin = %v: stopping before the lease row can expire", e.opt.TTL-e.opt.Margin))
	})
	go l.keep()
	return l
}

func (l *lease) Term() uint64          { return l.term }
func (l *lease) Lost() <-chan struct{} { return l.lost }

func (l *lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// keep renews the lease row while the term lasts and ends the term when
// the session ends.
func (l *lease) keep() {
	t := time.NewTimer(l.e.opt.RenewInterval)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.s.done:
			l.lose(fmt.Errorf("session ended: %w", l.s.err))
			return
		case <-t.C:
		}
		start := time.Now()
		ok, err := l.renew()
		switch {
		case err == nil && !ok:
			l.lose(errors.New("the lease row no longer names this term and session: another process took over (or a pooler in transaction mode moved this connection)"))
			return
		case err == nil:
			l.extend(start.Add(l.e.opt.TTL - l.e.opt.Margin))
			t.Reset(l.e.opt.RenewInterval)
		default:
			// The session may still be alive (a statement error): try
			// again soon; the expiry timer ends the term if it never works.
			t.Reset(l.e.opt.RenewInterval / 4)
		}
	}
}

// renew moves the row's deadline to the database's now() + TTL, if the row
// is still this term's and this session's.
func (l *lease) renew() (bool, error) {
	var ok bool
	err := l.run(context.Background(), func(ctx context.Context, c *pgx.Conn) error {
		tag, err := c.Exec(ctx, l.e.sql.renew, l.e.opt.App, int64(l.term), l.e.opt.TTL.Milliseconds())
		ok = tag.RowsAffected() == 1
		return err
	})
	return ok, err
}

func (l *lease) extend(valid time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.valid = valid
	l.expiry.Reset(time.Until(valid))
}

// lose ends the term: Lost is closed, statements in flight are aborted and
// the connection is closed so that the server frees the lock at once.
func (l *lease) lose(cause error) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended = true
	l.err = redact.Error(fmt.Errorf("%w: %s: %w", solocron.ErrNotLeader, l.e, cause), l.e.secrets)
	l.expiry.Stop()
	close(l.lost)
	l.mu.Unlock()
	l.cancel()
	go l.s.close()
}

// current fails with ErrNotLeader once the term has ended here or its
// local deadline has passed, without asking the server.
func (l *lease) current() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.released:
		return fmt.Errorf("%w: lease of term %d was released", solocron.ErrNotLeader, l.term)
	case l.ended:
		return l.err
	case !time.Now().Before(l.valid):
		return fmt.Errorf("%w: lease of term %d expired here", solocron.ErrNotLeader, l.term)
	}
	return nil
}

// run runs fn on the session, bounded by ctx, the term and its local
// deadline.
func (l *lease) run(ctx context.Context, fn func(ctx context.Context, c *pgx.Conn) error) error {
	l.mu.Lock()
	valid := l.valid
	l.mu.Unlock()
	ctx, cancel := context.WithDeadline(ctx, valid)
	defer cancel()
	stop := context.AfterFunc(l.ctx, cancel)
	defer stop()
	return l.s.do(ctx, fn)
}

// Release clears the holder from the row, unlocks and closes the session.
// A standby blocked on the lock wakes at once.
func (l *lease) Release(ctx context.Context) error {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		l.s.close()
		return nil
	}
	l.ended, l.released = true, true
	l.expiry.Stop()
	l.mu.Unlock()

	err := l.s.do(ctx, func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, l.e.sql.release, l.e.opt.App, int64(l.term), l.e.key)
		return err
	})
	l.cancel()
	l.s.close()
	if err != nil {
		// The session is closed either way, and with it the lock: the
		// next holder of the lock takes the row at once, and Holder
		// does not show a holder whose session is gone.
		return l.e.wrap("release", err)
	}
	return nil
}

// LedgerStale reports a ledger whose term marker was behind the lease row
// as this term began. See solocron.Lease.
func (l *lease) LedgerStale() error { return l.stale }
