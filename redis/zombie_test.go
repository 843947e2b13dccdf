//go:build unix

package redis

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestZombieLeader stops the leader process (SIGSTOP) past its lease; a
// standby takes over; the old leader is continued with a claim already
// waiting on its stdin. It must claim nothing and report Lost.
func TestZombieLeader(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	ttl := time.Second
	old := startWorker(t, "leader", workerEnvFor(srv, app, ttl)...)
	old.expect("leading", 10*time.Second)
	old.send(fmt.Sprintf("claim job %d", tick(1).UnixMicro()))
	if got := old.expect("claim", 5*time.Second); got != "claim granted" {
		t.Fatalf("first claim: %q", got)
	}

	old.signal(syscall.SIGSTOP)
	stopped := time.Now()
	standby := newElector(t, fast(Options{URL: srv, App: app}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := standby.Campaign(ctx, solocron.Candidate{PID: 2, Hostname: "standby"})
	if err != nil {
		t.Fatalf("standby Campaign: %v", err)
	}
	defer l.Release(context.Background())
	t.Logf("standby took term %d %v after SIGSTOP (TTL %v)", l.Term(), time.Since(stopped), ttl)
	if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(2)}}); err != nil || !ok[0] {
		t.Fatalf("new leader's claim: %v %v", ok, err)
	}

	old.send(fmt.Sprintf("claim job %d", tick(3).UnixMicro())) // read the moment it wakes
	old.signal(syscall.SIGCONT)
	got := old.expectAll(5*time.Second, "claim", "lost")
	if got["claim"] != "claim notleader" {
		t.Fatalf("the woken leader's claim: %q, want notleader", got["claim"])
	}
	t.Logf("woken leader: %q, %q", got["claim"], got["lost"])
	r, err := l.Records(ctx, []string{"job"})
	if err != nil {
		t.Fatal(err)
	}
	if !r["job"].Claimed.Equal(tick(2)) {
		t.Fatalf("ledger says %v was claimed last, want %v", r["job"].Claimed, tick(2))
	}
}
