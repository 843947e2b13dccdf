package redis

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// attemptCounter counts a client's script calls: a standby's attempts.
type attemptCounter struct{ n atomic.Int64 }

func (c *attemptCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *attemptCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (c *attemptCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if name := strings.ToLower(cmd.Name()); name == "evalsha" || name == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// TestStandbyWaitsForExpiryNotPolling: an idle standby tries again when
// the lease it saw is due to expire (or is released), about once per TTL,
// not at every renewal and not every PollInterval.
func TestStandbyWaitsForExpiryNotPolling(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	const ttl = 2 * time.Second
	leader := newElector(t, Options{URL: srv, App: app, TTL: ttl})
	l, err := leader.Campaign(context.Background(), candidate("leader"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())

	opts, err := goredis.ParseURL(srv)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	defer client.Close()
	var attempts attemptCounter
	client.AddHook(&attempts)
	standby := newElector(t, Options{Client: client, App: app, TTL: ttl, PollInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	took := campaignAsync(t, ctx, standby, "standby")

	const window = 3 * time.Second
	time.Sleep(window)
	// The standby waits out the PTTL it saw, at least TTL - RenewInterval
	// (4/3 s): the first attempt and one or two more (2 on a quiet
	// machine). Attempting at each renewal would make 5 or 6; polling
	// every 20ms about 150.
	if n := attempts.n.Load(); n > 4 {
		t.Fatalf("the standby made %d attempts in %v while the leader renewed, want at most 4", n, window)
	}
	start := time.Now()
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := <-took
	if w.l == nil {
		t.Fatal("the standby did not take over after the release")
	}
	defer w.l.Release(context.Background())
	if d := w.at.Sub(start); d > 500*time.Millisecond {
		t.Fatalf("the standby took over %v after the release, want at once (notified)", d)
	}
}

// TestStandbyPollsWithoutNotifications: a user whose ACL refuses the
// release channel still takes over, by polling.
func TestStandbyPollsWithoutNotifications(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	adm := admin(t, srv)
	user := "solocron-nochannel-" + app
	ctx := context.Background()
	if err := adm.Do(ctx, "ACL", "SETUSER", user, "on", ">pw", "~*", "resetchannels", "+@all", "-subscribe").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	defer adm.Do(ctx, "ACL", "DELUSER", user)
	opts, err := goredis.ParseURL(srv)
	if err != nil {
		t.Fatal(err)
	}
	opts.Username, opts.Password = user, "pw"
	client := goredis.NewClient(opts)
	defer client.Close()
	const ttl = 2 * time.Second
	leader := newElector(t, Options{URL: srv, App: app, TTL: ttl})
	l, err := leader.Campaign(ctx, candidate("leader"))
	if err != nil {
		t.Fatal(err)
	}
	standby := newElector(t, Options{Client: client, App: app, TTL: ttl, PollInterval: 50 * time.Millisecond})
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	took := campaignAsync(t, cctx, standby, "standby")
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	w := <-took
	if w.l == nil {
		t.Fatal("a standby without channel rights did not take over")
	}
	defer w.l.Release(ctx)
	if d := w.at.Sub(start); d > time.Second {
		t.Fatalf("a polling standby took over %v after the release, want within a few PollIntervals", d)
	}
}
