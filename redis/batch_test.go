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
// sends and the round trips they take (a pipeline is one), to prove that a
// batch is one round trip.
type commandCounter struct{ n, trips atomic.Int64 }

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.n.Add(1)
		c.trips.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		c.trips.Add(1)
		return next(ctx, cmds)
	}
}

// TestTenThousandJobsOneRoundTrip claims, completes and reads 10,000 jobs
// due at the same instant, through an application's own client: each is
// one command, and Observe of them all one round trip (a pipeline of the
// ledger's and the control state's HGETALL).
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
	outcomes := make([]solocron.Outcome, n)
	names := make([]string, n)
	for i := range claims {
		names[i] = fmt.Sprintf("job-%05d", i)
		claims[i] = solocron.Claim{Job: names[i], Tick: tick(1)}
		outcomes[i] = solocron.Outcome{Job: names[i], Tick: tick(1), Ran: true, Duration: time.Duration(i), Error: fmt.Sprint("failed ", i)}
	}
	last := func(r map[string]solocron.Record) error {
		got, want := r[names[n-1]], outcomes[n-1]
		if len(r) != n || !got.Completed.Equal(tick(1)) || !got.Finished.Equal(tick(1)) || got.Duration != want.Duration || got.Error != want.Error {
			return fmt.Errorf("%d records, the last %+v", len(r), got)
		}
		return nil
	}
	for _, step := range []struct {
		name     string
		commands int64
		do       func() error
	}{
		{"Claim", 1, func() error {
			ok, err := l.Claim(ctx, claims)
			if err == nil && (len(ok) != n || !ok[0] || !ok[n-1]) {
				err = fmt.Errorf("granted %d answers, first %v", len(ok), ok[0])
			}
			return err
		}},
		{"Complete", 1, func() error { return l.Complete(ctx, outcomes) }},
		{"Records", 1, func() error {
			r, err := l.Records(ctx, names)
			if err == nil {
				err = last(r)
			}
			return err
		}},
		{"Observe", 2, func() error {
			r, err := e.Observe(ctx)
			if err == nil {
				err = last(r)
			}
			return err
		}},
	} {
		before, tripsBefore := counter.n.Load(), counter.trips.Load()
		start := time.Now()
		if err := step.do(); err != nil {
			t.Fatalf("%s of %d jobs: %v", step.name, n, err)
		}
		sent, trips := counter.n.Load()-before, counter.trips.Load()-tripsBefore
		if sent != step.commands || trips != 1 {
			t.Fatalf("%s of %d jobs sent %d commands in %d round trips, want %d in 1", step.name, n, sent, trips, step.commands)
		}
		t.Logf("%s of %d jobs: %d command(s), one round trip, %v", step.name, n, sent, time.Since(start).Round(time.Millisecond))
	}
}
