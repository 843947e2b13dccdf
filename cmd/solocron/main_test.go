package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The tests run the command as a shell user would: the binary, built once
// here, against stores that real Schedulers in the test write to.

var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "solocron-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "solocron")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the command: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// result is how a run of the command ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit status %d\nstdout:\n%sstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cli runs the command with args, within a minute.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("solocron %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ solocron %s\n%s", strings.Join(args, " "), r)
	return r
}

// want fails the test unless r exited with code and its output (stdout and
// stderr) holds each of texts.
func (r result) want(t *testing.T, code int, texts ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\n%s", r.code, code, r)
	}
	for _, s := range texts {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Fatalf("output lacks %q\n%s", s, r)
		}
	}
}

// statusOut is status --json, as a script reads it.
type statusOut struct {
	Store     string    `json:"store"`
	CheckedAt time.Time `json:"checked_at"`
	Healthy   bool      `json:"healthy"`
	Problems  []string  `json:"problems"`
	Grace     string    `json:"grace"`
	GraceMS   float64   `json:"grace_ms"`
	Leader    *struct {
		PID      int       `json:"pid"`
		Hostname string    `json:"hostname"`
		Since    time.Time `json:"since"`
		Term     uint64    `json:"term"`
		App      string    `json:"app"`
	} `json:"leader"`
	Jobs []jobOut `json:"jobs"`
}

type jobOut struct {
	Name         string     `json:"name"`
	Claimed      *time.Time `json:"claimed"`
	Finished     *time.Time `json:"finished"`
	Duration     *string    `json:"duration"`
	DurationMS   *float64   `json:"duration_ms"`
	Outcome      *string    `json:"outcome"`
	Next         *time.Time `json:"next"`
	Paused       bool       `json:"paused"`
	RunRequested *time.Time `json:"run_requested"`
	Overdue      bool       `json:"overdue"`
}

func (s statusOut) job(name string) (jobOut, bool) {
	for _, j := range s.Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return jobOut{}, false
}

// status runs status --json and decodes it.
func status(t *testing.T, e *engine, args ...string) (statusOut, result) {
	t.Helper()
	r := cli(t, append(append([]string{"status", "--json"}, e.flags...), args...)...)
	var s statusOut
	if r.code == exitOK || r.code == exitProblem {
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("status --json: %v\n%s", err, r)
		}
	}
	return s, r
}

// eventually polls cond every 50ms until it holds, failing the test after
// within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
