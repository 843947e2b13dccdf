package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/solocron/solocron"
)

// Why a lease was lost (Lease.Err wraps one of them).
var (
	// ErrLeaseExpired: the leader could not renew before its deadline
	// (start of its last successful renewal + TTL - Margin).
	ErrLeaseExpired = errors.New("solocron/redis: lease could not be renewed before its deadline")
	// ErrLeaseTaken: Redis no longer holds this campaign's token or term
	// (the lease expired and was taken, or the keys were lost).
	ErrLeaseTaken = errors.New("solocron/redis: lease is no longer ours")
)

// lease is one term. A goroutine renews it every RenewInterval; a
// watchdog closes lost at the deadline whatever a renewal in flight is
// doing, so the leader stops acting before Redis can expire the key.
type lease struct {
	e     *Elector
	token string
	term  uint64
	since time.Time
	stale error // LedgerStale
	args  []any // token, term: the fence arguments of every script

	mu       sync.Mutex
	deadline time.Time // monotonic: last renewal start + TTL - Margin
	err      error     // why lost
	released bool
	lost     chan struct{}
	stop     chan struct{} // closed by Release
	done     chan struct{} // closed when the renewer has returned
}

func newLease(e *Elector, token string, term uint64, since, start time.Time, stale error) *lease {
	l := &lease{
		e: e, token: token, term: term, since: since, stale: stale,
		args:     []any{token, term},
		deadline: start.Add(e.opt.TTL - e.opt.Margin),
		lost:     make(chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go l.renew(start)
	return l
}

func (l *lease) Term() uint64          { return l.term }
func (l *lease) Lost() <-chan struct{} { return l.lost }

func (l *lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// lose ends the term for err, once; it does nothing after Release.
func (l *lease) lose(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || l.released {
		return
	}
	l.err = err
	close(l.lost)
}

// check returns an error wrapping ErrNotLeader unless the lease is live by
// the local clock. Redis checks again; this saves the trip and catches a
// process that slept past its deadline before its watchdog could run.
func (l *lease) check() error {
	l.mu.Lock()
	deadline, released, err := l.deadline, l.released, l.err
	l.mu.Unlock()
	switch {
	case released:
		return fmt.Errorf("%w: term %d was released", solocron.ErrNotLeader, l.term)
	case err != nil:
		return fmt.Errorf("%w: term %d: %v", solocron.ErrNotLeader, l.term, err)
	case !time.Now().Before(deadline):
		l.lose(ErrLeaseExpired)
		return fmt.Errorf("%w: term %d: %v", solocron.ErrNotLeader, l.term, ErrLeaseExpired)
	}
	return nil
}

// renew keeps the lease until Release or loss. start is when the attempt
// that produced the current deadline began.
func (l *lease) renew(start time.Time) {
	defer close(l.done)
	o := l.e.opt
	next := start.Add(o.RenewInterval)
	retry := min(o.RenewInterval/4, 250*time.Millisecond)
	watchdog := time.NewTimer(time.Until(l.deadlineNow()))
	defer watchdog.Stop()
	wake := time.NewTimer(time.Until(next))
	defer wake.Stop()
	for {
		if _, ok := await(l, wake.C, watchdog); !ok {
			return
		}
		attempt := time.Now()
		result := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithDeadline(context.Background(), l.deadlineNow())
			defer cancel()
			n, err := renewScript.Run(ctx, l.e.client, []string{l.e.keys.lease, l.e.keys.term, l.e.keys.holder},
				l.token, l.term, o.TTL.Milliseconds()).Int()
			if err == nil && n != 1 {
				err = ErrLeaseTaken
			}
			result <- err
		}()
		err, ok := await(l, result, watchdog)
		if !ok {
			return
		}
		if l.Err() != nil {
			return // a ledger call found the deadline passed
		}
		switch {
		case err == nil:
			d := attempt.Add(o.TTL - o.Margin)
			l.mu.Lock()
			l.deadline = d
			l.mu.Unlock()
			watchdog.Reset(time.Until(d)) // Go 1.23 timers: no stale value to drain
			wake.Reset(time.Until(attempt.Add(o.RenewInterval)))
		case errors.Is(err, ErrLeaseTaken):
			l.lose(ErrLeaseTaken)
			return
		default:
			// The network or the server failed: try again soon, until the
			// watchdog says the lease may have lapsed. A later success is
			// safe: the script checks the token, so a lapsed lease is
			// never revived.
			wake.Reset(retry)
		}
	}
}

// await receives from ch unless Release comes first (false) or the
// watchdog fires first (the term is lost: false).
func await[T any](l *lease, ch <-chan T, watchdog *time.Timer) (T, bool) {
	var zero T
	select {
	case <-l.stop:
		return zero, false
	case <-watchdog.C:
		l.lose(ErrLeaseExpired)
		return zero, false
	case v := <-ch:
		return v, true
	}
}

func (l *lease) deadlineNow() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deadline
}

// Release deletes the lease and tells the standbys. Lost is not closed.
func (l *lease) Release(ctx context.Context) error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil
	}
	l.released = true
	wasLost := l.err != nil
	close(l.stop)
	l.mu.Unlock()
	<-l.done
	if wasLost {
		return nil // Redis may already hold someone else's lease: nothing of ours to delete
	}
	err := releaseScript.Run(ctx, l.e.client, []string{l.e.keys.lease, l.e.keys.holder}, l.token, l.e.keys.channel).Err()
	return l.e.wrap("release", err)
}

// LedgerStale: see solocron.Lease and ErrLedgerStale.
func (l *lease) LedgerStale() error { return l.stale }
