package solocron_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/testdir"
)

// smallFS mounts a tmpfs of size bytes for the test, or skips it where
// this process may not mount (not root, or in a container without
// CAP_SYS_ADMIN).
func smallFS(t *testing.T, size int) string {
	dir := testdir.New(t)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes to path until the file system is full.
func fill(t *testing.T, path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for {
		if _, err := f.Write(block[:1]); err != nil {
			return
		}
	}
}

// A ledger that cannot be written (a full disk) makes the leader step
// down with an ERROR rather than lead without claiming: no tick runs
// until there is room again, then one does.
func TestFullDiskStepsDownUntilThereIsRoom(t *testing.T) {
	t.Parallel()
	dir := smallFS(t, 1<<20)
	path := filepath.Join(dir, "app.lock")
	ticks := newTickLog(t, testdir.New(t))
	var logs logCapture
	s, err := New(Options{LockPath: path, Seconds: true, Logger: logs.logger(), RetryInterval: 50 * time.Millisecond, MaxRetryInterval: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, s.Add(ticks.job("job")))
	// Enough other jobs that each second's claims need a new page of the
	// ledger, which the full file system refuses.
	for i := range 300 {
		mustDo(t, s.Add(Job{Name: fmt.Sprintf("filler job with a long name %03d", i), Spec: "* * * * * *", Run: noop}))
	}
	mustDo(t, s.Start())
	t.Cleanup(func() { stop(t, s) })
	ticks.wait(t, "the leader")

	fill(t, filepath.Join(dir, "filler"))
	deadline := time.Now().Add(5 * time.Second)
	for len(logs.find(t, "ERROR", "stepped down: the ledger cannot hold the claims")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the leader did not step down within 5s of the disk filling up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for len(ticks.ran) > 0 {
		<-ticks.ran
	}
	time.Sleep(2 * time.Second)
	select {
	case tick := <-ticks.ran:
		t.Fatalf("tick %v ran while the ledger could not record it", tick)
	default:
	}
	for _, rec := range logs.find(t, "ERROR", "stepped down") {
		if err := fmt.Sprint(rec["err"]); !strings.Contains(err, path+".ledger") || !strings.Contains(err, "no space left") {
			t.Fatalf("stepped down with %q, want an error naming the ledger and the full disk", err)
		}
	}

	mustDo(t, os.Remove(filepath.Join(dir, "filler")))
	ticks.wait(t, "the leader once there is room again")
	waitRole(t, s, Leader, time.Second)
}
