package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/redact"
)

// The tests run against a real server: SOLOCRON_REDIS_URL, or
// 127.0.0.1:6379. Without one they skip, except under CI=true.

const startServer = `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`

func serverURL(t testing.TB) string {
	t.Helper()
	url, err := reachable()
	if err != nil {
		msg := err.Error() + "; start one with\n  " + startServer + "\nor set SOLOCRON_REDIS_URL"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return url
}

// reachable pings the server once per test binary.
var reachable = sync.OnceValues(func() (string, error) {
	url := os.Getenv("SOLOCRON_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	o, err := goredis.ParseURL(url)
	if err != nil {
		return "", fmt.Errorf("SOLOCRON_REDIS_URL: %v", redact.Error(err, urlSecrets(url)))
	}
	o.MaxRetries = -1
	c := goredis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return "", fmt.Errorf("no Redis server at %s (%v)", o.Addr, redact.Error(err, urlSecrets(url)))
	}
	return url, nil
})

// admin is a plain client for the test's own inspection and cleanup.
func admin(t testing.TB, url string) *goredis.Client {
	t.Helper()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// newApp returns an application name no other test or run uses, and
// deletes its keys when the test ends.
func newApp(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
	c := admin(t, url)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Del(ctx, newKeys(DefaultPrefix, name).all()...).Err(); err != nil {
			t.Logf("cleanup of %s: %v", name, err)
		}
	})
	return name
}

// fast is the timing the tests use: a crashed leader blocks for 1s.
func fast(o Options) Options {
	o.TTL = time.Second
	o.PollInterval = 100 * time.Millisecond
	return o
}

// newElector returns an Elector with its own client, closed at the end.
func newElector(t testing.TB, o Options) *Elector {
	t.Helper()
	e, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// won is a Campaign's result and when it returned.
type won struct {
	l  solocron.Lease
	at time.Time
}

// campaignAsync campaigns in the background; the lease is nil on error.
func campaignAsync(t testing.TB, ctx context.Context, e *Elector, host string) <-chan won {
	took := make(chan won, 1)
	go func() {
		l, err := e.Campaign(ctx, candidate(host))
		if err != nil && !errors.Is(err, context.Canceled) { // the test cancels when done
			t.Errorf("%s Campaign: %v", host, err)
		}
		took <- won{l, time.Now()}
	}()
	return took
}

// candidate is this process presented under another host name.
func candidate(host string) solocron.Candidate {
	return solocron.Candidate{PID: os.Getpid(), Hostname: host}
}
