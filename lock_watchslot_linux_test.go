package solocron_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/testdir"
)

// TestInotifySitsBelowTheLockFile: the leader's inotify instance must have
// a lower descriptor number than its lock file, because at exit the kernel
// releases files highest first and releasing an inotify instance waits
// for an SRCU grace period: above the lock, it delays takeover by ~8 ms.
func TestInotifySitsBelowTheLockFile(t *testing.T) {
	path := filepath.Join(testdir.New(t), "app.lock")
	f := newFileLock(t, solocron.FileLockOptions{Path: path})
	lead(t, f)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	lockFD, inotifyFDs := -1, []int{}
	for _, e := range fds {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		switch {
		case err != nil:
		case target == path:
			lockFD = max(lockFD, n)
		case target == "anon_inode:inotify":
			inotifyFDs = append(inotifyFDs, n)
		}
	}
	if lockFD < 0 || len(inotifyFDs) == 0 {
		t.Fatalf("lock file descriptor %d, inotify descriptors %v: want both", lockFD, inotifyFDs)
	}
	for _, n := range inotifyFDs {
		if n > lockFD {
			t.Fatalf("an inotify descriptor (%d) is above the lock file's (%d): a killed leader's lock would be released late", n, lockFD)
		}
	}
}
