package solocron

import (
	"sync"
	"time"
)

// Health says whether this process can reach its elector: the last error
// and since when it has lasted, and the last time the elector answered
// (a campaign, a claim, or the periodic check every process makes).
// A standby whose database is unreachable shows it here instead of
// looking like a healthy standby.
type Health struct {
	ElectorErr error     // the last error, while it lasts; nil when the last call worked
	ErrorSince time.Time // when the errors began
	LastOK     time.Time // when the elector last answered
}

// health is the Scheduler's record of its elector's answers, shared with
// its terms; safe for concurrent use.
type health struct {
	mu sync.Mutex
	h  Health
}

func (h *health) ok(at time.Time) {
	h.mu.Lock()
	h.h = Health{LastOK: at}
	h.mu.Unlock()
}

func (h *health) failed(err error, at time.Time) {
	h.mu.Lock()
	if h.h.ElectorErr == nil {
		h.h.ErrorSince = at
	}
	h.h.ElectorErr = err
	h.mu.Unlock()
}

func (h *health) get() Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h
}
