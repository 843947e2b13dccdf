// Package systemd holds a template unit for running several instances of a
// solocron program under systemd, and its test.
package systemd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	unitFile = "solocron-example@.service"
	unitBin  = "/usr/local/bin/solocron-minimal"
)

// TestTemplateUnit checks the unit the way systemd would use it, without
// systemd (it does not run in this environment): systemd-analyze verify
// accepts it without a warning, and four instances started from its
// ExecStart and Environment, with no $HOME as in a system service without
// User=, share one lock (one leads), and each exits with status 0 within
// TimeoutStopSec of its KillSignal.
func TestTemplateUnit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds examples/minimal and runs four instances")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "solocron-minimal")
	buildMinimal(t, bin)
	text, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(text), unitBin, bin)
	verify(t, dir, unit)

	svc := serviceSection(t, unit)
	stopTimeout, err := time.ParseDuration(svc["TimeoutStopSec"])
	if err != nil || svc["KillSignal"] != "SIGTERM" || svc["Restart"] != "always" {
		t.Fatalf("unit: TimeoutStopSec %q (%v), KillSignal %q, Restart %q", svc["TimeoutStopSec"], err, svc["KillSignal"], svc["Restart"])
	}
	cacheRoot := filepath.Join(dir, "cache") // %C of a system unit is /var/cache
	if err := os.MkdirAll(filepath.Join(cacheRoot, svc["CacheDirectory"]), 0o755); err != nil {
		t.Fatal(err)
	}

	// What the Environment line is for: without it and without $HOME,
	// the program cannot find its default lock.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bare := exec.CommandContext(ctx, bin, "-addr", freeAddr(t))
	bare.Env = noHome()
	out, err := bare.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no default lock path") {
		t.Errorf("without $HOME and XDG_CACHE_HOME: %v, %s; want the error that there is no default lock path", err, out)
	}

	var instances []*exec.Cmd
	var ports []string
	for range 4 {
		port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
		expand := strings.NewReplacer("%i", port, "%C", cacheRoot).Replace
		args := strings.Fields(expand(svc["ExecStart"]))
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(noHome(), expand(svc["Environment"]))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		instances, ports = append(instances, cmd), append(ports, port)
	}

	leaders, electors := 0, map[string]bool{}
	for _, port := range ports {
		st := status(t, port)
		if st.Role == "leader" {
			leaders++
		}
		electors[st.Elector] = true
	}
	if leaders != 1 || len(electors) != 1 {
		t.Errorf("%d leaders among 4 instances, lock files %v: want 1 leader and one lock", leaders, electors)
	}
	for e := range electors {
		if !strings.HasPrefix(e, "file "+filepath.Join(cacheRoot, svc["CacheDirectory"], "solocron")+"/") {
			t.Errorf("lock %q is not under the unit's cache directory", e)
		}
	}

	for i, cmd := range instances {
		began := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("instance %s: %v after SIGTERM, want status 0", ports[i], err)
			}
			t.Logf("instance %s stopped %v after SIGTERM", ports[i], time.Since(began))
		case <-time.After(stopTimeout):
			t.Fatalf("instance %s still runs %v (TimeoutStopSec) after SIGTERM: systemd would SIGKILL it", ports[i], stopTimeout)
		}
	}
}

// verify runs systemd-analyze verify on an instance of the unit and fails
// on any output: a bad directive is a warning there, not an error.
func verify(t *testing.T, dir, unit string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit's syntax is not verified")
		return
	}
	if err := os.WriteFile(filepath.Join(dir, unitFile), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "./"+strings.Replace(unitFile, "@", "@8081", 1))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// serviceSection returns the [Service] section's settings (the last value
// of each key).
func serviceSection(t *testing.T, unit string) map[string]string {
	t.Helper()
	settings, in := map[string]string{}, false
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			in = line == "[Service]"
		case in:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("unit line %q", line)
			}
			settings[k] = v
		}
	}
	return settings
}

// noHome is this process's environment less what would give
// os.UserCacheDir a directory, as a system service without User= has it.
func noHome() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

type instanceStatus struct {
	Role    string `json:"role"`
	Elector string `json:"elector"`
}

// status reads an instance's /status once it answers and once it has
// settled as leader or standby.
func status(t *testing.T, port string) instanceStatus {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st instanceStatus
		resp, err := client.Get("http://127.0.0.1:" + port + "/status")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil && st.Role == "stopped" {
				err = errors.New("not started yet")
			}
		}
		if err == nil {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s: /status: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func buildMinimal(t *testing.T, bin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "minimal")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
