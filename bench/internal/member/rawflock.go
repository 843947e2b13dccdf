package member

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/solocron/solocron/bench/internal/proc"
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
	proc.Emit("started")
	locked := make(chan error, 1)
	go func() { locked <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	stop := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() && sc.Text() != "stop" {
		}
		close(stop)
	}()
	select {
	case err := <-locked:
		if err != nil {
			return fmt.Errorf("flock: %w", err)
		}
		now := time.Now()
		proc.EmitAt("leading", now, "0")
		proc.EmitAt("holder", now, "0") // the lock is all there is
	case <-stop:
		return nil
	}
	<-stop
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	proc.Emit("stopped")
	return err
}
