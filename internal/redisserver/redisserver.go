// Package redisserver starts a redis-server of a test's own: for a test
// that needs a server configured or broken in a way the shared one must
// not be (TLS, replicas, a password).
package redisserver

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Start starts redis-server with args, in dir, without persistence,
// listening on 127.0.0.1 at a free port unless args name one (0 for
// none, with TLS); it is killed when the test ends. Without redis-server
// on PATH the test skips, or fails under CI. It returns the command and
// its port.
func Start(t *testing.T, dir string, args ...string) (*exec.Cmd, int) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH")
		}
		t.Skip("redis-server is not on PATH; install it to run this test")
	}
	port, named := 0, false
	for i, a := range args {
		if a == "--port" && i+1 < len(args) {
			port, _ = strconv.Atoi(args[i+1])
			named = true
		}
	}
	if !named {
		port = FreePort(t)
		args = append(args, "--port", strconv.Itoa(port))
	}
	args = append(args, "--save", "", "--appendonly", "no", "--dir", dir, "--bind", "127.0.0.1")
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, port
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
