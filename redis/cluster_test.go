package redis

import (
	"os"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/clustertest"
)

// TestCluster runs the Scheduler with this elector in 4 processes, a job
// every second, kills the leader again and again and stops it twice, and
// checks from the shared run log that every tick ran exactly once.
//
// The TTL is 600ms so that a takeover (kill + up to TTL) plus the new
// leader's catch-up run (200ms) ends before the next tick. With a TTL of
// 1s the catch-up run of a missed tick can still be going when the next
// tick fires, and the default OverlapSkip drops that tick: the run log
// counts it lost. That is the Scheduler's overlap policy meeting a slow
// takeover, not the elector; SOLOCRON_CLUSTER_TTL=1s shows it.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	srv := serverURL(t)
	app := newApp(t, srv)
	ttl := 600 * time.Millisecond
	if s := os.Getenv("SOLOCRON_CLUSTER_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		ttl = d
	}
	c := clustertest.Start(t, clustertest.Config{Workers: 4, Env: workerEnvFor(srv, app, ttl)})
	// A killed leader is replaced when its lease expires (a TTL); Stop
	// releases and tells the standbys, so its handover does not wait.
	c.Handovers(t, 6, ttl+5*time.Second, 2)
	c.Finish(6)
}

// clusterWorkerOptions makes a clustertest worker's Scheduler use this
// elector, configured from the same W_* variables as the other workers.
func clusterWorkerOptions() (solocron.Options, error) {
	e, err := workerElector()
	if err != nil {
		return solocron.Options{}, err
	}
	return solocron.Options{Elector: e}, nil
}
