//go:build unix

package redis

import (
	"os"
	"syscall"
)

func resume(p *os.Process) { _ = p.Signal(syscall.SIGCONT) }
