// Package leasetiming holds the rules that the engines' lease timings
// share: the TTL, how often the leader renews, and how long before expiry
// it stops acting.
package leasetiming

import (
	"fmt"
	"time"
)

// Timing is a lease's TTL, RenewInterval and Margin, as the engines'
// Options name them.
type Timing struct {
	TTL           time.Duration
	RenewInterval time.Duration
	Margin        time.Duration
}

// WithDefaults fills zero fields (TTL defaultTTL, Margin TTL/5,
// RenewInterval TTL/3) and checks that the TTL is at least minTTL and a
// whole number of milliseconds, that Margin is below TTL/2 and that
// RenewInterval leaves room for a failed renewal to be retried before the
// lease runs out. Errors start with prefix (say "solocron/redis") and
// name the option as Options.<Field>.
func (t Timing) WithDefaults(prefix string, defaultTTL, minTTL time.Duration) (Timing, error) {
	if t.TTL == 0 {
		t.TTL = defaultTTL
	}
	if t.TTL < minTTL {
		return t, fmt.Errorf("%s: Options.TTL %v is too short: at least %v", prefix, t.TTL, minTTL)
	}
	if t.TTL%time.Millisecond != 0 {
		return t, fmt.Errorf("%s: Options.TTL %v is not a whole number of milliseconds", prefix, t.TTL)
	}
	if t.Margin == 0 {
		t.Margin = t.TTL / 5
	}
	if t.Margin < 0 || t.Margin >= t.TTL/2 {
		return t, fmt.Errorf("%s: Options.Margin %v must be positive and less than half the TTL (%v)", prefix, t.Margin, t.TTL)
	}
	if t.RenewInterval == 0 {
		t.RenewInterval = t.TTL / 3
	}
	if t.RenewInterval <= 0 || t.RenewInterval > (t.TTL-t.Margin)/2 {
		return t, fmt.Errorf("%s: Options.RenewInterval %v must be positive and at most (TTL - Margin)/2 = %v, so that a failed renewal can be retried before the lease runs out", prefix, t.RenewInterval, (t.TTL-t.Margin)/2)
	}
	return t, nil
}
