package clustertest

import (
	"math/rand/v2"
	"testing"
	"time"
)

// KillLeaders SIGKILLs the leader n times and spawns a replacement each
// time, so the cluster keeps its size. Kills alternate between just before
// a tick (so the tick falls due while nobody leads and the misfire policy
// must run it) and the middle of a run (so a claimed tick is cut short and
// must not run again). They avoid the few milliseconds after a tick in
// which the leader claims it but has not logged the run yet: a kill there
// loses the log line, not the guarantee. takeover bounds how long a
// standby may take to lead. It returns the kill-to-leading latencies.
func (c *Cluster) KillLeaders(n int, takeover time.Duration) []time.Duration {
	c.t.Helper()
	var latencies []time.Duration
	for i := range n {
		pid, _, _ := c.Leader(takeover)
		if i%2 == 0 {
			SleepUntilBeforeTick(time.Duration(2+rand.IntN(28)) * time.Millisecond)
		} else {
			SleepUntilBeforeTick(time.Duration(300+rand.IntN(400)) * time.Millisecond)
		}
		killed := c.Kill(pid)
		_, _, since := c.Leader(takeover, pid)
		latencies = append(latencies, since.Sub(killed))
		c.Spawn()
		time.Sleep(time.Duration(1000+rand.IntN(1000)) * time.Millisecond)
	}
	return latencies
}

// StopLeaders stops the leader gracefully (Scheduler.Stop) n times and
// spawns a replacement each time, so the cluster keeps its size. Stop
// releases leadership, so takeover bounds both the wait for a leader and
// the handover. It returns the Stop-to-leading latencies.
func (c *Cluster) StopLeaders(n int, takeover time.Duration) []time.Duration {
	c.t.Helper()
	var latencies []time.Duration
	for range n {
		pid, _, _ := c.Leader(takeover)
		stopped := c.Stop(pid)
		_, _, since := c.Leader(takeover, pid)
		latencies = append(latencies, since.Sub(stopped))
		c.Spawn()
		time.Sleep(1500 * time.Millisecond)
	}
	return latencies
}

// Handovers is the scenario every elector's cluster test runs, as two
// subtests: kills SIGKILLs of the leader (a standby must lead within
// killTakeover), then stops clean Stops (within 5 s each).
func (c *Cluster) Handovers(t *testing.T, kills int, killTakeover time.Duration, stops int) {
	t.Run("KillLeader", func(t *testing.T) {
		t.Logf("kill-to-leading latencies: %v", c.KillLeaders(kills, killTakeover))
	})
	t.Run("StopHandsOver", func(t *testing.T) {
		t.Logf("Stop-to-leading latencies: %v", c.StopLeaders(stops, 5*time.Second))
	})
}

// Finish lets the last leader run a tick or so, stops every worker, and
// checks the run log (see CheckExactlyOnce).
func (c *Cluster) Finish(minTerms int) Verdict {
	c.t.Helper()
	time.Sleep(1500 * time.Millisecond)
	c.StopAll()
	return c.CheckExactlyOnce(minTerms)
}
