package member

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// RawFlock is the pseudo-engine of the takeover baseline: a process that
// blocks in flock(LOCK_EX) on a kept descriptor and reports leading the
// moment it returns. No scheduler, no ledger: what is left is the kernel
// and the machine (process teardown, waking the waiter), the floor under
// any file-lock takeover on this host.
const RawFlock = "flock-raw"

func rawFlock(shared string) error {
	f, err := os.OpenFile(filepath.Join(shared, "raw.lock"), os.O_RDONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	return serveRawLock(
		func() error {
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
				return fmt.Errorf("flock: %w", err)
			}
			return nil
		},
		func() error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) })
}
