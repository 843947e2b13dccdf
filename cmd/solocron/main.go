// Command solocron shows and steers the jobs of an application scheduled
// with solocron, through the store its processes share (the file lock,
// PostgreSQL or Redis), from any shell that reaches it: who leads, each
// job's last and next run, pause and resume, request a run, and check and
// repair the ledger. It needs no process of the application to answer.
// See README.md, and solocron -h.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// Exit statuses, documented in usage and README.md.
const (
	exitOK          = 0 // done; status: healthy
	exitProblem     = 1 // status: nobody leads or a job is overdue; ledger check: problems; a command that failed
	exitUsage       = 2 // the command line is wrong
	exitUnreachable = 3 // the store cannot be reached or read
)

const usage = `usage: solocron COMMAND [flags] <store> [JOB]

Shows and steers the jobs of an application scheduled with solocron,
through the store its processes share. It works from any shell that
reaches the store, whether a process of the application leads or not.

Commands (each but version takes <store>):
  status [--json] [--grace D]   who leads, and each job's last and next run
  pause JOB                     the leader skips the job's ticks until resumed
  resume JOB                    the job runs on its schedule again
  run [--wait D] JOB            ask the leader for a run of the job now
  ledger check                  list ledger records claimed ahead of now, or
                                a ledger that cannot be read
  ledger repair JOB             reset a record claimed ahead of now, while no
                                process leads
  version                       print the command's version

` + storeUsage + `
` + exitUsageText + `
Run 'solocron COMMAND -h' for a command's details. Flags and arguments may
come in any order; '--' ends the flags.
`

const exitUsageText = `Exit status:
  0  done; status: a process leads and no job is overdue
  1  status: nobody leads, or a job is overdue; ledger check: it found
     problems; run --wait: the run failed or did not finish in time;
     ledger repair: refused or failed
  2  usage error
  3  the store cannot be reached or read
`

// commands by name; "ledger" dispatches to its own.
var commands = map[string]func(ctx context.Context, o *output, args []string) error{
	"status":  cmdStatus,
	"pause":   cmdPause,
	"resume":  cmdResume,
	"run":     cmdRun,
	"ledger":  cmdLedger,
	"version": cmdVersion,
}

// output is where a command writes: results to out, warnings to err.
type output struct {
	out, err io.Writer
	now      func() time.Time
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, &output{out: os.Stdout, err: os.Stderr, now: time.Now}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs the command line and returns the exit status.
func run(ctx context.Context, o *output, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(o.err, usage)
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" {
		fmt.Fprint(o.out, usage)
		return exitOK
	}
	if name == "help" {
		return report(o, help(ctx, o, args[1:]))
	}
	cmd := commands[name]
	if cmd == nil {
		return report(o, &usageError{err: fmt.Errorf("unknown command %q", name)})
	}
	return report(o, cmd(ctx, o, args[1:]))
}

// report prints a command's error and returns its exit status.
func report(o *output, err error) int {
	var help *helpRequest
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &help):
		fmt.Fprint(o.out, help.text)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(o.err, "solocron: %v\n", ue.err)
		if ue.command != "" {
			fmt.Fprintf(o.err, "Run 'solocron %s -h' for usage.\n", ue.command)
		} else {
			fmt.Fprintln(o.err, "Run 'solocron -h' for usage.")
		}
		return exitUsage
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintf(o.err, "solocron: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(o.err, "solocron: %v\n", err)
	return exitProblem
}

// helpRequest is -h: the text goes to standard output, and the exit
// status is 0.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return "help requested" }

// usageError is a wrong command line: exit status 2.
type usageError struct {
	command string // the command whose usage to point to; "" for the main one
	err     error
}

func (u *usageError) Error() string { return u.err.Error() }

// exitError ends with code; err, if any, is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// unreachable is a store that cannot be reached or read: exit status 3.
func unreachable(err error) error { return &exitError{code: exitUnreachable, err: err} }

// problem is exit status 1, with err printed if not nil.
func problem(err error) error { return &exitError{code: exitProblem, err: err} }

// help is "solocron help [COMMAND...]", the same as -h.
func help(ctx context.Context, o *output, args []string) error {
	if len(args) == 0 {
		return &helpRequest{text: usage}
	}
	cmd := commands[args[0]]
	if cmd == nil {
		return &usageError{err: fmt.Errorf("unknown command %q", args[0])}
	}
	return cmd(ctx, o, append(args[1:len(args):len(args)], "-h"))
}
