package redis

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/solocron/solocron/internal/redisserver"
)

// spawnRedis starts a redis-server of the test's own (for TLS, replicas)
// with args, in dir: see redisserver.Start.
func spawnRedis(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, _ := redisserver.Start(t, dir, args...)
	return cmd
}

func freePort(t *testing.T) int { return redisserver.FreePort(t) }

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
