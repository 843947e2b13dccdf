package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron/internal/redisserver"
)

// TestRedisPasswordFromEnvironment: a Redis that wants a password is
// reached with the one in REDISCLI_AUTH, so that it need not be in the
// URL (where ps shows it); a password in the URL still wins.
func TestRedisPasswordFromEnvironment(t *testing.T) {
	_, port := redisserver.Start(t, t.TempDir(), "--requirepass", "s3cret")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server at %s did not start: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	bare := "redis://" + addr + "/0"

	t.Setenv("REDISCLI_AUTH", "")
	cli(t, "status", "--redis", bare, "--app", "auth").want(t, exitUnreachable, "NOAUTH")
	t.Setenv("REDISCLI_AUTH", "s3cret")
	// Reached: nobody leads this application, a problem, not exit 3.
	cli(t, "status", "--redis", bare, "--app", "auth").want(t, exitProblem, "nobody leads")
	// A password in the URL wins; no password shows in the output.
	r := cli(t, "status", "--redis", "redis://:n0tit@"+addr+"/0", "--app", "auth")
	r.want(t, exitUnreachable)
	if out := r.stdout + r.stderr; strings.Contains(out, "s3cret") || strings.Contains(out, "n0tit") {
		t.Fatalf("the output shows a password:\n%s", r)
	}
}
