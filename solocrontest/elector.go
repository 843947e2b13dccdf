// Package solocrontest helps test programs that use solocron: an elector
// that keeps leadership and the ledger in memory, shared by the Schedulers
// of one test as if each were a process of its own, with switches to make
// it fail the ways real stores fail.
package solocrontest

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/solocron/solocron"
)

// Store is the shared state of a group of in-memory electors: who leads,
// the term counter and the ledger. Its methods are safe for concurrent
// use.
type Store struct {
	mu      sync.Mutex
	term    uint64        // the last term granted
	holder  *lease        // nil when nobody leads
	changed chan struct{} // closed and replaced when the holder goes
	ledger  ledger
	control map[string]solocron.Control // not fenced: any process writes it
	fail    error                       // every ledger call fails with it, when not nil
	hold    chan struct{}               // ledger calls wait for it to close, when not nil
}

// ledger is the records and the term that last wrote them.
type ledger struct {
	term    uint64
	records map[string]solocron.Record
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{changed: make(chan struct{}), ledger: ledger{records: map[string]solocron.Record{}}, control: map[string]solocron.Control{}}
}

// Elector returns an elector on the store, as one process would have it.
func (s *Store) Elector() solocron.Elector { return &elector{s: s} }

// FailLedger makes every ledger call fail with err (a dropped table, a
// full disk) until FailLedger(nil).
func (s *Store) FailLedger(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// HoldLedger makes ledger calls wait (a server that stopped answering)
// until the returned function is called or their ctx ends.
func (s *Store) HoldLedger() (resume func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hold := make(chan struct{})
	s.hold = hold
	return sync.OnceFunc(func() {
		s.mu.Lock()
		if s.hold == hold {
			s.hold = nil
		}
		s.mu.Unlock()
		close(hold)
	})
}

// Revoke ends the current term as an expired lease would: its Lost is
// closed and its ledger calls fail with ErrNotLeader. A standby may then
// lead.
func (s *Store) Revoke(cause error) {
	s.mu.Lock()
	l := s.holder
	s.mu.Unlock()
	if l != nil {
		l.end(fmt.Errorf("%w: %w", solocron.ErrNotLeader, cause), false)
	}
}

// Record returns the ledger's record of job.
func (s *Store) Record(job string) (solocron.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.ledger.records[job]
	return r, ok
}

// SetRecord overwrites the ledger's record of job, as a corrupt record or
// a leader whose clock stepped would leave it.
func (s *Store) SetRecord(job string, r solocron.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ledger.records[job] = r
}

// BackupLedger copies the ledger; the returned function puts the copy
// back, as an operator restoring a backup would.
func (s *Store) BackupLedger() (restore func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	saved := ledger{term: s.ledger.term, records: maps.Clone(s.ledger.records)}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.ledger = ledger{term: saved.term, records: maps.Clone(saved.records)}
	}
}

// DeleteAll forgets everything but the clock: the term counter, the
// holder and the ledger, as a server restarted without persistence would.
// Terms still grow: they are built from the clock (see Elector).
func (s *Store) DeleteAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.term = 0
	s.ledger = ledger{records: map[string]solocron.Record{}}
	s.control = map[string]solocron.Control{}
}

// enterLedger waits out HoldLedger, then checks FailLedger and that l
// still leads. It returns with s.mu held when it returns nil.
func (s *Store) enterLedger(ctx context.Context, l *lease) error {
	if err := s.enterStore(ctx); err != nil {
		return err
	}
	if s.holder != l {
		s.mu.Unlock()
		return fmt.Errorf("%w: term %d is over", solocron.ErrNotLeader, l.term)
	}
	return nil
}

// enterStore waits out HoldLedger, then checks FailLedger. It returns with
// s.mu held when it returns nil.
func (s *Store) enterStore(ctx context.Context) error {
	for {
		s.mu.Lock()
		hold := s.hold
		if hold == nil {
			break
		}
		s.mu.Unlock()
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.fail != nil {
		err := s.fail
		s.mu.Unlock()
		return err
	}
	return nil
}
