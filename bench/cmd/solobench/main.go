// Command solobench measures solocron against robfig/cron and gocron:
//
//	go run ./cmd/solobench SCENARIO [flags]
//
// SCENARIO is firing, takeover, standby, chaos or all. Every library and
// every cluster member runs in its own child process (this binary again,
// with a hidden subcommand). With -json the last line printed is one JSON
// object holding every figure of the run.
//
// Exit status: 0 when every enforced target passed, 1 when one was missed
// (in -smoke mode only chaos duplicates are enforced), 2 when the harness
// itself broke (bad flags, a child that crashed or gave no result).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/member"
	"github.com/solocron/solocron/bench/internal/proc"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == proc.ChildArg {
		os.Exit(child(os.Args[2], os.Args[3:]))
	}
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "solobench:", err)
		os.Exit(2)
	}
	os.Exit(run(cfg, os.Stdout))
}

func child(role string, args []string) int {
	var err error
	switch role {
	case firing.Role:
		err = firing.Child(args)
	case member.Role:
		err = member.Child(args)
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "solobench %s (pid %d): %v\n", role, os.Getpid(), err)
		return 2
	}
	return 0
}
