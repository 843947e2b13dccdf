package clustertest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/solocron/solocron/internal/testdir"
)

// Config describes a cluster of worker processes.
type Config struct {
	Workers int           // processes alive at once; 0 means 4
	Env     []string      // extra environment, read by the worker's Options
	WorkFor time.Duration // how long each run lasts; 0 means 200ms
}

// Cluster is a set of worker processes sharing one elector and one run log.
type Cluster struct {
	t       testing.TB
	cfg     Config
	LogPath string

	mu      sync.Mutex
	workers map[int]*worker
	leader  int           // pid of the process that reported leading last, 0 if none
	term    uint64        // its term
	since   time.Time     // when it said it began
	changed chan struct{} // closed and replaced at every change of the above
	stops   map[int]time.Time
}

type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
}

// Start starts cfg.Workers workers and waits until each is ready. The
// workers are killed when the test ends.
func Start(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.WorkFor == 0 {
		cfg.WorkFor = 200 * time.Millisecond
	}
	c := &Cluster{
		t: t, cfg: cfg, LogPath: filepath.Join(testdir.New(t), "runs.log"),
		workers: make(map[int]*worker), changed: make(chan struct{}), stops: make(map[int]time.Time),
	}
	t.Cleanup(c.killAll)
	for range cfg.Workers {
		c.Spawn()
	}
	return c
}

// Spawn starts one more worker and waits until it is ready.
func (c *Cluster) Spawn() int {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"=1", envLog+"="+c.LogPath, envWorkFor+"="+c.cfg.WorkFor.String())
	cmd.Env = append(cmd.Env, c.cfg.Env...)
	cmd.Stderr = &prefixWriter{t: c.t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("starting a worker: %v", err)
	}
	w := &worker{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	ready, drained := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(drained)
		c.read(cmd.Process.Pid, stdout, ready)
	}()
	go func() {
		// Wait closes stdout: only once every line was read (os/exec:
		// calling Wait before the reads completed loses the last lines,
		// such as "stopped").
		<-drained
		_ = cmd.Wait()
		close(w.exited)
	}()
	c.mu.Lock()
	c.workers[cmd.Process.Pid] = w
	c.mu.Unlock()
	select {
	case <-ready:
	case <-w.exited:
		c.t.Fatalf("worker %d exited before it was ready", cmd.Process.Pid)
	case <-time.After(20 * time.Second):
		c.t.Fatalf("worker %d not ready within 20s", cmd.Process.Pid)
	}
	return cmd.Process.Pid
}

// read follows a worker's event lines.
func (c *Cluster) read(pid int, r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		c.mu.Lock()
		switch f[0] {
		case "ready":
			close(ready)
		case "leading":
			term, _ := strconv.ParseUint(f[2], 10, 64)
			ns, _ := strconv.ParseInt(f[3], 10, 64)
			c.leader, c.term, c.since = pid, term, time.Unix(0, ns)
			c.notify()
		case "lost":
			if c.leader == pid {
				c.leader = 0
				c.notify()
			}
		case "stopped":
			ns, _ := strconv.ParseInt(f[2], 10, 64)
			c.stops[pid] = time.Unix(0, ns)
			c.notify()
		}
		c.mu.Unlock()
	}
}

func (c *Cluster) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Leader waits until a process other than the excluded ones leads, and
// returns its pid, term and the instant it said it began leading.
func (c *Cluster) Leader(timeout time.Duration, exclude ...int) (pid int, term uint64, since time.Time) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		pid, term, since, changed := c.leader, c.term, c.since, c.changed
		c.mu.Unlock()
		if pid != 0 && !contains(exclude, pid) {
			return pid, term, since
		}
		select {
		case <-changed:
		case <-deadline:
			c.t.Fatalf("no new leader within %v (excluded %v)", timeout, exclude)
		}
	}
}

// Kill SIGKILLs a worker, waits until it is gone and returns when it was
// killed.
func (c *Cluster) Kill(pid int) time.Time {
	c.t.Helper()
	w := c.worker(pid)
	at := time.Now()
	if err := w.cmd.Process.Kill(); err != nil {
		c.t.Fatalf("kill %d: %v", pid, err)
	}
	c.waitExit(pid, w)
	c.mu.Lock()
	if c.leader == pid {
		c.leader = 0
		c.notify()
	}
	c.mu.Unlock()
	return at
}

// Stop asks a worker to call Scheduler.Stop and returns the instant Stop
// returned there.
func (c *Cluster) Stop(pid int) time.Time {
	c.t.Helper()
	w := c.worker(pid)
	_ = w.stdin.Close()
	c.waitExit(pid, w)
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.stops[pid]
	if !ok {
		c.t.Fatalf("worker %d exited without reporting that Stop returned", pid)
	}
	return at
}

// StopAll stops every worker gracefully.
func (c *Cluster) StopAll() {
	c.t.Helper()
	for _, pid := range c.pids() {
		c.Stop(pid)
	}
}

func (c *Cluster) worker(pid int) *worker {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.workers[pid]
	if w == nil {
		c.t.Fatalf("no worker %d", pid)
	}
	return w
}

func (c *Cluster) waitExit(pid int, w *worker) {
	select {
	case <-w.exited:
	case <-time.After(20 * time.Second):
		_ = w.cmd.Process.Kill()
		c.t.Fatalf("worker %d did not exit within 20s", pid)
	}
	c.mu.Lock()
	delete(c.workers, pid)
	c.mu.Unlock()
}

func (c *Cluster) pids() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pids []int
	for pid := range c.workers {
		pids = append(pids, pid)
	}
	return pids
}

func (c *Cluster) killAll() {
	for _, pid := range c.pids() {
		w := c.worker(pid)
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// prefixWriter passes a worker's stderr to the test log.
type prefixWriter struct {
	t  testing.TB
	mu sync.Mutex
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.Logf("worker: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// SleepUntilBeforeTick sleeps until offset before the next whole second.
func SleepUntilBeforeTick(offset time.Duration) {
	now := time.Now()
	next := now.Truncate(time.Second).Add(time.Second)
	for next.Add(-offset).Before(now.Add(time.Millisecond)) {
		next = next.Add(time.Second)
	}
	time.Sleep(time.Until(next.Add(-offset)))
}

func (c *Cluster) String() string { return fmt.Sprintf("cluster of %d workers", len(c.pids())) }
