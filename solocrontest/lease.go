package solocrontest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/solocron/solocron"
)

// elector is one process's view of a Store. Terms are built the way the
// real engines build them: one more than the last, and never less than
// the clock in microseconds, so that they grow even after DeleteAll.
type elector struct{ s *Store }

func (e *elector) String() string { return fmt.Sprintf("memory %p", e.s) }

func (e *elector) Campaign(ctx context.Context, c solocron.Candidate) (solocron.Lease, error) {
	s := e.s
	for {
		s.mu.Lock()
		if s.holder == nil {
			l := s.grantLocked(c)
			s.mu.Unlock()
			return l, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// grantLocked opens a term for c; s.mu is held.
func (s *Store) grantLocked(c solocron.Candidate) *lease {
	prev := s.term
	s.term = max(prev+1, uint64(time.Now().UnixMicro()))
	l := &lease{s: s, term: s.term, candidate: c, since: time.Now(), lost: make(chan struct{})}
	if s.ledger.term < prev {
		l.stale = fmt.Errorf("solocrontest: the ledger ends at term %d but term %d was granted since", s.ledger.term, prev)
	}
	s.ledger.term = l.term
	s.holder = l
	return l
}

func (e *elector) Holder(ctx context.Context) (solocron.Holder, error) {
	s := e.s
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.holder
	if l == nil {
		return solocron.Holder{}, solocron.ErrNoHolder
	}
	c := l.candidate
	return solocron.Holder{PID: c.PID, Hostname: c.Hostname, Since: l.since, Term: l.term, App: c.App, Jobs: c.Jobs}, nil
}

// lease is one term in a Store. Its fields after lost are guarded by the
// Store's mutex.
type lease struct {
	s         *Store
	term      uint64
	candidate solocron.Candidate
	since     time.Time
	stale     error
	lost      chan struct{} // closed when the term ends but by Release

	once sync.Once
	err  error
}

func (l *lease) Term() uint64          { return l.term }
func (l *lease) LedgerStale() error    { return l.stale }
func (l *lease) Lost() <-chan struct{} { return l.lost }

func (l *lease) Err() error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.err
}

func (l *lease) Release(context.Context) error {
	l.end(nil, true)
	return nil
}

// end ends the term once: by Release, or lost for err.
func (l *lease) end(err error, released bool) {
	l.once.Do(func() {
		s := l.s
		s.mu.Lock()
		if s.holder == l {
			s.holder = nil
			close(s.changed)
			s.changed = make(chan struct{})
		}
		l.err = err
		s.mu.Unlock()
		if !released {
			close(l.lost)
		}
	})
}

func (l *lease) Records(ctx context.Context, jobs []string) (map[string]solocron.Record, error) {
	if err := l.s.enterLedger(ctx, l); err != nil {
		return nil, err
	}
	defer l.s.mu.Unlock()
	out := make(map[string]solocron.Record, len(jobs))
	for _, j := range jobs {
		if r, ok := l.s.ledger.records[j]; ok {
			out[j] = r
		}
	}
	return out, nil
}

func (l *lease) Claim(ctx context.Context, claims []solocron.Claim) ([]bool, error) {
	if err := l.s.enterLedger(ctx, l); err != nil {
		return nil, err
	}
	defer l.s.mu.Unlock()
	granted := make([]bool, len(claims))
	for i, c := range claims {
		tick := c.Tick.Truncate(time.Microsecond)
		r, ok := l.s.ledger.records[c.Job]
		switch {
		case !ok || tick.After(r.Claimed):
			r.Claimed = tick
		case c.Retry && tick.Equal(r.Claimed) && r.Completed.Before(tick):
		default:
			continue
		}
		l.s.ledger.records[c.Job] = r
		granted[i] = true
	}
	return granted, nil
}

func (l *lease) Complete(ctx context.Context, done []solocron.Outcome) error {
	if err := l.s.enterLedger(ctx, l); err != nil {
		return err
	}
	defer l.s.mu.Unlock()
	for _, o := range done {
		tick := o.Tick.Truncate(time.Microsecond)
		r, ok := l.s.ledger.records[o.Job]
		if !ok {
			continue
		}
		if tick.After(r.Completed) {
			r.Completed = tick
		}
		if o.Ran && !tick.Before(r.Finished) {
			r.Finished, r.Duration, r.Error = tick, o.Duration, o.Error
		}
		if next := o.Next.Truncate(time.Microsecond); next.After(r.Next) {
			r.Next = next
		}
		l.s.ledger.records[o.Job] = r
	}
	return nil
}

func (l *lease) Reset(ctx context.Context, job string, tick time.Time) error {
	if err := l.s.enterLedger(ctx, l); err != nil {
		return err
	}
	defer l.s.mu.Unlock()
	tick = tick.Truncate(time.Microsecond)
	r := l.s.ledger.records[job]
	r.Claimed, r.Completed = tick, tick
	l.s.ledger.records[job] = r
	return nil
}
