package redis

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// TestPartitionCancelsRunsBeforeTakeover puts a leader process behind a
// TCP proxy with a job that runs until its ctx ends, and a standby (this
// process) on a direct connection. The proxy then swallows all traffic:
// the old leader's run must see its ctx end before the new term begins,
// by the timestamps of both processes (one host, one clock). A claim is
// in flight when the cut comes (a tick every second), so the leader's
// term loop is blocked on Redis: only the lease's own deadline can end
// the run in time.
func TestPartitionCancelsRunsBeforeTakeover(t *testing.T) {
	srv := serverURL(t)
	ttl := 2 * time.Second
	for round := 1; round <= 3; round++ {
		t.Run(fmt.Sprint(round), func(t *testing.T) { partitionRound(t, srv, ttl) })
	}
}

func partitionRound(t *testing.T, srv string, ttl time.Duration) {
	app := newApp(t, srv)
	ro, _ := goredis.ParseURL(srv)
	px := startProxy(t, ro.Addr)
	u, _ := url.Parse(srv)
	u.Host = px.addr()
	old := startWorker(t, "blocking", workerEnvFor(u.String(), app, ttl)...)
	oldTerm, _ := strconv.ParseUint(strings.Fields(old.expect("leading", 10*time.Second))[1], 10, 64)
	old.expect("run", 5*time.Second)

	var mu sync.Mutex
	var ledAt, firstRun time.Time
	var newTerm uint64
	led := make(chan struct{})
	o := solocron.Options{
		Elector: newElector(t, Options{URL: srv, App: app, TTL: ttl, PollInterval: 100 * time.Millisecond}),
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	o.Hooks.OnLeading = func(e solocron.LeadershipEvent) {
		mu.Lock()
		defer mu.Unlock()
		if newTerm == 0 {
			ledAt, newTerm = e.At, e.Term
			close(led)
		}
	}
	startScheduler(t, o, "work", func(ctx context.Context) error {
		mu.Lock()
		if firstRun.IsZero() {
			firstRun = time.Now()
		}
		mu.Unlock()
		return nil
	})

	time.Sleep(rand.N(ttl / 3)) // cut at any point of the renewal cycle (RenewInterval is TTL/3)
	px.cut()
	cut := time.Now()
	ended := old.expect("ended", ttl+5*time.Second)
	ns, _ := strconv.ParseInt(strings.Fields(ended)[2], 10, 64)
	endedAt := time.Unix(0, ns)
	select {
	case <-led:
	case <-time.After(ttl + 5*time.Second):
		t.Fatalf("the standby did not lead within %v of the cut", ttl+5*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := o.Elector.Holder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		ran := !firstRun.IsZero()
		mu.Unlock()
		if ran || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if h.Term != newTerm || newTerm <= oldTerm {
		t.Fatalf("terms: old %d, new %d, holder %d", oldTerm, newTerm, h.Term)
	}
	if !endedAt.Before(h.Since) {
		t.Fatalf("the old leader's run ended %v after the new term began (Redis TIME)", endedAt.Sub(h.Since))
	}
	if !endedAt.Before(ledAt) || firstRun.IsZero() || !endedAt.Before(firstRun) {
		t.Fatalf("the old leader's run ended at %v; the standby led at %v and first ran at %v", endedAt, ledAt, firstRun)
	}
	t.Logf("cut; old run ended +%v; new term began +%v (Redis TIME), led +%v, first run +%v",
		endedAt.Sub(cut).Round(time.Millisecond), h.Since.Sub(cut).Round(time.Millisecond),
		ledAt.Sub(cut).Round(time.Millisecond), firstRun.Sub(cut).Round(time.Millisecond))
}

// The "blocking" worker runs a Scheduler whose job, every second, runs
// until its ctx ends (the default OverlapSkip records each tick meanwhile,
// a claim every second). It says "leading <term>", "run <term>" when a
// run starts and "ended <term> <unix ns>" when the run's ctx ends.
func init() { workers["blocking"] = blockingWorker }

func blockingWorker() error {
	e, err := workerElector()
	if err != nil {
		return err
	}
	defer e.Close()
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	so := solocron.Options{Elector: e, Seconds: true}
	so.Hooks.OnLeading = func(ev solocron.LeadershipEvent) { say("leading %d", ev.Term) }
	s, err := solocron.New(so)
	if err != nil {
		return err
	}
	err = s.Add(solocron.Job{Name: "work", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		r, _ := solocron.RunFrom(ctx)
		say("run %d", r.Term)
		<-ctx.Done()
		say("ended %d %d", r.Term, time.Now().UnixNano())
		return nil
	}})
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	time.Sleep(time.Minute) // the test kills it
	return nil
}
