package redis

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// TestClientKill kills the leader's connections from the server side
// (CLIENT KILL, found by the CLIENT SETNAME every process sets) again and
// again while it claims ticks.
//
// Decided behaviour: a killed connection is not a lost lease. go-redis
// dials again and the leader keeps its term, because the lease key (not
// the connection) is what Redis holds for it, and every renewal and claim
// checks the key's token: reconnecting can never revive a lapsed lease. So
// the leader keeps leading, no standby gets in meanwhile, and no tick is
// claimed twice or lost to a retried claim (a retried claim gets its first
// answer). If the kills outlast the deadline the leader steps down as in a
// partition.
func TestClientKill(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	adm := admin(t, srv)
	leader := startWorker(t, "leader", workerEnvFor(srv, app, time.Second)...)
	leader.expect("leading", 10*time.Second)
	host, _ := os.Hostname()
	name := clientName(app, host, leader.pid())

	standby := newElector(t, fast(Options{URL: srv, App: app}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	took := campaignAsync(t, ctx, standby, "standby")

	const n = 100
	leader.send("spin job 100 20ms")
	kills := 0
	spun := ""
	for i := 0; i < 200 && spun == ""; i++ {
		kills += killClients(t, adm, name)
		if line, ok := leader.await("spun", 50*time.Millisecond); ok {
			spun = line
		}
	}
	if spun == "" {
		spun = leader.expect("spun", 10*time.Second)
	}
	var granted, refused, notLeader, errs int
	if _, err := fmt.Sscanf(spun, "spun %d %d %d %d", &granted, &refused, &notLeader, &errs); err != nil {
		t.Fatalf("%q: %v", spun, err)
	}
	t.Logf("%d connection kills; %d claims granted, %d refused, %d not leader, %d errors", kills, granted, refused, notLeader, errs)
	if kills == 0 {
		t.Fatalf("found no connection named %s to kill", name)
	}
	if refused != 0 || notLeader != 0 || granted+errs != n || granted < n/2 {
		t.Fatalf("claims under CLIENT KILL: %s, want all %d granted or failed cleanly", spun, n)
	}
	if line, ok := leader.await("lost", 10*time.Millisecond); ok {
		t.Fatalf("the leader stepped down: %s", line)
	}
	select {
	case w := <-took:
		t.Fatalf("standby took term %d while the leader kept its lease", w.l.Term())
	default:
	}

	// Leadership moves on when the leader is really gone.
	leader.signal(syscall.SIGKILL)
	w := <-took
	if w.l == nil {
		return
	}
	defer w.l.Release(context.Background())
	r, err := w.l.Records(ctx, []string{"job"})
	if err != nil {
		t.Fatal(err)
	}
	if last := r["job"].Claimed; last.After(tick(n)) || last.Before(tick(n/2)) {
		t.Fatalf("last claimed tick %v, want at most %v", last, tick(n))
	}
	if ok, err := w.l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: r["job"].Claimed}}); err != nil || ok[0] {
		t.Fatalf("the new leader re-claimed the old leader's last tick: %v %v", ok, err)
	}
}

// killClients kills the connections named name and says how many.
func killClients(t *testing.T, adm *goredis.Client, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	list, err := adm.ClientList(ctx).Result()
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		var id, n string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(f, "name="); ok {
				n = v
			}
		}
		if n == name && id != "" {
			if err := adm.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err == nil {
				killed++
			}
		}
	}
	return killed
}
