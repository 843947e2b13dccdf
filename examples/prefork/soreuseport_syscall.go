//go:build darwin || freebsd || (linux && (mips || mipsle || mips64 || mips64le))

package main

import "syscall"

// soReusePort is SO_REUSEPORT, which syscall defines on these platforms.
const soReusePort = syscall.SO_REUSEPORT
