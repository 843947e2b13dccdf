package member

import (
	"bufio"
	"os"
	"time"

	"github.com/solocron/solocron/bench/internal/proc"
)

// serveRawLock is the member protocol for the takeover floors: report
// started, wait in lock, report leading (and the lock taken) the moment it
// returns, and on "stop" unlock and report stopped.
func serveRawLock(lock, unlock func() error) error {
	proc.Emit("started")
	locked := make(chan error, 1)
	go func() { locked <- lock() }()
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
			return err
		}
		now := time.Now()
		proc.EmitAt("leading", now, "0")
		proc.EmitAt("holder", now, "0") // the lock is all there is
	case <-stop:
		return nil // a pending lock dies with the process
	}
	<-stop
	err := unlock()
	proc.Emit("stopped")
	return err
}
