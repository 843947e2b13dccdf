package postgres

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// Tests that need a real process to kill or stop re-execute the test
// binary; the environment selects the worker's role.
const (
	workerRoleEnv    = "SOLOCRON_PG_WORKER"
	workerOptionsEnv = "SOLOCRON_PG_WORKER_OPTIONS"
	counterPathEnv   = "SOLOCRON_PG_COUNTER"
	roundsEnv        = "SOLOCRON_PG_ROUNDS"
)

// TestWorker is not a test: it is the body of a child process.
func TestWorker(t *testing.T) {
	role := os.Getenv(workerRoleEnv)
	if role == "" {
		t.Skip("the body of child processes started by other tests")
	}
	var o Options
	if err := json.Unmarshal([]byte(os.Getenv(workerOptionsEnv)), &o); err != nil {
		t.Fatalf("worker options: %v", err)
	}
	e, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	switch role {
	case "lead":
		leadWorker(t, e)
	case "counter":
		counterWorker(t, e)
	case "scheduler":
		schedulerWorker(t, e)
	case "exactly":
		exactlyWorker(t, e)
	default:
		t.Fatalf("unknown worker role %q", role)
	}
}

func say(format string, args ...any) { fmt.Printf("worker: "+format+"\n", args...) }

// leadWorker leads, then obeys commands on stdin: claim <unix µs>, lost,
// release.
func leadWorker(t *testing.T, e *Elector) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := e.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "child"})
	if err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	say("leading %d", l.Term())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 2 && f[0] == "claim":
			us, _ := strconv.ParseInt(f[1], 10, 64)
			ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: time.UnixMicro(us)}})
			say("claim ok=%v notleader=%v err=%v", ok, errors.Is(err, solocron.ErrNotLeader), err)
		case len(f) == 1 && f[0] == "lost":
			select {
			case <-l.Lost():
				say("lost true %v", l.Err())
			case <-time.After(3 * time.Second):
				say("lost false")
			}
		case len(f) == 1 && f[0] == "release":
			say("released %v", l.Release(ctx))
			return
		}
	}
}

// schedulerWorker runs a Scheduler with the jobs of partitionJobs, saying
// when it leads and when the slow job's run starts and its ctx ends, with
// the wall clock in ns; it stops when stdin closes.
func schedulerWorker(t *testing.T, e *Elector) {
	s, err := solocron.New(solocron.Options{
		Elector: e, Seconds: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Hooks: solocron.Hooks{OnLeading: func(ev solocron.LeadershipEvent) {
			say("leading %d %d", ev.Term, ev.At.UnixNano())
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range partitionJobs(func(ctx context.Context) {
		run, _ := solocron.RunFrom(ctx)
		say("started %d %d", run.Term, time.Now().UnixNano())
		<-ctx.Done()
		say("ctxdone %d %d", run.Term, time.Now().UnixNano())
	}) {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Stop(ctx)
}

// partitionJobs are the jobs of TestPartitionEndsRunsBeforeTheNextTerm:
// slow runs until its ctx ends (it calls run first), quick claims every
// second, so that a claim is often in flight when the network is cut.
func partitionJobs(run func(ctx context.Context)) []solocron.Job {
	return []solocron.Job{
		{Name: "slow", Spec: "* * * * * *", Run: func(ctx context.Context) error { run(ctx); return nil }},
		{Name: "quick", Spec: "* * * * * *", Run: func(context.Context) error { return nil }},
	}
}

// counterWorker does a non-atomic read-modify-write of a counter file,
// only while leading, again and again, releasing each time: if two
// processes ever led at once, increments would be lost.
func counterWorker(t *testing.T, e *Elector) {
	path := os.Getenv(counterPathEnv)
	rounds, _ := strconv.Atoi(os.Getenv(roundsEnv))
	done, refused := 0, 0
	for range rounds {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		l, err := e.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "child"})
		if err != nil {
			cancel()
			t.Fatalf("Campaign: %v", err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read counter: %v", err)
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("counter %q: %v", b, err)
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		select {
		case <-l.Lost():
			refused++
		default:
			ok, err := l.Claim(ctx, []solocron.Claim{{Job: "counter", Tick: time.Now()}})
			if err == nil && ok[0] {
				if err := os.WriteFile(path, []byte(strconv.Itoa(v+1)), 0o644); err != nil {
					t.Fatalf("write counter: %v", err)
				}
				done++
			} else {
				refused++
			}
		}
		if err := l.Release(ctx); err != nil {
			t.Fatalf("Release: %v", err)
		}
		cancel()
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
	}
	say("done %d %d", done, refused)
}

// child is a worker process seen from the test.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startChild(t *testing.T, role string, o Options, env ...string) *child {
	t.Helper()
	opts, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorker$", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, workerRoleEnv+"="+role, workerOptionsEnv+"="+string(opts))...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 100)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "worker: "); ok {
				c.lines <- s
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return c
}

// expect returns the next line the worker says, which must start with
// prefix.
func (c *child) expect(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	select {
	case s, ok := <-c.lines:
		if !ok {
			t.Fatalf("worker %d exited before saying %q", c.cmd.Process.Pid, prefix)
		}
		if !strings.HasPrefix(s, prefix) {
			t.Fatalf("worker %d said %q, want %q...", c.cmd.Process.Pid, s, prefix)
		}
		return strings.TrimSpace(strings.TrimPrefix(s, prefix))
	case <-time.After(timeout):
		t.Fatalf("worker %d did not say %q within %v", c.cmd.Process.Pid, prefix, timeout)
	}
	return ""
}

func (c *child) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		t.Fatalf("tell worker %q: %v", line, err)
	}
}
