package solocron

import (
	"testing"
	"time"
)

// The pause after each failure doubles from the base up to the limit, is
// drawn from the upper half of its step (processes that failed together
// spread out), and starts over after a success.
func TestBackoffDoublesUpToTheLimitWithJitter(t *testing.T) {
	b := backoff{base: 100 * time.Millisecond, limit: time.Second}
	steps := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for round := range 2 {
		for i, step := range steps {
			step *= time.Millisecond
			seen := map[time.Duration]bool{}
			for range 50 {
				probe := b // the same step, drawn again
				d := probe.next()
				if d < step/2 || d > step {
					t.Fatalf("round %d, failure %d: pause %v, want within [%v, %v]", round, i+1, d, step/2, step)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Fatalf("failure %d: every pause was %v: no jitter", i+1, step)
			}
			b.next()
		}
		b.reset()
	}
}
