package postgres

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// logBuffer collects a Scheduler's log lines for the test to look for.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tickRecorder counts the runs of each tick, across Schedulers.
type tickRecorder struct {
	mu   sync.Mutex
	runs map[time.Time]int
}

func (r *tickRecorder) run(ctx context.Context) error {
	run, _ := solocron.RunFrom(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs[run.Tick]++
	return nil
}

// since counts the ticks after t that ran.
func (r *tickRecorder) since(t time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for tick := range r.runs {
		if tick.After(t) {
			n++
		}
	}
	return n
}

func (r *tickRecorder) twice() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var twice []time.Time
	for tick, n := range r.runs {
		if n > 1 {
			twice = append(twice, tick)
		}
	}
	return twice
}

// startScheduler starts a Scheduler with jobs, stopped when the test
// ends.
func startScheduler(t *testing.T, opts solocron.Options, jobs ...solocron.Job) {
	t.Helper()
	s, err := solocron.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
}

// startTicker starts a Scheduler with a job every second on its own
// Elector, logging into logs and telling leads when it leads.
func startTicker(t *testing.T, o Options, rec *tickRecorder, logs *logBuffer, leads chan<- time.Time) {
	t.Helper()
	startScheduler(t, solocron.Options{
		Elector: mustNew(t, o), Seconds: true,
		RetryInterval: 100 * time.Millisecond, MaxRetryInterval: 400 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Hooks:  solocron.Hooks{OnLeading: func(e solocron.LeadershipEvent) { leads <- e.At }},
	}, solocron.Job{Name: "tick", Spec: "* * * * * *", Run: rec.run})
}

// waitFor reports whether cond became true within timeout.
func waitFor(timeout time.Duration, cond func() bool) bool {
	for start := time.Now(); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > timeout {
			return false
		}
	}
	return true
}

// Dropping the ledger under a leader makes every claim fail: the leader
// steps down, a term begins on a recreated ledger (in this process or the
// other), and the job runs again on later ticks, no tick twice. Dropping
// the lease table does the same, or, if the standby's wait recreated the
// table first, the leader finds its term gone and loses leadership.
func TestDroppedTableMakesTheLeaderStepDown(t *testing.T) {
	const steppedDown = `level=ERROR msg="solocron: stepped down: the ledger cannot hold the claims"`
	for _, c := range []struct {
		table string
		ends  []string // how the leader's term may end, in the log
		stale bool     // the new term finds the ledger stale: the jobs start afresh
	}{
		{"ledger", []string{steppedDown}, true},
		{"lease", []string{steppedDown, `level=WARN msg="solocron: lost leadership"`}, false},
	} {
		t.Run(c.table, func(t *testing.T) {
			t.Parallel()
			o := testOptions(t)
			o.TTL = 3 * time.Second
			tb := newTables(o)
			name := map[string]string{"ledger": tb.ledger, "lease": tb.lease}[c.table]
			rec := &tickRecorder{runs: make(map[time.Time]int)}
			logs := &logBuffer{}
			leads := make(chan time.Time, 10)
			startTicker(t, o, rec, logs, leads)
			select {
			case <-leads:
			case <-time.After(10 * time.Second):
				t.Fatal("nobody led within 10s")
			}
			startTicker(t, o, rec, logs, leads)
			if !waitFor(5*time.Second, func() bool { return rec.since(time.Time{}) >= 2 }) {
				t.Fatalf("fewer than two runs within 5s; log:\n%s", logs)
			}

			sqlExec(t, o.URL, `DROP TABLE `+name)
			dropped := time.Now()
			var end string
			ended := waitFor(10*time.Second, func() bool {
				for _, e := range c.ends {
					if strings.Contains(logs.String(), e) {
						end = e
						return true
					}
				}
				return false
			})
			if !ended {
				t.Fatalf("the leader's term did not end (%q) within 10s of the drop; log:\n%s", c.ends, logs)
			}
			var led time.Time
			for led.Before(dropped) {
				select {
				case led = <-leads:
				case <-time.After(15 * time.Second):
					t.Fatalf("no term began within 15s of the drop; log:\n%s", logs)
				}
			}
			if !waitFor(5*time.Second, func() bool { return rec.since(led) >= 2 }) {
				t.Fatalf("fewer than two runs within 5s of the new term; log:\n%s", logs)
			}
			if stale := strings.Contains(logs.String(), `level=ERROR msg="solocron: the ledger is stale`); stale != c.stale {
				t.Fatalf("the new term reported the ledger stale: %v, want %v; log:\n%s", stale, c.stale, logs)
			}
			if twice := rec.twice(); len(twice) > 0 {
				t.Fatalf("ticks ran twice: %v", twice)
			}
			if n := queryInt64(t, o.URL, `SELECT count(*) FROM pg_class WHERE oid = to_regclass($1)`, name); *n != 1 {
				t.Fatalf("%s was not recreated", name)
			}
			t.Logf("dropped %s; the term ended with %s; a new term led %v later", name, end, led.Sub(dropped))
		})
	}
}
