package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// childStopTimeout bounds a child's graceful stop (it gives Stop 10s)
	// before the parent kills it.
	childStopTimeout = 15 * time.Second
	// A child that dies young is restarted after a growing pause, so that a
	// child that cannot start (a port taken, a bad lock path) does not spin.
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = 5 * time.Second
	healthyUptime   = 5 * time.Second
)

// Lines the parent prints that the test reads.
const (
	killedLine     = "SIGKILL the leader"
	restartingLine = "restarting child"
)

// master starts the children, relays their output, and restarts those
// that die, like a prefork server's master process.
type master struct {
	cfg config
	exe string

	out sync.Mutex // one relayed line at a time

	mu     sync.Mutex
	leader *os.Process // the child that printed the last "leading" line
	leadIx int
}

func runParent(cfg config) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this executable to start the children: %w", err)
	}
	// Check the address once here, so a bad -addr or an unsupported
	// platform fails once and not in a restart loop.
	ln, err := listenReusePort(context.Background(), cfg.addr)
	if err != nil {
		return err
	}
	ln.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}

	m := &master{cfg: cfg, exe: exe, leadIx: -1}
	m.printf("[parent] pid=%d starting %d children on %s", os.Getpid(), cfg.children, cfg.addr)
	var wg sync.WaitGroup
	for i := range cfg.children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.supervise(ctx, i)
		}()
	}
	if cfg.demoKill > 0 {
		go m.killLeaderAfter(ctx, cfg.demoKill)
	}
	<-ctx.Done()
	m.printf("[parent] stopping the children (SIGTERM)")
	wg.Wait()
	m.printf("[parent] all children stopped")
	return nil
}

// supervise keeps child i running until ctx ends.
func (m *master) supervise(ctx context.Context, i int) {
	delay := minRestartDelay
	for {
		started := time.Now()
		err := m.runChild(ctx, i)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > healthyUptime {
			delay = minRestartDelay
		}
		m.printf("[parent] child %d exited (%v); %s %d in %v", i, err, restartingLine, i, delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRestartDelay)
	}
}

// runChild starts child i by re-executing this program with childEnv set,
// relays its output, and returns when it exits. When ctx ends it asks the
// child to stop gracefully, and kills it if it takes too long.
func (m *master) runChild(ctx context.Context, i int) error {
	cmd := exec.Command(m.exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(i))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var relays sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		relays.Add(1)
		go func() {
			defer relays.Done()
			m.relay(i, cmd.Process, r)
		}()
	}
	exited := make(chan struct{})
	go func() {
		select {
		case <-exited:
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(childStopTimeout):
				_ = cmd.Process.Kill()
			}
		}
	}()
	relays.Wait() // the pipes must be read to the end before Wait
	err = cmd.Wait()
	close(exited)
	m.forget(cmd.Process)
	return err
}

// relay prints child i's lines with its index and notes which child leads.
func (m *master) relay(i int, p *os.Process, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, leadingPrefix+" ") {
			m.mu.Lock()
			m.leader, m.leadIx = p, i
			m.mu.Unlock()
		}
		m.printf("[child %d] %s", i, line)
	}
	_, _ = io.Copy(io.Discard, r) // after an overlong line: keep the child from blocking
}

// forget drops p as the leader once it has exited.
func (m *master) forget(p *os.Process) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leader == p {
		m.leader, m.leadIx = nil, -1
	}
}

// killLeaderAfter SIGKILLs the leading child once, after delay, for the
// demo: a standby takes over and the killed child is restarted.
func (m *master) killLeaderAfter(ctx context.Context, delay time.Duration) {
	wait := time.NewTimer(delay)
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		m.mu.Lock()
		p, i := m.leader, m.leadIx
		m.mu.Unlock()
		if p == nil { // nobody leads yet: look again shortly
			wait.Reset(50 * time.Millisecond)
			continue
		}
		// Kill in the middle of a second, away from the ticks: a kill
		// between the leader's claim of a tick and the job's output would
		// lose that tick's line, since a claimed tick is never run again
		// (unless Job.AtLeastOnce), and the demo would look wrong.
		now := time.Now()
		mid := now.Truncate(time.Second).Add(500 * time.Millisecond)
		if !mid.After(now) {
			mid = mid.Add(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(mid)):
		}
		m.printf("[parent] %s: child %d, pid %d", killedLine, i, p.Pid)
		if err := p.Kill(); err != nil {
			m.printf("[parent] kill pid %d: %v", p.Pid, err)
		}
		return
	}
}

func (m *master) printf(format string, args ...any) {
	m.out.Lock()
	defer m.out.Unlock()
	fmt.Printf(format+"\n", args...)
}
