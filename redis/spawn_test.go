package redis

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// spawnRedis starts a redis-server of the test's own (for TLS, replicas)
// with args, in dir, without persistence; it is killed when the test
// ends. Without redis-server on PATH the test skips (fails under CI).
func spawnRedis(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH")
		}
		t.Skip("redis-server is not on PATH; install it to run this test")
	}
	args = append(args, "--save", "", "--appendonly", "no", "--dir", dir, "--bind", "127.0.0.1")
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitReady waits until a server started by the test answers PING.
func waitReady(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	c := admin(t, url)
	for c.Ping(ctx).Err() != nil {
		if ctx.Err() != nil {
			t.Fatalf("redis-server at %s did not start", url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
