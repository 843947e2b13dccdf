package main

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFxLifecycle runs the fx application as a process, waits for a run of
// the job to start, sends SIGTERM, and checks that OnStop's Stop let the
// run finish before the process exited, with status 0, within a bound.
func TestFxLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fx example for a few seconds")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fx")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.CommandContext(ctx, bin, "-lock", filepath.Join(dir, "fx.lock"), "-spec", "* * * * * *", "-jobtime", "700ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(lines)
	}()
	var log []string
	expect := func(substr string) string {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("no %q line before the output ended:\n%s\nstderr:\n%s", substr, strings.Join(log, "\n"), stderr.String())
				}
				log = append(log, l)
				if strings.Contains(l, substr) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q line within 10s:\n%s", substr, strings.Join(log, "\n"))
			}
		}
	}

	started := expect(`msg="report started"`)
	tick := field(started, "tick")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	finished := expect(`msg="report finished"`)
	if field(finished, "tick") != tick {
		t.Errorf("finished %q after SIGTERM, want the run of tick %s that had started", finished, tick)
	}
	expect(`msg="solocron: stopped"`)
	for range lines { // to the end of the output
	}
	err = cmd.Wait()
	elapsed := time.Since(signalled)
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
	}
	if elapsed > 3*time.Second {
		t.Errorf("exited %v after SIGTERM, want under 3s (the run takes 700ms)", elapsed)
	}
	if stderr.Len() > 0 {
		t.Errorf("fx or solocron wrote to stderr:\n%s", stderr.String())
	}
	t.Logf("SIGTERM to exit: %v (the run in progress finished first)", elapsed)
}

// field returns the value of key=value in a slog text line.
func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}
