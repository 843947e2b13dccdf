//go:build !(linux || darwin || freebsd)

package main

import (
	"context"
	"fmt"
	"net"
	"runtime"
)

// listenReusePort fails: sharing a port between processes with
// SO_REUSEPORT is implemented here for linux, darwin and freebsd only.
func listenReusePort(context.Context, string) (net.Listener, error) {
	return nil, fmt.Errorf("prefork needs SO_REUSEPORT, implemented here for linux, darwin and freebsd, not %s", runtime.GOOS)
}
