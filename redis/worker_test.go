package redis

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/solocron/solocron/internal/clustertest"
)

// Tests that need a real process (SIGKILL, SIGSTOP, CLIENT KILL by name)
// re-execute the test binary. TestMain runs the role named by workerEnv
// instead of the tests; the role talks to the test by lines on stdin and
// stdout.

const workerEnv = "SOLOCRON_REDIS_WORKER"

// workers maps a role to its main. Roles read their settings from env.
var workers = map[string]func() error{}

func TestMain(m *testing.M) {
	clustertest.MaybeWorker(clusterWorkerOptions)
	if role := os.Getenv(workerEnv); role != "" {
		w, ok := workers[role]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown worker role %q\n", role)
			os.Exit(2)
		}
		if err := w(); err != nil {
			fmt.Fprintf(os.Stderr, "worker %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is a worker process seen from the test.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	mu     sync.Mutex
	stderr strings.Builder
	exited chan struct{} // closed once the process has been waited for
	err    error         // its exit status, valid once exited is closed
}

// startWorker starts role with env (KEY=value) and kills it when the test
// ends.
func startWorker(t testing.TB, role string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), workerEnv+"="+role), env...)
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 1024), exited: make(chan struct{})}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errp, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var reading sync.WaitGroup
	reading.Add(2)
	go func() {
		defer reading.Done()
		s := bufio.NewScanner(out)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
	}()
	go func() {
		defer reading.Done()
		b, _ := io.ReadAll(errp)
		p.mu.Lock()
		p.stderr.Write(b)
		p.mu.Unlock()
	}()
	go func() {
		reading.Wait() // Wait must follow the last read from the pipes
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		resume(cmd.Process) // a worker a test left stopped still dies
		_ = cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("worker %d did not exit after SIGKILL", cmd.Process.Pid)
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) send(line string) {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.stdin, line); err != nil {
		p.t.Fatalf("worker %d: send %q: %v", p.pid(), line, err)
	}
}

// expect returns the first line starting with prefix, skipping others,
// or fails after timeout.
func (p *proc) expect(prefix string, timeout time.Duration) string {
	p.t.Helper()
	line, ok := p.await(prefix, timeout)
	if !ok {
		p.t.Fatalf("worker %d: no %q line within %v; stderr:\n%s", p.pid(), prefix, timeout, p.errText())
	}
	return line
}

// expectAll returns, per prefix, the first line starting with it, in
// whatever order they come, or fails after timeout.
func (p *proc) expectAll(timeout time.Duration, prefixes ...string) map[string]string {
	p.t.Helper()
	got := map[string]string{}
	deadline := time.After(timeout)
	for len(got) < len(prefixes) {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("worker %d exited; got %v; stderr:\n%s", p.pid(), got, p.errText())
			}
			for _, pre := range prefixes {
				if _, seen := got[pre]; !seen && strings.HasPrefix(line, pre) {
					got[pre] = line
				}
			}
		case <-deadline:
			p.t.Fatalf("worker %d: got %v within %v, want lines %q; stderr:\n%s", p.pid(), got, timeout, prefixes, p.errText())
		}
	}
	return got
}

// await is expect without failing.
func (p *proc) await(prefix string, timeout time.Duration) (string, bool) {
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", false
			}
			if strings.HasPrefix(line, prefix) {
				return line, true
			}
		case <-deadline:
			return "", false
		}
	}
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to %d: %v", sig, p.pid(), err)
	}
}

// wait waits for the worker to exit and fails if it did not succeed.
func (p *proc) wait(timeout time.Duration) {
	p.t.Helper()
	select {
	case <-p.exited:
		if p.err != nil {
			p.t.Fatalf("worker %d: %v; stderr:\n%s", p.pid(), p.err, p.errText())
		}
	case <-time.After(timeout):
		p.t.Fatalf("worker %d did not finish within %v", p.pid(), timeout)
	}
}
