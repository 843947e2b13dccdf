package redis

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// commandCounter is a go-redis hook that counts the commands a client
// sends, to prove that a batch is one round trip.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestTenThousandJobsOneRoundTrip claims, completes and reads 10,000 jobs
// due at the same instant, through an application's own client: each is
// one command.
func TestTenThousandJobsOneRoundTrip(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	ro, err := goredis.ParseURL(srv)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(ro)
	defer client.Close()
	counter := &commandCounter{}
	client.AddHook(counter)
	e := newElector(t, Options{Client: client, App: app})
	if s := e.String(); s != fmt.Sprintf("redis redis://%s/%d app %s (key %s)", ro.Addr, ro.DB, app, e.keys.lease) {
		t.Fatalf("String() = %q", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := e.Campaign(ctx, candidate("batch"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	for _, s := range []*goredis.Script{claimScript, completeScript, recordsScript} {
		if err := s.Load(ctx, client).Err(); err != nil {
			t.Fatal(err)
		}
	}

	const n = 10000
	claims := make([]solocron.Claim, n)
	names := make([]string, n)
	for i := range claims {
		names[i] = fmt.Sprintf("job-%05d", i)
		claims[i] = solocron.Claim{Job: names[i], Tick: tick(1)}
	}
	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"Claim", func() error {
			ok, err := l.Claim(ctx, claims)
			if err == nil && (len(ok) != n || !ok[0] || !ok[n-1]) {
				err = fmt.Errorf("granted %d answers, first %v", len(ok), ok[0])
			}
			return err
		}},
		{"Complete", func() error { return l.Complete(ctx, claims) }},
		{"Records", func() error {
			r, err := l.Records(ctx, names)
			if err == nil && (len(r) != n || !r[names[n-1]].Completed.Equal(tick(1))) {
				err = fmt.Errorf("%d records", len(r))
			}
			return err
		}},
	} {
		before := counter.n.Load()
		start := time.Now()
		if err := step.do(); err != nil {
			t.Fatalf("%s of %d jobs: %v", step.name, n, err)
		}
		if sent := counter.n.Load() - before; sent != 1 {
			t.Fatalf("%s of %d jobs sent %d commands, want 1", step.name, n, sent)
		}
		t.Logf("%s of %d jobs: one command, %v", step.name, n, time.Since(start).Round(time.Millisecond))
	}
}
