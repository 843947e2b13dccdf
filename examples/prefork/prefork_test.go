package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	tickLine    = regexp.MustCompile(`^\[child (\d+)\] pid=(\d+) term=(\d+) tick=(\d\d):(\d\d):(\d\d)$`)
	killLine    = regexp.MustCompile(`^\[parent\] ` + killedLine + `: child (\d+), pid (\d+)$`)
	restartLine = regexp.MustCompile(`^\[parent\] child (\d+) exited .*; ` + restartingLine + ` (\d+) in `)
)

// TestPreforkDemo builds the demo, runs it with three children for 8 s,
// SIGKILLs the leader at about 3 s, and checks from its output that every
// tick second ran exactly once, that another child took over with a later
// term, and that the killed child came back as a standby.
func TestPreforkDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the prefork demo for about 8 s")
	}
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd":
	default:
		t.Skipf("the prefork demo needs SO_REUSEPORT, implemented for linux, darwin and freebsd, not %s", runtime.GOOS)
	}
	dir := t.TempDir()
	bin := buildDemo(t, dir)
	addr := freeAddr(t)

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-children", "3", "-addr", addr,
		"-lock", filepath.Join(dir, "demo.lock"), "-demo-kill", "3s", "-duration", "8s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	body, httpErr := getWithin(ctx, "http://"+addr+"/", 5*time.Second)
	err := cmd.Wait()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	defer func() {
		if t.Failed() {
			t.Logf("demo output:\n%s", out.String())
		}
	}()
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	if httpErr != nil || !strings.HasPrefix(body, "pid=") {
		t.Errorf("GET / on the shared port: %q, %v", body, httpErr)
	}
	checkTicks(t, lines)
	checkTakeover(t, lines)
}

// checkTicks asserts that each tick second appears once and none is missing
// between the first and the last.
func checkTicks(t *testing.T, lines []string) {
	t.Helper()
	seen := map[int]string{}
	first, last := -1, -1 // seconds after the first tick, across midnight too
	var firstSec int
	for _, l := range lines {
		m := tickLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		sec := atoi(m[4])*3600 + atoi(m[5])*60 + atoi(m[6])
		if first < 0 {
			firstSec, first = sec, 0
		}
		off := (sec - firstSec + 86400) % 86400
		if prev, dup := seen[off]; dup {
			t.Errorf("tick %s:%s:%s ran twice:\n%s\n%s", m[4], m[5], m[6], prev, l)
		}
		seen[off] = l
		last = max(last, off)
	}
	if len(seen) < 5 {
		t.Fatalf("only %d ticks in an 8 s run", len(seen))
	}
	for off := 0; off <= last; off++ {
		if _, ok := seen[off]; !ok {
			t.Errorf("tick %d s after the first one never ran", off)
		}
	}
}

// checkTakeover asserts that after the kill another child ran the ticks
// with a later term, and that the killed child was restarted and ready.
func checkTakeover(t *testing.T, lines []string) {
	t.Helper()
	killAt, killedChild, killedPID := -1, "", ""
	termBefore, termAfter, pidAfter := 0, 0, ""
	restarted, readyAgain := false, false
	for i, l := range lines {
		if m := killLine.FindStringSubmatch(l); m != nil {
			killAt, killedChild, killedPID = i, m[1], m[2]
			continue
		}
		if m := tickLine.FindStringSubmatch(l); m != nil {
			if killAt < 0 {
				termBefore = atoi(m[3])
			} else if termAfter == 0 {
				termAfter, pidAfter = atoi(m[3]), m[2]
			}
			continue
		}
		if killAt < 0 {
			continue
		}
		if m := restartLine.FindStringSubmatch(l); m != nil && m[1] == killedChild {
			restarted = true
		}
		if restarted && strings.HasPrefix(l, fmt.Sprintf("[child %s] %s pid=", killedChild, readyPrefix)) {
			readyAgain = true
		}
	}
	switch {
	case killAt < 0:
		t.Fatal("the parent never killed the leader")
	case termBefore == 0 || termAfter == 0:
		t.Fatalf("ticks before the kill in term %d, after it in term %d: want ticks on both sides", termBefore, termAfter)
	case termAfter <= termBefore:
		t.Errorf("term after the takeover is %d, not after %d", termAfter, termBefore)
	case pidAfter == killedPID:
		t.Errorf("pid %d, killed, still ran ticks", atoi(killedPID))
	}
	if !restarted || !readyAgain {
		t.Errorf("killed child %s: restarted %v, ready again %v", killedChild, restarted, readyAgain)
	}
}

// buildDemo builds this package's program, as `go run` would.
func buildDemo(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the demo: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "prefork")
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getWithin GETs url until a child answers, for at most d.
func getWithin(ctx context.Context, url string, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b), err
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
