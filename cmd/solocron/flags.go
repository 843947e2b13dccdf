package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// flags is one command's flag set: the store flags and its own. Its usage
// text is written by hand, to group the store flags apart.
type flags struct {
	*flag.FlagSet
	command string // "status", "ledger repair"
	usage   string
	store   storeFlags
}

// newFlags returns the flag set of a command that opens the store.
func newFlags(command, usage string) *flags {
	f := newPlainFlags(command, usage)
	f.store.register(f.FlagSet)
	return f
}

// newPlainFlags returns the flag set of a command without the store flags.
func newPlainFlags(command, usage string) *flags {
	f := &flags{FlagSet: flag.NewFlagSet(command, flag.ContinueOnError), command: command, usage: usage}
	f.SetOutput(io.Discard) // parse's errors carry the message; -h prints usage
	return f
}

// parse parses args, whose flags and arguments may come in any order (the
// flag package alone stops at the first argument: "pause JOB --lock P"
// would take --lock as a second argument); "--" ends the flags. It
// returns the arguments, wanting exactly nargs of them.
func (f *flags) parse(args []string, nargs int) ([]string, error) {
	return f.parseRange(args, nargs, nargs)
}

// parseRange is parse wanting from least to most arguments.
func (f *flags) parseRange(args []string, least, most int) ([]string, error) {
	var positional []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{text: f.usage}
			}
			return nil, f.usageErr(err)
		}
		rest := f.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if len(positional) < least || len(positional) > most {
		switch {
		case most == 0:
			return nil, f.usageErr(fmt.Errorf("%s takes no arguments, got %q", f.command, positional))
		case len(positional) < least:
			return nil, f.usageErr(fmt.Errorf("%s: name the job", f.command))
		default:
			return nil, f.usageErr(fmt.Errorf("%s takes one job, got %q", f.command, positional))
		}
	}
	return positional, nil
}

func (f *flags) usageErr(err error) error { return &usageError{command: f.command, err: err} }
