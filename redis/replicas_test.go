//go:build unix

package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// TestReplicas starts a primary and a replica of the test's own. With
// Options.Replicas 1, claims are on the replica when granted; with the
// replica stopped (SIGSTOP), claims and acquisitions fail with
// ErrNotReplicated after ReplicaTimeout, and a failed acquisition leaves
// no lease behind.
func TestReplicas(t *testing.T) {
	dir := t.TempDir()
	pp, rp := freePort(t), freePort(t)
	for _, d := range []string{"primary", "replica"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	spawnRedis(t, filepath.Join(dir, "primary"), "--port", fmt.Sprint(pp))
	replica := spawnRedis(t, filepath.Join(dir, "replica"), "--port", fmt.Sprint(rp), "--replicaof", "127.0.0.1", fmt.Sprint(pp))
	primaryURL := fmt.Sprintf("redis://127.0.0.1:%d/0", pp)
	rc := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", rp)})
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		info, _ := rc.Info(ctx, "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the replica did not connect: %s", info)
		}
		time.Sleep(50 * time.Millisecond)
	}

	e := newElector(t, fast(Options{URL: primaryURL, App: "replicas", Replicas: 1}))
	if e.opt.ReplicaTimeout != e.opt.RenewInterval/2 {
		t.Fatalf("ReplicaTimeout default %v", e.opt.ReplicaTimeout)
	}
	l, err := e.Campaign(ctx, candidate("primary"))
	if err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(1)}}); err != nil || !ok[0] {
		t.Fatalf("Claim: %v %v", ok, err)
	}
	// Acknowledged means on the replica now, not eventually.
	if v, err := rc.HGet(ctx, e.keys.ledger, "c:job").Result(); err != nil || v != fmt.Sprint(tick(1).UnixMicro()) {
		t.Fatalf("replica's ledger right after the claim: %q %v", v, err)
	}

	replica.Process.Signal(syscall.SIGSTOP)
	start := time.Now()
	_, err = l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(2)}})
	if !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("Claim with the replica stopped: %v, want ErrNotReplicated", err)
	}
	t.Logf("with the replica stopped, the claim failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	select {
	case <-l.Lost():
		t.Fatalf("the lease was lost: %v", l.Err())
	default:
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Campaign(ctx, candidate("primary")); !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("Campaign with the replica stopped: %v, want ErrNotReplicated", err)
	}
	if h, err := e.Holder(ctx); !errors.Is(err, solocron.ErrNoHolder) {
		t.Fatalf("an unreplicated acquisition left a holder: %+v %v", h, err)
	}

	replica.Process.Signal(syscall.SIGCONT)
	l, err = e.Campaign(ctx, candidate("primary"))
	if err != nil {
		t.Fatalf("Campaign with the replica back: %v", err)
	}
	defer l.Release(context.Background())
	if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: tick(3)}}); err != nil || !ok[0] {
		t.Fatalf("Claim with the replica back: %v %v", ok, err)
	}
}
