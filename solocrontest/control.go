package solocrontest

import (
	"context"
	"time"

	"github.com/solocron/solocron"
)

// The unfenced reads and writes any process makes (see solocron.Elector).
// They honour FailLedger and HoldLedger like the lease's ledger calls.

func (e *elector) Observe(ctx context.Context) (map[string]solocron.Record, error) {
	s := e.s
	if err := s.enterStore(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make(map[string]solocron.Record, len(s.ledger.records))
	for name, r := range s.ledger.records {
		out[name] = r
	}
	for name, c := range s.control {
		r := out[name]
		r.Control = c
		out[name] = r
	}
	return out, nil
}

func (e *elector) Control(ctx context.Context) (map[string]solocron.Control, error) {
	s := e.s
	if err := s.enterStore(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make(map[string]solocron.Control, len(s.control))
	for name, c := range s.control {
		out[name] = c
	}
	return out, nil
}

func (e *elector) SetPaused(ctx context.Context, job string, paused bool) error {
	s := e.s
	if err := s.enterStore(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	c := s.control[job]
	c.Paused = paused
	s.setControlLocked(job, c)
	return nil
}

func (e *elector) RequestRun(ctx context.Context, job string) error {
	s := e.s
	if err := s.enterStore(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	c := s.control[job]
	now := time.Now().Truncate(time.Microsecond)
	if !c.Requested.IsZero() && !now.After(c.Requested) {
		now = c.Requested.Add(time.Microsecond)
	}
	c.Requested = now
	s.setControlLocked(job, c)
	return nil
}

// setControlLocked stores c, forgetting a job whose control is all zero.
func (s *Store) setControlLocked(job string, c solocron.Control) {
	if c == (solocron.Control{}) {
		delete(s.control, job)
		return
	}
	s.control[job] = c
}
