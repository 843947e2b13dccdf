//go:build linux && !(mips || mipsle || mips64 || mips64le)

package main

// soReusePort is SO_REUSEPORT, which the frozen syscall package does not
// define on linux/amd64, 386 and arm (golang.org/x/sys/unix does, but the
// examples use the standard library only).
const soReusePort = 0xf
