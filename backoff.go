package solocron

import (
	"math/rand/v2"
	"time"
)

// backoff spaces the retries of an elector or a ledger that keeps failing:
// the pause doubles from Options.RetryInterval up to
// Options.MaxRetryInterval, and each pause is drawn from the upper half of
// its step, so that processes that failed together do not retry together.
type backoff struct {
	base, limit time.Duration
	step        time.Duration // 0 before the first failure
}

// next returns the pause before the next attempt.
func (b *backoff) next() time.Duration {
	if b.step == 0 {
		b.step = b.base
	} else {
		b.step = min(2*b.step, b.limit)
	}
	half := b.step / 2
	return b.step - half + rand.N(half+1)
}

// reset starts over after a success.
func (b *backoff) reset() { b.step = 0 }
