package redis

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// TestPartition cuts the leader off from Redis with a black-hole proxy.
// The leader must stop (Lost) before Redis can expire its key; a standby
// then takes over, and the old lease can claim nothing, neither by its own
// check nor in Redis.
func TestPartition(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	ro, _ := goredis.ParseURL(srv)
	px := startProxy(t, ro.Addr)
	u, _ := url.Parse(srv)
	u.Host = px.addr()

	leader := newElector(t, fast(Options{URL: u.String(), App: app}))
	standby := newElector(t, fast(Options{URL: srv, App: app}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	la, err := leader.Campaign(ctx, solocron.Candidate{PID: 1, Hostname: "leader"})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release(context.Background())
	if ok, err := la.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(1)}}); err != nil || !ok[0] {
		t.Fatalf("claim before the partition: %v %v", ok, err)
	}
	took := campaignAsync(t, ctx, standby, "standby")
	time.Sleep(600 * time.Millisecond) // the leader renews meanwhile (every 333ms)
	select {
	case w := <-took:
		t.Fatalf("standby took over while the leader was connected (term %d)", w.l.Term())
	default:
	}

	px.cut()
	time.Sleep(20 * time.Millisecond) // a renewal already through the proxy lands
	pttl, err := admin(t, srv).PTTL(ctx, leader.keys.lease).Result()
	if err != nil || pttl <= 0 {
		t.Fatalf("PTTL of the lease after the cut: %v %v", pttl, err)
	}
	expires := time.Now().Add(pttl) // Redis may expire the key from here on
	var lostAt time.Time
	select {
	case <-la.Lost():
		lostAt = time.Now()
	case <-time.After(3 * time.Second):
		t.Fatal("Lost did not fire within 3s of the partition")
	}
	if !lostAt.Before(expires) {
		t.Fatalf("Lost fired %v after Redis could expire the lease", lostAt.Sub(expires))
	}
	if !errors.Is(la.Err(), ErrLeaseExpired) {
		t.Fatalf("Err() = %v, want ErrLeaseExpired", la.Err())
	}
	t.Logf("Lost fired %v before the key could expire", expires.Sub(lostAt))

	w := <-took
	if w.l == nil {
		return
	}
	defer w.l.Release(context.Background())
	if w.at.Before(lostAt) || w.l.Term() <= la.Term() {
		t.Fatalf("standby took term %d at %v, old term %d lost at %v", w.l.Term(), w.at, la.Term(), lostAt)
	}
	t.Logf("standby took over %v after the old leader stopped", w.at.Sub(lostAt))

	if _, err := la.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(2)}}); !errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("claim by the old lease: %v, want ErrNotLeader", err)
	}
	// Redis refuses the old term too, whatever the process believes.
	px.heal()
	old := la.(*lease)
	if _, err := old.serverClaim(ctx, "job", tick(2)); !goredis.HasErrorPrefix(err, notLeader) {
		t.Fatalf("Redis-side claim by the old term: %v, want %s", err, notLeader)
	}
	if ok, err := w.l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(2)}}); err != nil || !ok[0] {
		t.Fatalf("claim by the new leader: %v %v", ok, err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatalf("Release of the lost lease: %v", err)
	}
	if h, err := standby.Holder(ctx); err != nil || h.Term != w.l.Term() {
		t.Fatalf("after the old leader's Release, Holder = %+v, %v; want term %d", h, err, w.l.Term())
	}
}

// tick returns the n-th test tick.
func tick(n int) time.Time {
	return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(n) * time.Second)
}

// serverClaim runs the claim script with this lease's token and term,
// skipping the local check, to see what Redis itself decides.
func (l *lease) serverClaim(ctx context.Context, job string, t time.Time) (string, error) {
	us, err := micros(job, t)
	if err != nil {
		return "", err
	}
	nonce, _ := newToken()
	return claimScript.Run(ctx, l.e.client,
		[]string{l.e.keys.lease, l.e.keys.term, l.e.keys.ledger, l.e.keys.reply},
		l.token, l.term, nonce, 1000, job, us, "0").Text()
}
