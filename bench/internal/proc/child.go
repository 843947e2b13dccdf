// Package proc starts the harness binary again as a child process in a
// given role, and measures processes (CPU time, context switches). Each
// library and each cluster member runs in its own process so that none
// shares a heap, a scheduler or CPU accounting with another.
package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ChildArg is the hidden subcommand that selects a child role.
const ChildArg = "_child"

// Event is one line a child printed on stdout: "KIND UNIXNANO [FIELDS...]".
type Event struct {
	PID    int
	Kind   string
	At     time.Time
	Fields []string
}

// Child is a running child process of the harness.
type Child struct {
	PID   int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error
	once  sync.Once
}

// Start runs the harness binary as `_child ROLE ARGS...`, sending every
// event line it prints to events (which must be drained). Lines that are
// not events (logs) go to the parent's stderr.
func Start(role string, args []string, events chan<- Event) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the harness binary: %w", err)
	}
	cmd := exec.Command(exe, append([]string{ChildArg, role}, args...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting child %s: %w", role, err)
	}
	c := &Child{PID: cmd.Process.Pid, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			if ev, ok := parseEvent(c.PID, sc.Text()); ok {
				events <- ev
			} else {
				fmt.Fprintln(os.Stderr, sc.Text())
			}
		}
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func parseEvent(pid int, line string) (Event, bool) {
	kind, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(kind, "@") {
		return Event{}, false
	}
	ns, fields, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return Event{}, false
	}
	ev := Event{PID: pid, Kind: kind[1:], At: time.Unix(0, n)}
	if fields != "" {
		ev.Fields = strings.Fields(fields)
	}
	if kind == "@result" { // one JSON document: keep it whole
		ev.Fields = []string{fields}
	}
	return ev, true
}

// Emit prints an event line from inside a child, stamped with now.
func Emit(kind string, fields ...string) {
	EmitAt(kind, time.Now(), fields...)
}

// EmitAt prints an event line stamped with at. One write call per line,
// so lines from concurrent goroutines do not interleave.
func EmitAt(kind string, at time.Time, fields ...string) {
	line := "@" + kind + " " + strconv.FormatInt(at.UnixNano(), 10)
	if len(fields) > 0 {
		line += " " + strings.Join(fields, " ")
	}
	os.Stdout.WriteString(line + "\n")
}

// Send writes one command line to the child's stdin.
func (c *Child) Send(cmd string) error {
	_, err := io.WriteString(c.stdin, cmd+"\n")
	return err
}

// Kill sends SIGKILL and returns the instant just before it was sent.
func (c *Child) Kill() (time.Time, error) {
	at := time.Now()
	return at, syscall.Kill(c.PID, syscall.SIGKILL)
}

// Done is closed once the child has exited and its output is drained.
func (c *Child) Done() <-chan struct{} { return c.done }

// Wait waits up to d for the child to exit; it kills it if d passes.
func (c *Child) Wait(d time.Duration) error {
	select {
	case <-c.done:
	case <-time.After(d):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("child %d did not exit within %v", c.PID, d)
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
		return nil // killed on purpose
	}
	return c.err
}

// Close kills the child if it still runs and waits for it.
func (c *Child) Close() {
	c.once.Do(func() {
		c.stdin.Close()
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
}
