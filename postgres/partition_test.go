package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// A leader cut off from the server by a partition stops its runs at its
// own lease deadline: the run's ctx ends before another process's term
// begins, so the two never overlap. The leader is a real process behind
// the test's TCP proxy, the standby a Scheduler in this one; each says
// when things happened, on the same host's wall clock. The partition falls
// at a different moment of the renewal cycle each round, often while a
// claim is in flight.
func TestPartitionEndsRunsBeforeTheNextTerm(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			o := faultOptions(t) // TTL 2s: Margin 400ms
			p, po := proxied(t, o)
			c := startChild(t, "scheduler", po)
			oldTerm, _ := strconv.ParseUint(strings.Fields(c.expect(t, "leading", 15*time.Second))[0], 10, 64)
			c.expect(t, "started", 5*time.Second)

			leads := make(chan time.Time, 1)
			runs := make(chan time.Time, 10)
			startScheduler(t, solocron.Options{
				Elector: mustNew(t, o), Seconds: true,
				Hooks: solocron.Hooks{OnLeading: func(e solocron.LeadershipEvent) { leads <- e.At }},
			}, partitionJobs(func(context.Context) { runs <- time.Now() })...)
			waitForWaiter(t, o, 1)
			time.Sleep(time.Duration(round) * 300 * time.Millisecond)

			p.partition()
			cut := time.Now()
			var led, firstRun time.Time
			select {
			case led = <-leads:
			case <-time.After(10 * time.Second):
				t.Fatal("the standby did not lead within 10s of the partition")
			}
			select {
			case firstRun = <-runs:
			case <-time.After(3 * time.Second):
				t.Fatal("the new term did not run the slow job within 3s")
			}
			f := strings.Fields(c.expect(t, "ctxdone", 5*time.Second))
			term, _ := strconv.ParseUint(f[0], 10, 64)
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			ended := time.Unix(0, ns)
			if term != oldTerm {
				t.Fatalf("the run that ended was of term %d, want the old term %d", term, oldTerm)
			}
			t.Logf("after the cut: the old run's ctx ended at %v, the new term began at %v, its first run at %v",
				ended.Sub(cut), led.Sub(cut), firstRun.Sub(cut))
			if !ended.Before(led) {
				t.Fatalf("the old term's run went on until %v after the new term began", ended.Sub(led))
			}
		})
	}
}
