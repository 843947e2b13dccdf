//go:build linux || darwin || freebsd

package main

import (
	"context"
	"net"
	"syscall"
)

// listenReusePort listens on addr with SO_REUSEPORT, so that every child
// can bind the same port and the kernel spreads connections among them.
func listenReusePort(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var sockErr error
		err := c.Control(func(fd uintptr) {
			sockErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
		})
		if err != nil {
			return err
		}
		return sockErr
	}}
	return lc.Listen(ctx, "tcp", addr)
}
