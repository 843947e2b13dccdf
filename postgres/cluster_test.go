package postgres

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/clustertest"
)

func TestMain(m *testing.M) {
	clustertest.MaybeWorker(clusterWorkerOptions)
	os.Exit(m.Run())
}

// TestCluster runs the Scheduler with this elector in 4 processes, a job
// every second, SIGKILLs the leader again and again and stops it twice,
// and checks from the shared run log that every tick ran exactly once.
// A killed leader's session ends with it, so takeover does not wait for
// the TTL.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	o := testOptions(t)
	o.TTL = 2 * time.Second
	opts, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	c := clustertest.Start(t, clustertest.Config{Workers: 4, Env: []string{workerOptionsEnv + "=" + string(opts)}})
	c.Handovers(t, 6, 5*time.Second, 2)
	c.Finish(6)
}

// clusterWorkerOptions makes a clustertest worker's Scheduler use this
// elector, with the Options the test passed in the environment.
func clusterWorkerOptions() (solocron.Options, error) {
	var o Options
	if err := json.Unmarshal([]byte(os.Getenv(workerOptionsEnv)), &o); err != nil {
		return solocron.Options{}, err
	}
	e, err := New(o)
	if err != nil {
		return solocron.Options{}, err
	}
	return solocron.Options{Elector: e}, nil
}
