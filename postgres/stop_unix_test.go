//go:build unix

package postgres

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A leader frozen past its lease (SIGSTOP) is replaced; once it runs
// again it claims nothing and learns that it lost.
func TestStoppedLeaderIsReplacedAndFenced(t *testing.T) {
	t.Parallel()
	o := faultOptions(t)
	c := startChild(t, "lead", o)
	term, _ := strconv.ParseUint(c.expect(t, "leading", 15*time.Second), 10, 64)
	got := standby(t, mustNew(t, o), 2, 30*time.Second)
	waitForWaiter(t, o, 1)

	pid := c.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	stopped := time.Now()
	tk := waitTakeover(t, got)
	if tk.lease.Term() <= term {
		t.Fatalf("term %d after takeover, want > %d", tk.lease.Term(), term)
	}
	t.Logf("standby led %v after SIGSTOP (TTL %v)", tk.at.Sub(stopped), o.TTL)
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	c.send(t, "claim "+strconv.FormatInt(tick.UnixMicro(), 10))
	if r := c.expect(t, "claim", 5*time.Second); !strings.Contains(r, "notleader=true") {
		t.Fatalf("the woken leader's claim: %s; want ErrNotLeader", r)
	}
	c.send(t, "lost")
	if r := c.expect(t, "lost", 5*time.Second); !strings.HasPrefix(r, "true") {
		t.Fatalf("the woken leader did not see Lost closed: %s", r)
	}
	recs, err := tk.lease.Records(context.Background(), []string{"job"})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := recs["job"]; ok {
		t.Fatalf("the old leader's claim reached the ledger: %+v", r)
	}
	claimGranted(t, tk.lease, tick)
}
