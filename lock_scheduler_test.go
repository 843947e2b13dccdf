package solocron_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/solocron/solocron"
)

// logCapture collects a Scheduler's logs as JSON lines.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.buf.Write(p)
	}), nil))
}

// find returns the logged records at level whose message contains msg.
func (c *logCapture) find(t *testing.T, level, msg string) []map[string]any {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var found []map[string]any
	dec := json.NewDecoder(bytes.NewReader(c.buf.Bytes()))
	for dec.More() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("decoding the logs: %v", err)
		}
		if rec["level"] == level && strings.Contains(fmt.Sprint(rec["msg"]), msg) {
			found = append(found, rec)
		}
	}
	return found
}

// tickLog is a file each run of a job appends its tick to, as a separate
// process would, so that runs can be counted per tick across Schedulers.
type tickLog struct {
	path string
	ran  chan time.Time // each run's tick, if anyone listens
}

func newTickLog(t *testing.T, dir string) *tickLog {
	return &tickLog{path: filepath.Join(dir, "runs"), ran: make(chan time.Time, 100)}
}

func (l *tickLog) job(name string) Job {
	return Job{Name: name, Spec: "* * * * * *", Run: func(ctx context.Context) error {
		run, _ := RunFrom(ctx)
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "%d\n", run.Tick.Unix())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		select {
		case l.ran <- run.Tick:
		default:
		}
		return err
	}}
}

// wait waits for a run and returns its tick.
func (l *tickLog) wait(t *testing.T, what string) time.Time {
	t.Helper()
	select {
	case tick := <-l.ran:
		return tick
	case <-time.After(5 * time.Second):
		t.Fatalf("no run of %s within 5s", what)
		return time.Time{}
	}
}

// runs counts the runs per tick (Unix seconds).
func (l *tickLog) runs(t *testing.T) map[int64]int {
	t.Helper()
	data, err := os.ReadFile(l.path)
	if err != nil {
		t.Fatal(err)
	}
	runs := make(map[int64]int)
	for _, f := range strings.Fields(string(data)) {
		tick, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("bad line %q in %s", f, l.path)
		}
		runs[tick]++
	}
	return runs
}

func stop(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// A ledger put back from a copy taken earlier does not make the next
// leader run again the ticks claimed since the copy: the holder file
// shows a later term than the ledger's, so the ledger is reported stale
// and its records are not used for catch-up.
func TestRestoredLedgerRunsNoTickAgain(t *testing.T) {
	t.Parallel()
	path := lockPath(t)
	ticks := newTickLog(t, filepath.Dir(path))

	a := start(t, Options{LockPath: path}, ticks.job("job"))
	ticks.wait(t, "leader A")
	backup := copyFile(t, path+".ledger", path+".backup")
	ticks.wait(t, "leader A after the copy")
	stop(t, a)

	b := start(t, Options{LockPath: path}, ticks.job("job"))
	ticks.wait(t, "leader B")
	last := ticks.wait(t, "leader B")
	// Stop at once, so the next leader starts within the second of B's
	// last tick: a ledger it trusted would make it run that tick again.
	stop(t, b)
	mustDo(t, os.Rename(backup, path+".ledger"))

	var logs logCapture
	c := start(t, Options{LockPath: path, Logger: logs.logger()}, ticks.job("job"))
	waitRole(t, c, Leader, 5*time.Second)
	if next := ticks.wait(t, "leader C"); !next.After(last) {
		t.Errorf("leader C ran tick %v, not after B's last tick %v", next, last)
	}
	stop(t, c)

	for tick, n := range ticks.runs(t) {
		if n > 1 {
			t.Errorf("tick %v ran %d times", time.Unix(tick, 0), n)
		}
	}
	stale := logs.find(t, "ERROR", "the ledger is stale")
	if len(stale) != 1 {
		t.Fatalf("logged %d stale-ledger errors, want 1", len(stale))
	}
	if err := fmt.Sprint(stale[0]["err"]); !strings.Contains(err, path+".ledger ends at term") || !strings.Contains(err, "holder file shows term") {
		t.Fatalf("the stale-ledger error says %q; want it to name the ledger and both terms", err)
	}
}

// A ledger made unusable while a leader leads (garbage written over it or
// moved over it, a directory in its place) ends the term at the next
// claim; no process leads while it stays (each attempt fails with an
// error naming it, with a growing pause between attempts); once it is
// moved aside, a process leads again, on a new ledger it reports stale.
func TestBadLedgerStopsLeadingUntilMovedAside(t *testing.T) {
	const garbage = "this is not a ledger\nnor is this\n"
	breaks := map[string]struct {
		do      func(t *testing.T, ledger string)
		want    string
		renames bool // which Windows refuses while the ledger is held
	}{
		"garbage written over it": {func(t *testing.T, ledger string) {
			mustDo(t, os.WriteFile(ledger, []byte(garbage), 0o600))
		}, "holds no valid record", false},
		"garbage moved over it": {func(t *testing.T, ledger string) {
			mustDo(t, os.WriteFile(ledger+".new", []byte(garbage), 0o600))
			mustDo(t, os.Rename(ledger+".new", ledger))
		}, "holds no valid record", true},
		"a directory in its place": {func(t *testing.T, ledger string) {
			mustDo(t, os.Rename(ledger, ledger+".old"))
			mustDo(t, os.Mkdir(ledger, 0o700))
		}, "is a directory", true},
	}
	for name, bad := range breaks {
		t.Run(name, func(t *testing.T) {
			if bad.renames {
				skipOnWindows(t, "a held ledger cannot be renamed or renamed over")
			}
			t.Parallel()
			path := lockPath(t)
			ledger := path + ".ledger"
			ticks := newTickLog(t, filepath.Dir(path))
			var logs logCapture
			s := start(t, Options{LockPath: path, Logger: logs.logger(), RetryInterval: 50 * time.Millisecond, MaxRetryInterval: 400 * time.Millisecond},
				ticks.job("job"))
			ticks.wait(t, "the first leader")
			bad.do(t, ledger)

			// The next claim finds the ledger changed: the term ends.
			deadline := time.Now().Add(3 * time.Second)
			for s.Status(context.Background()).Role == Leader {
				if time.Now().After(deadline) {
					t.Fatal("still leading 3s after the ledger was broken")
				}
				time.Sleep(5 * time.Millisecond)
			}
			for len(ticks.ran) > 0 {
				<-ticks.ran
			}
			// Nobody leads, nothing runs, and every attempt says why.
			for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
				if role := s.Status(context.Background()).Role; role == Leader {
					t.Fatal("leading on a broken ledger")
				}
			}
			select {
			case tick := <-ticks.ran:
				t.Fatalf("tick %v ran on a broken ledger", tick)
			default:
			}
			attempts := logs.find(t, "ERROR", "cannot lead; retrying")
			if len(attempts) < 3 {
				t.Fatalf("%d failed attempts logged in 1.5s, want at least 3", len(attempts))
			}
			var pauses []time.Duration
			for _, a := range attempts {
				if err := fmt.Sprint(a["err"]); !strings.Contains(err, ledger) || !strings.Contains(err, bad.want) {
					t.Fatalf("an attempt failed with %q; want an error naming %s and saying %q", err, ledger, bad.want)
				}
				ns, _ := a["retry_in"].(float64) // slog's JSON gives a duration in ns
				pauses = append(pauses, time.Duration(ns))
			}
			if slices.Max(pauses) < 2*pauses[0] {
				t.Fatalf("pauses between attempts %v do not grow", pauses)
			}

			// Moved aside: a process leads again.
			mustDo(t, os.Rename(ledger, ledger+".bad"))
			waitRole(t, s, Leader, 3*time.Second)
			ticks.wait(t, "the leader after the bad ledger was moved aside")
			if n := len(logs.find(t, "ERROR", "the ledger is stale")); n != 1 {
				t.Fatalf("logged %d stale-ledger errors on the new ledger, want 1", n)
			}
		})
	}
}
