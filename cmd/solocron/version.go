package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

const versionUsage = `usage: solocron version

Prints the command's version (its module's, as go install recorded it;
"(devel)" for a build from a working tree), and the Go version and platform
it was built for.
`

func cmdVersion(ctx context.Context, o *output, args []string) error {
	f := newPlainFlags("version", versionUsage)
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	fmt.Fprintf(o.out, "solocron %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
