// Command prefork is a prefork server on the standard library: a parent
// process starts N children that all listen on the same port with
// SO_REUSEPORT (the kernel spreads connections among them) and restarts any
// child that dies. Every child creates the same solocron Scheduler in
// main(), before serving; the file lock makes one of them lead, so the job
// runs once per tick however many children there are, also when the leader
// is killed.
//
// Frameworks' prefork modes differ in the restarts: Fiber v2's parent
// restarts no child (when one exits, it kills the others and its Listen
// returns), and fasthttp's prefork restarts at most RecoverThreshold of
// them in all. For Fiber, see examples/fiber and docs/frameworks.md.
//
// With -demo-kill the parent SIGKILLs the leading child once, to show a
// standby taking over and the restarted child joining as a standby:
//
//	go run ./examples/prefork -children 4 -demo-kill 5s -duration 12s
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// childEnv marks a child process and holds its index; the parent has none.
const childEnv = "SOLOCRON_PREFORK_CHILD"

// Lines a child prints that the parent (and the test) read.
const (
	leadingPrefix = "leading"
	readyPrefix   = "ready"
)

type config struct {
	addr     string
	children int
	lock     string
	demoKill time.Duration
	duration time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", ":8080", "address every child listens on, with SO_REUSEPORT")
	flag.IntVar(&cfg.children, "children", 4, "number of child processes")
	// Real programs leave Options.LockPath empty (a per-user cache file
	// named after the main package) or choose a stable absolute path. The
	// demo keeps its lock under the temporary directory so that it is
	// self-contained.
	flag.StringVar(&cfg.lock, "lock", filepath.Join(os.TempDir(), "solocron-prefork-demo.lock"), "lock file shared by the children")
	flag.DurationVar(&cfg.demoKill, "demo-kill", 0, "SIGKILL the leading child once, after this delay (0: never)")
	flag.DurationVar(&cfg.duration, "duration", 0, "stop after this long (0: run until SIGINT or SIGTERM)")
	flag.Parse()

	err := cfg.validate()
	if err == nil {
		if index, ok := os.LookupEnv(childEnv); ok {
			err = runChild(index, cfg)
		} else {
			err = runParent(cfg)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "prefork:", err)
		os.Exit(1)
	}
}

func (c config) validate() error {
	switch {
	case c.children < 1:
		return fmt.Errorf("-children is %d; it must be at least 1", c.children)
	case c.demoKill < 0 || c.duration < 0:
		return errors.New("-demo-kill and -duration must not be negative")
	case c.lock == "":
		return errors.New("-lock is empty")
	}
	return nil
}
