package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	children            = 3 // GOMAXPROCS of the parent
	prSetChildSubreaper = 36
)

var (
	childLine  = regexp.MustCompile(`(?m)^child pid=(\d+) serving`)
	leadLine   = regexp.MustCompile(`(?m)^parent pid=(\d+) leading term=(\d+)$`)
	runLogLine = regexp.MustCompile(`^pid=(\d+) term=(\d+) tick=(\S+)$`)
)

// TestPreforkTree runs the program as a real Fiber prefork tree (a parent
// and three children) three times on one lock and one run log, as a
// supervisor would restart it, and checks what docs/frameworks.md says:
// only the parent runs the job, once per tick; a child's death takes the
// tree down (exit status 1); SIGTERM to the parent stops everything with
// status 0 within a bound; the children exit after their parent is
// SIGKILLed; and no tick ran twice across the three trees.
func TestPreforkTree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three prefork trees for about 10 s")
	}
	dir := t.TempDir()
	bin := build(t, dir)
	addr := freeAddr(t)
	runLog := filepath.Join(dir, "runs")
	parents := map[string]bool{}
	start := func(n int) *tree {
		tr := startTree(t, bin, dir, addr, runLog, n)
		parents[strconv.Itoa(tr.parent)] = true
		return tr
	}

	// 1. A child dies: Fiber kills the others, the parent stops its
	// scheduler and exits with status 1, for the supervisor to restart.
	tr := start(1)
	tr.waitRuns(t, 2)
	if body, err := get("http://" + addr + "/"); err != nil || !strings.HasPrefix(body, "served by child") {
		t.Fatalf("GET /: %q, %v", body, err)
	}
	if err := syscall.Kill(tr.children[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := tr.exit(t, 5*time.Second); code != 1 {
		t.Errorf("after a child's death the parent exited with %d, want 1", code)
	}
	tr.childrenGone(t, 3*time.Second)

	// 2. Restarted, as by systemd: SIGTERM to the parent stops the tree.
	tr = start(2)
	tr.waitRuns(t, 2)
	began := time.Now()
	if err := tr.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := tr.exit(t, 5*time.Second); code != 0 {
		t.Errorf("after SIGTERM the parent exited with %d, want 0:\n%s", code, tr.output())
	}
	t.Logf("SIGTERM to exit: %v", time.Since(began))
	tr.childrenGone(t, 3*time.Second)
	if !strings.Contains(tr.output(), "child pid=") || !regexp.MustCompile(`(?m)^child pid=\d+ stopped$`).MatchString(tr.output()) {
		t.Errorf("no child stopped gracefully after SIGTERM:\n%s", tr.output())
	}

	// 3. The parent is SIGKILLed: its children exit on their own, also
	// when they are orphaned to a subreaper (this test process from now
	// on), where Fiber's own check (Getppid() == 1) never fires.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	tr = start(3)
	tr.waitRuns(t, 1)
	if err := tr.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	tr.exit(t, 5*time.Second)
	tr.childrenGone(t, 3*time.Second)

	checkRunLog(t, runLog, parents)
}

// checkRunLog asserts that each tick ran once, by a parent.
func checkRunLog(t *testing.T, path string, parents map[string]bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		m := runLogLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("run log line %q", line)
		}
		if !parents[m[1]] {
			t.Errorf("run %q: pid %s is no tree's parent", line, m[1])
		}
		if prev, dup := seen[m[3]]; dup {
			t.Errorf("tick %s ran twice: %q and %q", m[3], prev, line)
		}
		seen[m[3]] = line
	}
}

// tree is one run of the program: Fiber's parent and its children.
type tree struct {
	cmd      *exec.Cmd
	out      string // file of the tree's stdout and stderr
	runLog   string
	parent   int
	children []int
	waited   chan struct{}
	err      error
}

// startTree starts the program and waits until its parent leads and its
// children serve.
func startTree(t *testing.T, bin, dir, addr, runLog string, n int) *tree {
	t.Helper()
	out := filepath.Join(dir, "out-"+strconv.Itoa(n))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "-addr", addr, "-lock", filepath.Join(dir, "prefork.lock"),
		"-runlog", runLog, "-spec", "* * * * * *")
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(children))
	cmd.Stdout, cmd.Stderr = f, f // a file: Wait must not wait for the children's copy of the pipe
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr := &tree{cmd: cmd, out: out, runLog: runLog, parent: cmd.Process.Pid, waited: make(chan struct{})}
	go func() { tr.err = cmd.Wait(); close(tr.waited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-tr.parent, syscall.SIGKILL) // the whole process group
		<-tr.waited
	})
	waitFor(t, 10*time.Second, func() bool {
		o := tr.output()
		return leadLine.MatchString(o) && len(childLine.FindAllString(o, -1)) == children
	}, tr.output)
	o := tr.output()
	if m := leadLine.FindStringSubmatch(o); m[1] != strconv.Itoa(tr.parent) {
		t.Fatalf("pid %s leads, not the parent %d:\n%s", m[1], tr.parent, o)
	}
	for _, m := range childLine.FindAllStringSubmatch(o, -1) {
		pid, _ := strconv.Atoi(m[1])
		tr.children = append(tr.children, pid)
	}
	return tr
}

func (tr *tree) output() string {
	b, _ := os.ReadFile(tr.out)
	return string(b)
}

// waitRuns waits until this tree's parent has run the job n times.
func (tr *tree) waitRuns(t *testing.T, n int) {
	t.Helper()
	mine := "pid=" + strconv.Itoa(tr.parent) + " "
	waitFor(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(tr.runLog)
		return strings.Count(string(b), mine) >= n
	}, tr.output)
}

// exit waits for the parent to exit and returns its exit status (-1 when
// killed by a signal).
func (tr *tree) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-tr.waited:
	case <-time.After(within):
		t.Fatalf("the parent did not exit within %v:\n%s", within, tr.output())
	}
	var ee *exec.ExitError
	if errors.As(tr.err, &ee) {
		return ee.ExitCode()
	}
	if tr.err != nil {
		t.Fatal(tr.err)
	}
	return 0
}

// childrenGone waits until no child of the tree is alive.
func (tr *tree) childrenGone(t *testing.T, within time.Duration) {
	t.Helper()
	waitFor(t, within, func() bool {
		for _, pid := range tr.children {
			if alive(pid) {
				return false
			}
		}
		return true
	}, tr.output)
}

// alive tells whether pid runs (a zombie, exited but not yet reaped by
// whoever inherited it, does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may contain spaces
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

func waitFor(t *testing.T, within time.Duration, ok func() bool, output func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v; output:\n%s", within, output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(url string) (string, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// build builds this package's program, as `go run` would.
func build(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "fiber")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
